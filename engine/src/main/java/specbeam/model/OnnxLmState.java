package specbeam.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.LongBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@link LmState} on ONNX Runtime. The KV cache lives in direct, native-order buffers of fixed capacity that
 * are handed to ONNX Runtime as the {@code past} inputs without a copy; the graph returns only the new
 * tokens' keys/values, into pinned output buffers, and those few entries are copied into their slots.
 * Rollback is a length change; beam reordering and tree-path gathering move only the rows/slots concerned.
 */
final class OnnxLmState implements LmState {
    private final OnnxCausalLm model;
    private final ModelManifest m;
    private final OnnxCausalLm.OrtTimer timer;
    private final int rows;
    private final int capacity;
    private final int kvHeads;
    private final int headDim;
    private final int vocab;
    private final int layers;
    private final float maskMin;

    private final FloatBuffer[] keys;          // per layer: (rows, kv_heads, capacity, head_dim)
    private final FloatBuffer[] values;        // per layer: (rows, kv_heads, capacity, head_dim)
    private FloatBuffer[] scratchKeys;         // per layer: like keys, only rows being overwritten are used
    private FloatBuffer[] scratchValues;       // per layer: like values
    private final OnnxTensor[] pastKeyTensors; // per layer: views of keys for all rows
    private final OnnxTensor[] pastValueTensors;
    private final int[] length;                // per row: committed tokens
    private final int[] pending;               // per row: pending-tree nodes (slots length..length+pending)
    private final int[][] pendingParent;       // per row, per pending node: parent pending index or -1
    private final int[][] pendingDepth;        // per row, per pending node: depth below the prefix (0-based)
    private final long[][] slotContent;        // (rows, capacity): id of the KV entry held by each slot, so that
                                               // reordering copies only where rows differ (beams share prefixes)
    private long nextContent = 1;

    private int maxQ;                          // q the scratch buffers below are sized for
    private LongBuffer inputIds;               // (rows, maxQ)
    private LongBuffer positionIds;            // (rows, maxQ)
    private FloatBuffer mask;                  // (rows, 1, maxQ, capacity + maxQ)
    private FloatBuffer logits;                // (rows, maxQ, vocab)
    private FloatBuffer[] presentKeys;         // per layer: (rows, kv_heads, maxQ, head_dim)
    private FloatBuffer[] presentValues;       // per layer: (rows, kv_heads, maxQ, head_dim)
    private float[] hiddenRow;                 // (capacity + maxQ) of mask_min
    private final float[] zeros;               // (capacity) of 0
    private boolean closed;
    private final Map<Long, Bindings> bindings = new HashMap<>();   // per (firstRow, rows, q): tensor views

    OnnxLmState(OnnxCausalLm model, int rows, int capacity, OnnxCausalLm.OrtTimer timer) {
        this.model = model;
        this.m = model.manifest();
        this.timer = timer;
        this.rows = rows;
        this.capacity = capacity;
        this.kvHeads = m.numKvHeads();
        this.headDim = m.headDim();
        this.vocab = m.vocabSize();
        this.layers = m.numLayers();
        this.maskMin = (float) m.maskMin();
        this.keys = new FloatBuffer[layers];
        this.values = new FloatBuffer[layers];
        this.pastKeyTensors = new OnnxTensor[layers];
        this.pastValueTensors = new OnnxTensor[layers];
        this.length = new int[rows];
        this.pending = new int[rows];
        this.pendingParent = new int[rows][capacity];
        this.pendingDepth = new int[rows][capacity];
        this.slotContent = new long[rows][capacity];
        this.zeros = new float[capacity];
        long[] shape = {rows, kvHeads, capacity, headDim};
        try {
            for (int l = 0; l < layers; l++) {
                keys[l] = floats((long) rows * kvHeads * capacity * headDim);
                values[l] = floats((long) rows * kvHeads * capacity * headDim);
                pastKeyTensors[l] = wrap(keys[l], shape);
                pastValueTensors[l] = wrap(values[l], shape);
            }
        } catch (OrtException e) {
            close();
            throw new IllegalStateException("cannot wrap the KV cache for ONNX Runtime", e);
        }
        ensureQ(8);
    }

    private static FloatBuffer floats(long count) {
        if (count > Integer.MAX_VALUE / 4) {
            throw new IllegalArgumentException("buffer of " + count + " floats is too large; use fewer rows or a shorter generation");
        }
        return ByteBuffer.allocateDirect((int) count * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    private static LongBuffer longs(int count) {
        return ByteBuffer.allocateDirect(count * 8).order(ByteOrder.nativeOrder()).asLongBuffer();
    }

    /** Wraps a direct buffer as a tensor without copying it. */
    private OnnxTensor wrap(FloatBuffer buffer, long[] shape) throws OrtException {
        OnnxTensor t = OnnxTensor.createTensor(model.env(), buffer, shape);
        if (t.ownsBuffer()) {
            t.close();
            throw new IllegalStateException("ONNX Runtime copied a direct buffer; zero-copy input is broken");
        }
        return t;
    }

    private static FloatBuffer slice(FloatBuffer b, int offset, int count) {
        return b.slice(offset, count);
    }

    private static LongBuffer slice(LongBuffer b, int offset, int count) {
        return b.slice(offset, count);
    }

    private void ensureQ(int q) {
        if (q <= maxQ) {
            return;
        }
        int newQ = Math.max(q, maxQ * 2);
        if ((long) rows * newQ * (capacity + newQ) > Integer.MAX_VALUE / 4) {
            newQ = q;
        }
        maxQ = newQ;
        bindings.values().forEach(Bindings::close);
        bindings.clear();
        inputIds = longs(rows * maxQ);
        positionIds = longs(rows * maxQ);
        mask = floats((long) rows * maxQ * (capacity + maxQ));
        logits = floats((long) rows * maxQ * vocab);
        presentKeys = new FloatBuffer[layers];
        presentValues = new FloatBuffer[layers];
        for (int l = 0; l < layers; l++) {
            presentKeys[l] = floats((long) rows * kvHeads * maxQ * headDim);
            presentValues[l] = floats((long) rows * kvHeads * maxQ * headDim);
        }
        hiddenRow = new float[capacity + maxQ];
        Arrays.fill(hiddenRow, maskMin);
    }

    @Override
    public ModelManifest manifest() {
        return m;
    }

    @Override
    public int rows() {
        return rows;
    }

    @Override
    public int capacity() {
        return capacity;
    }

    @Override
    public int length(int row) {
        return length[row];
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
        Bindings b = bindings(firstRow, n, q);
        long start = System.nanoTime();
        try (OrtSession.Result ignored = model.session().run(b.inputs, java.util.Collections.emptySet(), b.pinned)) {
            timer.ortNanos(System.nanoTime() - start, fed);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on a forward of " + n + "x" + q + " tokens: " + e.getMessage(), e);
        }
        appendPresent(firstRow, tokens, q);
        return new View(firstRow, q);
    }

    /** Input and pinned-output tensors viewing this state's buffers for one call shape. */
    private static final class Bindings {
        final Map<String, OnnxTensor> inputs = new HashMap<>();
        final Map<String, OnnxValue> pinned = new HashMap<>();
        final List<OnnxTensor> owned = new ArrayList<>();

        OnnxTensor own(OnnxTensor t) {
            owned.add(t);
            return t;
        }

        void close() {
            owned.forEach(OnnxTensor::close);
        }
    }

    /** The tensors for a call shape, created once and reused (they view the same native buffers). */
    private Bindings bindings(int firstRow, int n, int q) {
        long key = ((long) firstRow << 40) | ((long) n << 20) | q;
        Bindings cached = bindings.get(key);
        if (cached != null) {
            return cached;
        }
        Bindings b = new Bindings();
        try {
            b.inputs.put(m.inputs().get("input_ids"), b.own(OnnxTensor.createTensor(model.env(), slice(inputIds, 0, n * q), new long[] {n, q})));
            b.inputs.put(m.inputs().get("position_ids"), b.own(OnnxTensor.createTensor(model.env(), slice(positionIds, 0, n * q), new long[] {n, q})));
            b.inputs.put(m.inputs().get("attention_mask"), b.own(wrap(slice(mask, 0, n * q * (capacity + q)), new long[] {n, 1, q, capacity + q})));
            boolean allRows = firstRow == 0 && n == rows;
            int rowFloats = kvHeads * capacity * headDim;
            long[] pastShape = {n, kvHeads, capacity, headDim};
            for (int l = 0; l < layers; l++) {
                b.inputs.put(m.inputName("past_key", l), allRows ? pastKeyTensors[l]
                        : b.own(wrap(slice(keys[l], firstRow * rowFloats, n * rowFloats), pastShape)));
                b.inputs.put(m.inputName("past_value", l), allRows ? pastValueTensors[l]
                        : b.own(wrap(slice(values[l], firstRow * rowFloats, n * rowFloats), pastShape)));
            }
            b.pinned.put(m.outputs().get("logits"), b.own(wrap(slice(logits, 0, n * q * vocab), new long[] {n, q, vocab})));
            long[] presentShape = {n, kvHeads, q, headDim};
            int presentFloats = n * kvHeads * q * headDim;
            for (int l = 0; l < layers; l++) {
                b.pinned.put(m.outputName("present_key", l), b.own(wrap(slice(presentKeys[l], 0, presentFloats), presentShape)));
                b.pinned.put(m.outputName("present_value", l), b.own(wrap(slice(presentValues[l], 0, presentFloats), presentShape)));
            }
        } catch (OrtException e) {
            b.close();
            throw new IllegalStateException("cannot create ONNX Runtime tensors over the state's buffers", e);
        }
        bindings.put(key, b);
        return b;
    }

    /** Fills input_ids, position_ids and the tree mask for rows firstRow.. ; returns real tokens fed. */
    private int fillInputs(int firstRow, int[][] tokens, int[][] parents, int q) {
        int width = capacity + q;
        int filler = m.fillerTokenId();
        int fed = 0;
        for (int i = 0; i < tokens.length; i++) {
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
                mask.put(base, hiddenRow, 0, width);
                mask.put(base, zeros, 0, len);
                if (j >= count) {   // padding: sees the prefix and itself, result ignored
                    inputIds.put(at, filler);
                    positionIds.put(at, Math.min(len, m.maxPositions() - 1));
                    mask.put(base + capacity + j, 0f);
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
                positionIds.put(at, Math.min(len + depthOf[self], m.maxPositions() - 1));
                for (int a = self; a >= 0; a = parentOf[a]) {
                    mask.put(a >= before ? base + capacity + (a - before) : base + len + a, 0f);
                }
            }
        }
        return fed;
    }

    /** Copies the new tokens' keys/values into their cache slots (after each row's prefix). */
    private void appendPresent(int firstRow, int[][] tokens, int q) {
        long floatsMoved = 0;
        for (int i = 0; i < tokens.length; i++) {
            int row = firstRow + i;
            int count = tokens[i].length;
            int first = length[row] + pending[row];
            pending[row] += count;
            if (count == 0) {
                continue;
            }
            for (int j = 0; j < count; j++) {
                slotContent[row][first + j] = nextContent++;
            }
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < kvHeads; h++) {
                    int src = (i * kvHeads + h) * q * headDim;
                    int dst = ((row * kvHeads + h) * capacity + first) * headDim;
                    keys[l].put(dst, presentKeys[l], src, count * headDim);
                    values[l].put(dst, presentValues[l], src, count * headDim);
                }
            }
            floatsMoved += 2L * layers * kvHeads * count * headDim;
        }
        timer.kvBytes(floatsMoved * 4);
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
            for (int l = 0; l < layers; l++) {
                for (int h = 0; h < kvHeads; h++) {
                    int base = (row * kvHeads + h) * capacity;
                    keys[l].put((base + dst) * headDim, keys[l], (base + src) * headDim, headDim);
                    values[l].put((base + dst) * headDim, values[l], (base + src) * headDim, headDim);
                }
            }
            floatsMoved += 2L * layers * kvHeads * headDim;
        }
        length[row] = len + nodes.length;
        pending[row] = 0;
        timer.kvBytes(floatsMoved * 4);
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
                if (scratchKeys == null) {
                    scratchKeys = new FloatBuffer[layers];
                    scratchValues = new FloatBuffer[layers];
                    for (int l = 0; l < layers; l++) {
                        scratchKeys[l] = floats((long) rows * kvHeads * capacity * headDim);
                        scratchValues[l] = floats((long) rows * kvHeads * capacity * headDim);
                    }
                }
                floatsMoved += copyRow(keys, values, src, scratchKeys, scratchValues, src, 0, length[src] + pending[src]);
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
                floatsMoved += copyRow(scratchKeys, scratchValues, src, keys, values, i, from, slots);
            } else {
                floatsMoved += copyRow(keys, values, src, keys, values, i, from, slots);
            }
            System.arraycopy(want, from, slotContent[i], from, slots - from);
            length[i] = oldLength[src];
            pending[i] = oldPending[src];
            System.arraycopy(oldParent[src], 0, pendingParent[i], 0, oldPending[src]);
            System.arraycopy(oldDepth[src], 0, pendingDepth[i], 0, oldPending[src]);
        }
        timer.kvBytes(floatsMoved * 4);
    }

    /** Copies slots {@code from .. to-1} of one row to another (same or other buffers). */
    private long copyRow(FloatBuffer[] fromK, FloatBuffer[] fromV, int fromRow, FloatBuffer[] toK, FloatBuffer[] toV,
                         int toRow, int from, int to) {
        int slots = to - from;
        if (slots <= 0) {
            return 0;
        }
        for (int l = 0; l < layers; l++) {
            for (int h = 0; h < kvHeads; h++) {
                int src = ((fromRow * kvHeads + h) * capacity + from) * headDim;
                int dst = ((toRow * kvHeads + h) * capacity + from) * headDim;
                toK[l].put(dst, fromK[l], src, slots * headDim);
                toV[l].put(dst, fromV[l], src, slots * headDim);
            }
        }
        return 2L * layers * kvHeads * slots * headDim;
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

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        bindings.values().forEach(Bindings::close);
        bindings.clear();
        for (int l = 0; l < layers; l++) {
            if (pastKeyTensors[l] != null) {
                pastKeyTensors[l].close();
            }
            if (pastValueTensors[l] != null) {
                pastValueTensors[l].close();
            }
        }
    }

    /** Logits of one forward, read in place from the pinned output buffer. */
    private final class View implements Logits {
        private final int firstRow;
        private final int q;

        View(int firstRow, int q) {
            this.firstRow = firstRow;
            this.q = q;
        }

        @Override
        public int vocab() {
            return vocab;
        }

        @Override
        public float get(int row, int node, int token) {
            return logits.get(((row - firstRow) * q + node) * vocab + token);
        }

        @Override
        public void copy(int row, int node, float[] dst) {
            logits.get(((row - firstRow) * q + node) * vocab, dst, 0, vocab);
        }
    }
}
