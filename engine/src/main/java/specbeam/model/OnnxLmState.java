package specbeam.model;

import java.nio.FloatBuffer;
import java.util.Arrays;

/**
 * {@link LmState} on ONNX Runtime, one cache row per sequence ({@link OnnxCacheState} holds the buffers). A
 * row's nodes take the slots right after its prefix and pending nodes, in call order: the in-place graph writes
 * them there itself, and after a call on {@code model.onnx} the new tokens' keys/values are copied there from
 * its outputs. Rollback is a length change; row reordering and tree-path gathering move only the rows/slots
 * concerned.
 */
final class OnnxLmState extends OnnxCacheState implements LmState {
    private KvRegion scratch;                  // like the cache: only rows being overwritten are used
    private final int[] length;                // per row: committed tokens
    private final int[] pending;               // per row: pending-tree nodes (slots length..length+pending)
    private final int[][] pendingParent;       // per row, per pending node: parent pending index or -1
    private final int[][] pendingDepth;        // per row, per pending node: depth below the prefix (0-based)
    private final long[][] slotContent;        // (rows, capacity): id of the KV entry held by each slot, so that
                                               // reordering copies only where rows differ (beams share prefixes)
    private long nextContent = 1;
    private int[] bases = new int[0];          // per row of a call: its first new slot (length + pending)
    private int[] counts = new int[0];         // per row of a call: its new tokens

    OnnxLmState(OnnxCausalLm model, int rows, int capacity, OnnxCausalLm.OrtTimer timer) {
        super(model, rows, capacity, timer);
        this.length = new int[rows];
        this.pending = new int[rows];
        this.pendingParent = new int[rows][capacity];
        this.pendingDepth = new int[rows][capacity];
        this.slotContent = new long[rows][capacity];
    }

    @Override
    public int length(int row) {
        return length[row];
    }

    @Override
    public Logits forwardPrompt(int firstRow, int[][] tokens) {
        keepLogitsFrom(lastTokenFrom(tokens));
        try {
            return forward(firstRow, tokens, null);
        } finally {
            keepLogitsFrom(0);   // a forward that failed before running leaves no setting behind for the next one
        }
    }

    @Override
    public Logits forward(int firstRow, int[][] tokens, int[][] parents) {
        int n = tokens.length;
        if (firstRow < 0 || firstRow + n > rows || n == 0) {
            throw new IllegalArgumentException("rows " + firstRow + ".." + (firstRow + n) + " outside 0.." + rows);
        }
        int q = 1;
        for (int[] t : tokens) {
            q = Math.max(q, t.length);
        }
        ensureQ(q);
        int fed = fillInputs(firstRow, tokens, parents, q);
        Logits out = run(firstRow, n, q, fed);
        appendPresent(firstRow, tokens, q);
        return out;
    }

    /** Fills input_ids, position_ids and the tree mask for rows firstRow.. ; returns real tokens fed. */
    private int fillInputs(int firstRow, int[][] tokens, int[][] parents, int q) {
        if (bases.length < tokens.length) {
            bases = new int[tokens.length];
            counts = new int[tokens.length];
        }
        for (int i = 0; i < tokens.length; i++) {
            bases[i] = length[firstRow + i] + pending[firstRow + i];
            counts[i] = tokens[i].length;
        }
        planCall(tokens.length, q, bases);
        int filler = m.fillerTokenId();
        int fed = 0;
        for (int i = 0; i < tokens.length; i++) {
            int col = newColumn(i);
            int row = firstRow + i;
            int len = length[row];
            int before = pending[row];
            int count = tokens[i].length;
            if (len + before + Math.max(count, 1) > capacity) {
                throw new IllegalStateException("row " + row + " needs " + (len + before + count)
                        + " cache positions, capacity is " + capacity);
            }
            fed += count;
            int[] par = parents == null ? null : parents[i];
            int[] parentOf = pendingParent[row];
            int[] depthOf = pendingDepth[row];
            for (int j = 0; j < q; j++) {
                int at = i * q + j;
                int base = at * width;
                if (j >= count) {   // padding: sees the prefix and itself, result ignored
                    markPadding(mask, base, len, col + j);
                    if (maskSliding != null) {
                        markPadding(maskSliding, base, len, col + j);
                    }
                    inputIds.put(at, filler);
                    positionIds.put(at, Math.min(len, m.maxPositions() - 1));
                    continue;
                }
                int self = before + j;
                int parent = par == null ? self - 1 : par[j];
                if (parent >= self || parent < -1) {
                    throw new IllegalArgumentException("tree node " + self + " of row " + row + " has parent "
                            + parent + ": parents must precede children");
                }
                parentOf[self] = parent;
                depthOf[self] = parent < 0 ? 0 : depthOf[parent] + 1;
                inputIds.put(at, tokens[i][j]);
                int depth = depthOf[self];
                positionIds.put(at, Math.min(len + depth, m.maxPositions() - 1));
                markNode(mask, window, base, len, col, self, before, parentOf, depthOf);
                if (maskSliding != null) {
                    markNode(maskSliding, slidingWindow, base, len, col, self, before, parentOf, depthOf);
                }
            }
        }
        return fed;
    }

    /** A padding node's mask row at {@code base}: the prefix and its own column. */
    private void markPadding(FloatBuffer target, int base, int len, int self) {
        target.put(base, hiddenRow, 0, width);
        target.put(base, zeros, 0, len);
        target.put(base + self, 0f);
    }

    /**
     * Node {@code self}'s mask row at {@code base}: the prefix slots (slot s holds position s) and its ancestors
     * among the pending nodes, those within {@code win} positions (a sliding window; MAX_VALUE for none).
     */
    private void markNode(FloatBuffer target, int win, int base, int len, int col, int self, int before,
                          int[] parentOf, int[] depthOf) {
        target.put(base, hiddenRow, 0, width);
        int depth = depthOf[self];
        int firstSeen = Math.max(0, len + depth - win + 1);
        if (firstSeen < len) {
            target.put(base + firstSeen, zeros, 0, len - firstSeen);
        }
        for (int a = self; a >= 0 && depth - depthOf[a] < win; a = parentOf[a]) {
            target.put(a >= before ? base + col + (a - before) : base + len + a, 0f);
        }
    }

    /** The new tokens join their rows' pending trees (after each row's prefix); their keys/values are put there. */
    private void appendPresent(int firstRow, int[][] tokens, int q) {
        placePresent(firstRow, tokens.length, q, counts);
        long written = 0;
        for (int i = 0; i < tokens.length; i++) {
            int row = firstRow + i;
            int first = length[row] + pending[row];
            for (int j = 0; j < counts[i]; j++) {
                slotContent[row][first + j] = nextContent++;
            }
            pending[row] += counts[i];
            written += counts[i];
        }
        timer.kvBytes(slotBytes(written));   // the new entries, whether ONNX Runtime wrote them in place or we copied
    }

    @Override
    public void commit(int row, int[] nodes) {
        int len = length[row];
        long floatsMoved = 0;
        for (int j = 0; j < nodes.length; j++) {
            if (nodes[j] < j || nodes[j] >= pending[row] || pendingParent[row][nodes[j]] != (j == 0 ? -1 : nodes[j - 1])) {
                throw new IllegalArgumentException("nodes " + Arrays.toString(nodes) + " are not a root path of row "
                        + row + "'s pending tree (" + pending[row] + " nodes)");
            }
            int src = len + nodes[j];
            int dst = len + j;
            if (src == dst) {
                continue;
            }
            slotContent[row][dst] = slotContent[row][src];
            moveSlots(row, src, dst, 1);
            floatsMoved += 2L * layers * kvHeads * kvUnits;
        }
        length[row] = len + nodes.length;
        pending[row] = 0;
        timer.kvBytesMoved(floatsMoved * 4);
    }

    @Override
    public void selectRows(int[] sources) {
        if (sources.length != rows) {
            throw new IllegalArgumentException("selectRows needs " + rows + " sources, got " + sources.length);
        }
        boolean[] overwritten = new boolean[rows];
        boolean any = false;
        for (int i = 0; i < rows; i++) {
            overwritten[i] = sources[i] != i;
            any |= overwritten[i];
        }
        if (!any) {
            return;
        }
        // Rows that are read by another row but overwritten themselves are saved first.
        boolean[] saved = new boolean[rows];
        long floatsMoved = 0;
        for (int i = 0; i < rows; i++) {
            int src = sources[i];
            if (src != i && overwritten[src] && !saved[src]) {
                if (scratch == null) {
                    scratch = region((long) rows * kvHeads * stride * kvUnits, stateLeases, "a copy of the rows being reordered");
                }
                floatsMoved += copyRow(cache, src, scratch, src, 0, length[src] + pending[src]);
                saved[src] = true;
            }
        }
        int[] oldLength = length.clone();
        int[] oldPending = pending.clone();
        long[][] oldContent = new long[rows][];
        for (int r = 0; r < rows; r++) {
            if (overwritten[r] || saved[r]) {
                oldContent[r] = Arrays.copyOf(slotContent[r], oldLength[r] + oldPending[r]);
            }
        }
        int[][] oldParent = new int[rows][];
        int[][] oldDepth = new int[rows][];
        for (int r = 0; r < rows; r++) {
            oldParent[r] = Arrays.copyOf(pendingParent[r], pending[r]);
            oldDepth[r] = Arrays.copyOf(pendingDepth[r], pending[r]);
        }
        for (int i = 0; i < rows; i++) {
            int src = sources[i];
            if (src == i) {
                continue;
            }
            int slots = oldLength[src] + oldPending[src];
            long[] want = oldContent[src] != null ? oldContent[src] : slotContent[src];
            int from = 0;   // the destination already holds the entries both rows share
            while (from < slots && from < oldLength[i] + oldPending[i] && slotContent[i][from] == want[from]) {
                from++;
            }
            if (saved[src]) {
                floatsMoved += copyRow(scratch, src, cache, i, from, slots);
            } else {
                floatsMoved += copyRow(cache, src, cache, i, from, slots);
            }
            System.arraycopy(want, from, slotContent[i], from, slots - from);
            length[i] = oldLength[src];
            pending[i] = oldPending[src];
            System.arraycopy(oldParent[src], 0, pendingParent[i], 0, oldPending[src]);
            System.arraycopy(oldDepth[src], 0, pendingDepth[i], 0, oldPending[src]);
        }
        timer.kvBytesMoved(floatsMoved * 4);
    }

    /** Copies slots {@code from .. to-1} of one row to another (same or other buffers). */
    private long copyRow(KvRegion fromRegion, int fromRow, KvRegion toRegion, int toRow, int from, int to) {
        int slots = to - from;
        if (slots <= 0) {
            return 0;
        }
        for (int h = 0; h < kvHeads; h++) {
            int src = ((fromRow * kvHeads + h) * stride + from) * kvUnits;
            int dst = ((toRow * kvHeads + h) * stride + from) * kvUnits;
            copyKv(fromRegion, src, toRegion, dst, slots * kvUnits);
        }
        return 2L * layers * kvHeads * slots * kvUnits;
    }

    @Override
    public int pendingCount(int row) {
        return pending[row];
    }

    @Override
    public void truncate(int row, int newLength) {
        if (newLength < 0) {
            throw new IllegalArgumentException("length must be >= 0");
        }
        length[row] = Math.min(length[row], newLength);
        pending[row] = 0;
    }

}
