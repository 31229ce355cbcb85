package specbeam.model;

/**
 * The decoding state of one model for the beam modes: <b>one cache row per prompt holding a token tree</b> —
 * the prompt once, then every beam's tokens as branches, and a round's draft or verification tree below them.
 * A forward feeds exactly the new nodes of each row; a node sees its ancestors only (tree mask) and sits at
 * position = its depth. Choosing new beams moves no KV bytes: a beam is just a node whose root path is the
 * beam's sequence, and {@link #retain} says which nodes are still wanted. A dropped node's slot is reused in
 * place by the next new node (its keys/values are written there instead of at the end), so the tree compacts
 * itself without moving a live entry; the cache grows only when live nodes fill it, up to a hard limit.
 *
 * <p>Nodes are named by ids that stay valid while the node is retained: in a call to {@link #forward}, node
 * {@code j} of row {@code r} gets id {@code nextId(r) + j} (as read before the call).
 */
public interface TreeState extends AutoCloseable {

    ModelManifest manifest();

    /** Rows (prompts). */
    int rows();

    /** Cache slots per row at present. */
    int capacity();

    /** The most slots per row the cache may grow to. */
    int maxCapacity();

    /** The id the next new node of the row gets. */
    int nextId(int row);

    /** Slots of the row that hold retained nodes. */
    int liveSlots(int row);

    /** Slots of the row in use: retained nodes plus dropped ones not compacted away yet. */
    int usedSlots(int row);

    /** Depth of a node below the row's root (its position id). */
    int depth(int row, int id);

    /**
     * Runs the model once over every row.
     *
     * @param tokens  per row, the new nodes' tokens (an empty array leaves the row idle)
     * @param parents per row, each node's parent id: a retained node of the row, a node of this call given
     *                earlier, or -1 for a root (the first token of a prompt)
     * @return logits per row and node of this call (node {@code j} counts from 0 in each row), valid until the
     *         next forward
     */
    LmState.Logits forward(int[][] tokens, int[][] parents);

    /**
     * {@link #forward} of a prompt into fresh rows (nothing fed yet): each row's tokens as a chain from a root.
     * Only the logits after each row's last token are sure to be kept (see {@link LmState#forwardPrompt}).
     */
    default LmState.Logits forwardPrompt(int[][] tokens) {
        int[][] parents = new int[tokens.length][];
        for (int r = 0; r < tokens.length; r++) {
            if (nextId(r) != 0) {
                throw new IllegalStateException("row " + r + " has nodes already: a prompt goes into a fresh row");
            }
            parents[r] = new int[tokens[r].length];
            for (int j = 0; j < parents[r].length; j++) {
                parents[r][j] = j - 1;
            }
        }
        return forward(tokens, parents);
    }

    /**
     * Keeps the given nodes and their ancestors; every other node of the row is dropped (its id becomes invalid
     * and its slot free for reuse).
     */
    void retain(int row, int[] ids);

    @Override
    void close();
}
