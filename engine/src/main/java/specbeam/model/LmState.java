package specbeam.model;

/**
 * The decoding state of one model over a fixed set of rows (prompts, or prompts times beams): the KV
 * cache plus the scratch buffers of a forward pass. All strategies drive models through this interface;
 * tests drive it with a fake model of fixed logits.
 *
 * <p>Each row holds a committed prefix of {@link #length(int)} tokens and a <em>pending tree</em> of
 * {@link #pendingCount(int)} nodes whose KV entries exist but are not part of the prefix yet. {@link #forward}
 * adds nodes to the pending tree: node {@code j} of a call gets the pending index {@code pendingCount + j};
 * its parent is {@code -1} (hangs off the prefix) or the pending index of an earlier node (of this or an
 * earlier call). A node sees the prefix and its own ancestors only and sits at position
 * {@code length(row) + depth}. {@link #commit} appends one root-to-node path of pending nodes to the prefix
 * and clears the pending tree; {@link #truncate} rolls the prefix back.
 */
public interface LmState extends AutoCloseable {

    ModelManifest manifest();

    int rows();

    /** Positions the cache can hold per row. */
    int capacity();

    /** Committed tokens of a row. */
    int length(int row);

    /**
     * Runs the model once over rows {@code firstRow .. firstRow + tokens.length - 1}.
     *
     * @param tokens  per row, the new tokens (an empty array leaves the row idle)
     * @param parents per row, the pending index of each node's parent, or -1; parents precede children.
     *                {@code null} means a chain continuing the row's last pending node (or the prefix)
     * @return logits per row and node of this call ({@code node} counts from 0 in each call), valid until
     *         the next forward
     */
    Logits forward(int firstRow, int[][] tokens, int[][] parents);

    /**
     * {@link #forward} of a prompt: each row's tokens as a chain. Only the logits after each row's last token
     * are sure to be kept (a state may skip the others: at a large vocabulary they are most of a long prompt's
     * cost and memory); node {@code tokens[i].length - 1} addresses them as in {@code forward}.
     */
    default Logits forwardPrompt(int firstRow, int[][] tokens) {
        return forward(firstRow, tokens, null);
    }

    /** Pending nodes of a row. */
    int pendingCount(int row);

    /** Appends pending nodes {@code nodes[0], nodes[1], ...} (a root-to-node path, in order) to the row's prefix. */
    void commit(int row, int[] nodes);

    /** Forgets the row's pending tree. */
    default void discardPending(int row) {
        commit(row, new int[0]);
    }

    /** Row {@code i} becomes a copy of row {@code sources[i]} (prefix and pending nodes), for every row. */
    void selectRows(int[] sources);

    /** Drops the row's prefix beyond {@code length} tokens (rolls back rejected tokens). */
    void truncate(int row, int length);

    @Override
    void close();

    /** Logits of the last forward: {@code [rows, q, vocab]}. */
    interface Logits {
        int vocab();

        float get(int row, int node, int token);

        /** Copies the vocabulary-sized logit vector of one node into {@code dst}. */
        void copy(int row, int node, float[] dst);
    }
}
