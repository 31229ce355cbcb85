package specbeam.model;

import ai.onnxruntime.OnnxJavaType;
import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxValue;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import com.sun.jna.Pointer;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.IntBuffer;
import java.nio.LongBuffer;
import java.nio.ShortBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * What the ONNX Runtime decoding states share: a KV cache of {@code rows} rows of {@link #capacity} slots in
 * direct, native-order buffers handed to ONNX Runtime as the {@code past} inputs without a copy, or on the bound
 * cache ({@link KvBackend#BOUND}, {@link BoundKv}) in ONNX Runtime's memory behind one IoBinding per call shape;
 * the scratch inputs of a forward (ids, positions, additive mask); the pinned outputs (logits and the new tokens'
 * keys/values); and the tensors over those buffers, created once per call shape. Subclasses decide which
 * slot each node sees (the mask) and where its keys/values go.
 *
 * <p>Two graphs can run a forward. {@code model.onnx} takes the whole cache as past and returns the new tokens'
 * keys/values, which are then copied into their slots. The in-place graph ({@link OnnxCausalLm#inplaceSession()},
 * where the model has one) reads and writes the cache buffer itself: each row's new tokens land in the
 * consecutive slots {@code base[row] ..} that the subclass chose, and attention covers only the first
 * {@code max(base) + q} slots, not the whole capacity. ONNX Runtime's GroupQueryAttention takes one row when
 * several new tokens follow a past, so a call of several rows and several tokens (batched trees and beams)
 * runs on {@code model.onnx} and its keys/values are copied to the same slots: where a node lands never
 * depends on the graph. {@link #newColumn} and {@link #width} say where the mask addresses a call's nodes.
 *
 * <p>Where the graphs take {@code logits_from} (models/logits_from.py), a call can keep the logits of its last
 * positions only ({@link #keepLogitsFrom}): a prompt's forward then returns one row of logits per sequence
 * instead of one per prompt token, so the logits buffer is sized by the nodes a strategy reads, not by the
 * prompt.
 */
abstract class OnnxCacheState implements AutoCloseable {
    final OnnxCausalLm model;
    final ModelManifest m;
    final OnnxCausalLm.OrtTimer timer;
    final int rows;
    final int kvHeads;
    final int headDim;
    final boolean halfKv;                // a float16 graph: keys/values are half precision (FORMAT.md "Half precision")
    final int kvUnits;                   // 4-byte units per key or value vector: head_dim, or head_dim / 2 in half
    final int vocab;
    final int layers;
    final float maskMin;
    final int window;                    // mask: a node at position p sees keys at positions > p - window
    final int slidingWindow;             // maskSliding: the same for the sliding layers of a mixed model
    final boolean logitsFromInput;       // the graphs take logits_from: a call may keep its last positions only

    final boolean inplace;               // the model has an in-place graph: rows get one spare slot (stride)
    int capacity;                        // slots per row that nodes may use
    int stride;                          // slots per row in the buffers below: capacity, + 1 spare in place (an
                                         // idle row of a one-token batch call still gets its slot written)
    final BoundKv bound;                 // the bound cache (keys/values in ONNX Runtime memory, IoBinding), or null
    KvRegion cache;                      // per layer keys and values: (rows, kv_heads, stride, head_dim)
    KvRegion present;                    // per layer a forward's new keys and values: (rows, kv_heads, maxQ, head_dim)
    private OnnxTensor[] pastKeyTensors; // per layer: views of keys for all rows (direct buffers only)
    private OnnxTensor[] pastValueTensors;

    int maxQ;                            // q the scratch buffers below are sized for
    LongBuffer inputIds;                 // (rows, maxQ)
    LongBuffer positionIds;              // (rows, maxQ)
    FloatBuffer mask;                    // (rows, 1, maxQ, width <= stride + maxQ)
    FloatBuffer maskSliding;             // the same for the sliding layers' input of a mixed model, else null
    private final String slidingMaskInput;   // that input's name, or null
    int maxKept;                         // logits positions per row the logits buffer is sized for
    FloatBuffer logits;                  // (rows, maxKept, vocab)
    float[] hiddenRow;                   // (stride + maxQ) of mask_min
    float[] zeros;                       // (capacity) of 0
    private IntBuffer seqlens;           // (rows): in place, per row of a call the last slot written
    private IntBuffer totalLength;       // (1): in place, slots attention covers
    boolean callInplace;                 // the call being prepared runs the in-place graph
    int width;                           // ... and its mask has this many columns
    private int[] callBase;              // ... and row i's new node j goes to slot callBase[i] + j
    private int callLogitsFrom;          // ... and returns the logits of its positions callLogitsFrom .. q-1
    private boolean closed;
    private final Map<BindingKey, Bindings> bindings = new HashMap<>();   // per call shape: tensor views
    private final List<ByteBuffer> cacheLeases = new ArrayList<>();     // pooled buffers of keys and values
    private final List<ByteBuffer> scratchLeases = new ArrayList<>();   // ... of the scratch inputs and outputs
    private final List<ByteBuffer> logitsLeases = new ArrayList<>();    // ... of the logits
    final List<ByteBuffer> stateLeases = new ArrayList<>();             // ... held until close (subclasses)
    private final List<BoundKv.Block> heldBlocks = new ArrayList<>();  // bound: the blocks this state holds

    OnnxCacheState(OnnxCausalLm model, int rows, int capacity, OnnxCausalLm.OrtTimer timer) {
        this.model = model;
        this.m = model.manifest();
        this.timer = timer;
        this.rows = rows;
        this.kvHeads = m.numKvHeads();
        this.headDim = m.headDim();
        this.halfKv = m.halfPrecision();
        this.kvUnits = halfKv ? headDim / 2 : headDim;   // the buffers below count 4-byte units; a half graph's
                                                         // keys/values are copied two halves at a time
        this.vocab = m.vocabSize();
        this.layers = m.numLayers();
        this.maskMin = (float) m.maskMin();
        this.slidingMaskInput = m.inputs().get(ModelManifest.SLIDING_MASK);
        this.window = slidingMaskInput != null ? Integer.MAX_VALUE : m.attentionWindow();
        this.slidingWindow = m.attentionWindow();
        this.logitsFromInput = m.inputs().containsKey("logits_from");
        this.inplace = model.inplaceSession() != null;
        this.callBase = new int[rows];
        this.bound = model.kvBackend() == KvBackend.BOUND ? model.boundKv() : null;
        try {
            allocateCache(capacity);
            ensureQ(8);
            ensureKept(8);
        } catch (RuntimeException e) {   // a limit passed: hand back what was taken
            close();
            throw e;
        }
        if (inplace) {
            seqlens = ints(rows, stateLeases);
            totalLength = ints(1, stateLeases);
        }
    }

    /**
     * Chooses the graph of a call over {@code n} rows whose row {@code i} gets its new nodes in slots
     * {@code base[i] ..}: the in-place one where GroupQueryAttention allows it (one row, one token per row, or a
     * prefill with nothing before), else {@code model.onnx}. Sets {@link #width}; columns of the mask then come
     * from {@link #newColumn}.
     */
    final void planCall(int n, int q, int[] base) {
        boolean noPast = true;
        int top = 0;
        for (int i = 0; i < n; i++) {
            callBase[i] = base[i];
            noPast &= base[i] == 0;
            top = Math.max(top, base[i]);
        }
        callInplace = inplace && (n == 1 || q == 1 || noPast) && top + q <= stride;
        width = callInplace ? top + q : stride + q;
    }

    /**
     * The next call returns the logits of positions {@code from .. q-1} of each row only (node {@code j} of the
     * returned logits is still position {@code j}); a graph without {@code logits_from} returns them all. Reset
     * by every call.
     */
    final void keepLogitsFrom(int from) {
        callLogitsFrom = logitsFromInput ? Math.max(0, from) : 0;
    }

    /** The earliest last token among the rows of a prompt's forward (rows without tokens left out). */
    static int lastTokenFrom(int[][] tokens) {
        int from = Integer.MAX_VALUE;
        for (int[] t : tokens) {
            if (t.length > 0) {
                from = Math.min(from, t.length - 1);
            }
        }
        return from == Integer.MAX_VALUE ? 0 : from;
    }

    /** The mask column of new node 0 of row {@code i} of the planned call (node j: + j). */
    final int newColumn(int i) {
        return callInplace ? callBase[i] : stride;
    }

    /**
     * A zeroed native-order direct buffer of {@code count} floats from the model's {@link BufferPool}, recorded in
     * {@code leases} to be handed back; {@code what} (the buffer and its shape in words) names it in the error
     * when it would pass a {@link NativeLimits} limit.
     */
    final FloatBuffer floats(long count, List<ByteBuffer> leases, String what) {
        NativeLimits.checkBuffer(what, count, model.buffers().idleBytes());
        ByteBuffer bytes = model.buffers().take((int) count * 4);
        leases.add(bytes);
        return bytes.asFloatBuffer();
    }

    private IntBuffer ints(int count, List<ByteBuffer> leases) {
        ByteBuffer bytes = model.buffers().take(count * 4);
        leases.add(bytes);
        return bytes.asIntBuffer();
    }

    private LongBuffer longs(int count, List<ByteBuffer> leases) {
        ByteBuffer bytes = model.buffers().take(count * 8);
        leases.add(bytes);
        return bytes.asLongBuffer();
    }

    /** Hands the buffers of {@code leases} back to the model's pool (their tensors closed first). */
    final void giveBack(List<ByteBuffer> leases) {
        leases.forEach(model.buffers()::give);
        leases.clear();
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

    /**
     * A tensor of keys or values over {@code units} 4-byte units from {@code offset} of a buffer: float32 over the
     * float view, or in a half graph float16 over the same bytes (two halves per unit). Never a copy.
     */
    private OnnxTensor wrapKv(FloatBuffer floats, ByteBuffer bytes, int offset, int units, long[] shape)
            throws OrtException {
        if (!halfKv) {
            return wrap(floats.slice(offset, units), shape);
        }
        ShortBuffer halves = bytes.slice(offset * 4, units * 4).order(ByteOrder.nativeOrder()).asShortBuffer();
        OnnxTensor t = OnnxTensor.createTensor(model.env(), halves, shape, OnnxJavaType.FLOAT16);
        if (t.ownsBuffer()) {
            t.close();
            throw new IllegalStateException("ONNX Runtime copied a direct buffer; zero-copy input is broken");
        }
        return t;
    }

    /** (Re)allocates the cache at {@code newCapacity} slots per row, keeping slots {@code 0 .. keep[row]-1}. */
    final void allocateCache(int newCapacity, int... keep) {
        KvRegion old = cache;
        List<ByteBuffer> oldLeases = new ArrayList<>(cacheLeases);
        cacheLeases.clear();
        int oldStride = stride;
        closeCacheTensors();
        capacity = newCapacity;
        stride = newCapacity + (inplace ? 1 : 0);
        long[] shape = {rows, kvHeads, stride, headDim};
        int units = rows * kvHeads * stride * kvUnits;
        cache = region(units, cacheLeases, cacheWhat());
        if (bound == null) {
            pastKeyTensors = new OnnxTensor[layers];
            pastValueTensors = new OnnxTensor[layers];
            try {
                for (int l = 0; l < layers; l++) {
                    pastKeyTensors[l] = wrapKv(cache.keys[l], cache.keyBytes[l], 0, units, shape);
                    pastValueTensors[l] = wrapKv(cache.values[l], cache.valueBytes[l], 0, units, shape);
                }
            } catch (OrtException e) {
                close();
                throw new IllegalStateException("cannot wrap the KV cache for ONNX Runtime", e);
            }
        }
        long floatsMoved = 0;
        for (int r = 0; r < keep.length && old != null; r++) {
            for (int h = 0; h < kvHeads; h++) {
                int src = (r * kvHeads + h) * oldStride * kvUnits;
                int dst = (r * kvHeads + h) * stride * kvUnits;
                copyKv(old, src, cache, dst, keep[r] * kvUnits);
            }
            floatsMoved += 2L * layers * kvHeads * keep[r] * kvUnits;
        }
        timer.kvBytesMoved(floatsMoved * 4);
        if (old != null) {
            freeRegion(old);
        }
        giveBack(oldLeases);
        zeros = new float[capacity];
        int q = maxQ;
        maxQ = 0;
        if (q > 0) {
            ensureQ(q);
        }
    }

    /**
     * Keys and values of every layer, each {@code units} 4-byte units: zeroed direct buffers recorded in
     * {@code leases}, or zeroed blocks of the bound cache's memory.
     */
    final KvRegion region(long units, List<ByteBuffer> leases, String what) {
        KvRegion r = new KvRegion(layers, bound != null);
        if (bound != null) {
            NativeLimits.checkBufferSize(what, units);   // not direct memory: the bound cache's own limit below
            bound.reserve(what, 2L * layers * units * 4);
        }
        for (int l = 0; l < layers; l++) {
            if (bound == null) {
                r.keys[l] = floats(units, leases, what);
                r.keyBytes[l] = leases.get(leases.size() - 1);
                r.values[l] = floats(units, leases, what);
                r.valueBytes[l] = leases.get(leases.size() - 1);
            } else {
                r.keyBlocks[l] = hold(bound.alloc(units * 4));
                r.valueBlocks[l] = hold(bound.alloc(units * 4));
            }
        }
        return r;
    }

    private BoundKv.Block hold(BoundKv.Block b) {
        heldBlocks.add(b);
        return b;
    }

    /** Hands a region's bound blocks back (direct buffers go back with their leases). */
    final void freeRegion(KvRegion r) {
        for (int l = 0; bound != null && l < layers; l++) {
            heldBlocks.remove(r.keyBlocks[l]);
            heldBlocks.remove(r.valueBlocks[l]);
            bound.free(r.keyBlocks[l]);
            bound.free(r.valueBlocks[l]);
        }
    }

    /**
     * Copies {@code units} 4-byte units from {@code fromUnit} of every layer's keys and values in one region to
     * {@code toUnit} of another (or the same, ranges apart): by Java for direct buffers, natively within the
     * provider's memory on the bound cache ({@link BoundKv#copy}).
     */
    final void copyKv(KvRegion from, int fromUnit, KvRegion to, int toUnit, int units) {
        for (int l = 0; l < layers; l++) {
            if (bound == null) {
                to.keys[l].put(toUnit, from.keys[l], fromUnit, units);
                to.values[l].put(toUnit, from.values[l], fromUnit, units);
            } else {
                bound.copy(from.keyBlocks[l], fromUnit * 4L, to.keyBlocks[l], toUnit * 4L, units * 4L);
                bound.copy(from.valueBlocks[l], fromUnit * 4L, to.valueBlocks[l], toUnit * 4L, units * 4L);
            }
        }
        if (bound == null) {
            timer.kvBytesThroughJava(2L * layers * units * 4);
        }
    }

    private String cacheWhat() {
        return "one layer's KV cache (" + rows + " rows x " + kvHeads + " kv heads x " + stride + " positions x "
                + headDim + ")";
    }

    final void ensureQ(int q) {
        if (q <= maxQ) {
            return;
        }
        int newQ = Math.max(q, maxQ * 2);   // room to grow, unless the doubled buffers would pass a limit
        if ((long) rows * newQ * (stride + newQ) > NativeLimits.MAX_BUFFER_FLOATS) {
            newQ = q;
        }
        maxQ = newQ;
        closeBindings();
        giveBack(scratchLeases);
        inputIds = longs(rows * maxQ, scratchLeases);
        positionIds = longs(rows * maxQ, scratchLeases);
        mask = floats((long) rows * maxQ * (stride + maxQ), scratchLeases, "the attention mask of a forward ("
                + rows + " rows x " + maxQ + " tokens x " + (stride + maxQ) + " columns)");
        if (slidingMaskInput != null) {
            maskSliding = floats((long) rows * maxQ * (stride + maxQ), scratchLeases, "the sliding layers' attention "
                    + "mask of a forward (" + rows + " rows x " + maxQ + " tokens x " + (stride + maxQ) + " columns)");
        }
        if (present != null) {
            freeRegion(present);
        }
        present = region((long) rows * kvHeads * maxQ * kvUnits, scratchLeases, "a forward's new keys and values ("
                + rows + " rows x " + kvHeads + " kv heads x " + maxQ + " tokens x " + headDim + ")");
        hiddenRow = new float[stride + maxQ];
        Arrays.fill(hiddenRow, maskMin);
    }

    /** Sizes the logits buffer for {@code kept} positions per row (grown by doubling, within the limits). */
    private void ensureKept(int kept) {
        if (kept <= maxKept) {
            return;
        }
        int newKept = Math.max(kept, maxKept * 2);
        if ((long) rows * newKept * vocab > NativeLimits.MAX_BUFFER_FLOATS) {
            newKept = kept;
        }
        FloatBuffer grown = floats((long) rows * newKept * vocab, logitsLeases, "the logits of a forward (" + rows
                + " rows x " + kept + " tokens x a vocabulary of " + vocab + ")" + (logitsFromInput ? ""
                : "; re-export the model with models/export.py, or add logits_from with models/logits_from.py, "
                + "so that a prompt's forward keeps its last token's logits only"));
        closeBindings();
        if (logits != null) {
            List<ByteBuffer> old = new ArrayList<>(logitsLeases.subList(0, logitsLeases.size() - 1));
            logitsLeases.subList(0, logitsLeases.size() - 1).clear();
            giveBack(old);
        }
        logits = grown;
        maxKept = newKept;
    }

    /**
     * Runs the session over rows {@code firstRow .. firstRow + n - 1}, {@code q} positions each, with inputs
     * already filled; {@code fed} real tokens (the rest padding) are reported to the timer.
     */
    final LmState.Logits run(int firstRow, int n, int q, int fed) {
        if (closed || model.isClosed()) {
            throw new IllegalStateException("a forward on a closed " + (closed ? "decoding state" : "model ("
                    + model.directory() + ")") + ": open a new one");
        }
        int from = Math.min(callLogitsFrom, q - 1);
        callLogitsFrom = 0;
        ensureKept(q - from);
        Bindings b = bindings(firstRow, n, q, from, callInplace);
        OrtSession session = callInplace ? model.inplaceSession() : model.session();
        OnnxTensor callMask = null;
        OnnxTensor callSlidingMask = null;
        OnnxTensor callTotal = null;
        long start;
        try {
            if (callInplace) {   // the mask's width and the attended length change from call to call
                for (int i = 0; i < n; i++) {
                    seqlens.put(i, callBase[i] + q - 1);
                }
                totalLength.put(0, width);
                callMask = wrap(mask.slice(0, n * q * width), new long[] {n, 1, q, width});
                callTotal = OnnxTensor.createTensor(model.env(), totalLength, new long[0]);
                b.inputs.put(m.inputs().get("attention_mask"), callMask);
                if (maskSliding != null) {
                    callSlidingMask = wrap(maskSliding.slice(0, n * q * width), new long[] {n, 1, q, width});
                    b.inputs.put(slidingMaskInput, callSlidingMask);
                }
                b.inputs.put(m.inplace().inputs().get("total_sequence_length"), callTotal);
            }
                long toProvider = 0;   // host memory the forward reads (on a device: uploads) and writes (downloads)
            for (OnnxTensor t : b.inputs.values()) {   // direct buffers: the past cache is among them
                toProvider += t.getInfo().getNumElements() * (t.getInfo().type == OnnxJavaType.INT64 ? 8 : 4);
            }
            long fromProvider = (long) n * (q - from) * vocab * 4;
            if (bound != null) {
                OrtNative api = bound.api();
                for (Map.Entry<String, OnnxTensor> e : b.inputs.entrySet()) {   // host inputs: rebound every call,
                    api.bindInput(b.io, e.getKey(), OrtNative.value(e.getValue()));  // a device copies them here
                }
                Pointer sessionHandle = callInplace ? model.inplaceHandle() : model.sessionHandle();
                start = System.nanoTime();
                api.runWithBinding(sessionHandle, b.io);
                api.synchronizeOutputs(b.io);
                timer.forward(System.nanoTime() - start, fed, (long) n * q - fed);
            } else {
                start = System.nanoTime();
                try (OrtSession.Result ignored = session.run(b.inputs, Collections.emptySet(), b.pinned)) {
                    timer.forward(System.nanoTime() - start, fed, (long) n * q - fed);
                }
                fromProvider += slotBytes((long) n * q);   // the new keys/values, written to host memory
            }
            timer.hostIo(toProvider, fromProvider);
        } catch (OrtNative.NativeException e) {
            throw new IllegalStateException("ONNX Runtime failed on a forward of " + n + "x" + q + " tokens: "
                    + e.getMessage(), e);
        } catch (OrtException e) {
            throw new IllegalStateException("ONNX Runtime failed on a forward of " + n + "x" + q + " tokens: " + e.getMessage(), e);
        } finally {
            if (callSlidingMask != null) {
                callSlidingMask.close();
            }
            if (callMask != null) {
                callMask.close();
            }
            if (callTotal != null) {
                callTotal.close();
            }
        }
        return new View(firstRow, from, q - from);
    }

    /**
     * After a call on {@code model.onnx}, copies node {@code j < counts[i]} of row {@code i} to slot
     * {@code base[i] + j} of row {@code firstRow + i}, where the in-place graph writes it itself.
     */
    final void placePresent(int firstRow, int n, int q, int[] counts) {
        if (callInplace) {
            return;
        }
        for (int i = 0; i < n; i++) {
            if (counts[i] > 0) {
                storePresent(i, 0, q, firstRow + i, callBase[i], counts[i]);
            }
        }
    }

    /** Copies node {@code node} of a forward's present keys/values (row {@code i} of the call) into a cache slot. */
    final void storePresent(int i, int node, int q, int row, int slot, int count) {
        for (int h = 0; h < kvHeads; h++) {
            int src = ((i * kvHeads + h) * q + node) * kvUnits;
            int dst = ((row * kvHeads + h) * stride + slot) * kvUnits;
            copyKv(present, src, cache, dst, count * kvUnits);
        }
    }

    /** Copies {@code count} slots of a row from {@code from} to {@code to} (within the cache). */
    final void moveSlots(int row, int from, int to, int count) {
        for (int h = 0; h < kvHeads; h++) {
            int base = (row * kvHeads + h) * stride;
            copyKv(cache, (base + from) * kvUnits, cache, (base + to) * kvUnits, count * kvUnits);
        }
    }

    /** Bytes of keys and values of {@code slots} cache slots. */
    final long slotBytes(long slots) {
        return 2L * layers * kvHeads * slots * kvUnits * 4;
    }

    /** A call shape: its rows, tokens per row, first position whose logits it keeps, and graph. */
    private record BindingKey(int firstRow, int n, int q, int logitsFrom, boolean inPlace) {
    }

    /**
     * Input and pinned-output tensors viewing this state's buffers for one call shape. On the bound cache the
     * inputs are the host ones only; the past and present tensors over the bound memory and the outputs sit in
     * an IoBinding ({@code io}) made once for the shape.
     */
    private final class Bindings {
        final Map<String, OnnxTensor> inputs = new HashMap<>();
        final Map<String, OnnxValue> pinned = new HashMap<>();
        final List<OnnxTensor> owned = new ArrayList<>();
        final List<Pointer> ownedNative = new ArrayList<>();   // bound: tensors over the cache's blocks
        Pointer io;                                            // bound: the IoBinding, or null

        OnnxTensor own(OnnxTensor t) {
            owned.add(t);
            return t;
        }

        Pointer ownNative(Pointer value) {
            ownedNative.add(value);
            return value;
        }

        void close() {
            if (io != null) {
                bound.api().releaseIoBinding(io);
                io = null;
            }
            owned.forEach(OnnxTensor::close);
            ownedNative.forEach(bound != null ? bound::release : v -> { });
            ownedNative.clear();
        }
    }

    /** The tensors for a call shape, created once and reused (they view the same native buffers). */
    private Bindings bindings(int firstRow, int n, int q, int from, boolean inPlace) {
        BindingKey key = new BindingKey(firstRow, n, q, from, inPlace);
        Bindings cached = bindings.get(key);
        if (cached != null) {
            return cached;
        }
        Bindings b = new Bindings();
        int kept = q - from;
        try {
            b.inputs.put(m.inputs().get("input_ids"), b.own(OnnxTensor.createTensor(model.env(), inputIds.slice(0, n * q), new long[] {n, q})));
            b.inputs.put(m.inputs().get("position_ids"), b.own(OnnxTensor.createTensor(model.env(), positionIds.slice(0, n * q), new long[] {n, q})));
            if (!inPlace) {
                b.inputs.put(m.inputs().get("attention_mask"), b.own(wrap(mask.slice(0, n * q * (stride + q)), new long[] {n, 1, q, stride + q})));
                if (maskSliding != null) {
                    b.inputs.put(slidingMaskInput, b.own(wrap(maskSliding.slice(0, n * q * (stride + q)),
                            new long[] {n, 1, q, stride + q})));
                }
            } else {
                b.inputs.put(m.inplace().inputs().get("seqlens_k"), b.own(OnnxTensor.createTensor(model.env(), seqlens.slice(0, n), new long[] {n})));
            }
            if (logitsFromInput) {   // 0: every position
                b.inputs.put(m.inputs().get("logits_from"), b.own(OnnxTensor.createTensor(model.env(), new long[] {from})));
            }
            b.pinned.put(m.outputs().get("logits"), b.own(wrap(logits.slice(0, n * kept * vocab), new long[] {n, kept, vocab})));
            if (bound == null) {
                hostKvTensors(b, firstRow, n, q, inPlace);
            } else {
                boundKvTensors(b, firstRow, n, q, inPlace);
            }
        } catch (OrtException | OrtNative.NativeException e) {
            b.close();
            throw new IllegalStateException("cannot create ONNX Runtime tensors over the state's buffers", e);
        }
        bindings.put(key, b);
        return b;
    }

    /** Direct buffers: the past and present tensors of a call shape, views of the cache handed to session.run. */
    private void hostKvTensors(Bindings b, int firstRow, int n, int q, boolean inPlace) throws OrtException {
        boolean allRows = firstRow == 0 && n == rows;
        int rowFloats = kvHeads * stride * kvUnits;
        long[] pastShape = {n, kvHeads, stride, headDim};
        OnnxTensor[] pastKeys = new OnnxTensor[layers];
        OnnxTensor[] pastValues = new OnnxTensor[layers];
        for (int l = 0; l < layers; l++) {
            pastKeys[l] = allRows ? pastKeyTensors[l]
                    : b.own(wrapKv(cache.keys[l], cache.keyBytes[l], firstRow * rowFloats, n * rowFloats, pastShape));
            pastValues[l] = allRows ? pastValueTensors[l]
                    : b.own(wrapKv(cache.values[l], cache.valueBytes[l], firstRow * rowFloats, n * rowFloats, pastShape));
            b.inputs.put(m.inputName("past_key", l), pastKeys[l]);
            b.inputs.put(m.inputName("past_value", l), pastValues[l]);
        }
        long[] presentShape = {n, kvHeads, q, headDim};
        int presentFloats = n * kvHeads * q * kvUnits;
        for (int l = 0; l < layers; l++) {   // in place: present is the past buffer itself
            b.pinned.put(m.outputName("present_key", l), inPlace ? pastKeys[l]
                    : b.own(wrapKv(present.keys[l], present.keyBytes[l], 0, presentFloats, presentShape)));
            b.pinned.put(m.outputName("present_value", l), inPlace ? pastValues[l]
                    : b.own(wrapKv(present.values[l], present.valueBytes[l], 0, presentFloats, presentShape)));
        }
    }

    /**
     * The bound cache: an IoBinding for a call shape with the past inputs and present outputs over the cache's
     * blocks (in place: the same tensor, so new keys/values land in their slots) and the logits output over the
     * pinned host buffer. Bound once; the host inputs are bound by every {@link #run}.
     */
    private void boundKvTensors(Bindings b, int firstRow, int n, int q, boolean inPlace) {
        OrtNative api = bound.api();
        b.io = api.ioBinding(inPlace ? model.inplaceHandle() : model.sessionHandle());
        long rowBytes = (long) kvHeads * stride * kvUnits * 4;
        long[] pastShape = {n, kvHeads, stride, headDim};
        long[] presentShape = {n, kvHeads, q, headDim};
        long presentBytes = (long) n * kvHeads * q * kvUnits * 4;
        int type = halfKv ? OrtNative.FLOAT16 : OrtNative.FLOAT;
        for (int l = 0; l < layers; l++) {
            Pointer pastKey = b.ownNative(bound.view(cache.keyBlocks[l], firstRow * rowBytes, n * rowBytes, pastShape, type));
            Pointer pastValue = b.ownNative(bound.view(cache.valueBlocks[l], firstRow * rowBytes, n * rowBytes, pastShape, type));
            api.bindInput(b.io, m.inputName("past_key", l), pastKey);
            api.bindInput(b.io, m.inputName("past_value", l), pastValue);
            api.bindOutput(b.io, m.outputName("present_key", l), inPlace ? pastKey
                    : b.ownNative(bound.view(present.keyBlocks[l], 0, presentBytes, presentShape, type)));
            api.bindOutput(b.io, m.outputName("present_value", l), inPlace ? pastValue
                    : b.ownNative(bound.view(present.valueBlocks[l], 0, presentBytes, presentShape, type)));
        }
        api.bindOutput(b.io, m.outputs().get("logits"), OrtNative.value((OnnxTensor) b.pinned.get(m.outputs().get("logits"))));
    }

    private void closeBindings() {
        bindings.values().forEach(Bindings::close);
        bindings.clear();
    }

    private void closeCacheTensors() {
        closeBindings();
        for (int l = 0; pastKeyTensors != null && l < layers; l++) {
            if (pastKeyTensors[l] != null) {
                pastKeyTensors[l].close();
            }
            if (pastValueTensors[l] != null) {
                pastValueTensors[l].close();
            }
        }
    }

    public ModelManifest manifest() {
        return m;
    }

    public int rows() {
        return rows;
    }

    public int capacity() {
        return capacity;
    }

    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        closeCacheTensors();
        if (cache != null) {
            freeRegion(cache);
        }
        if (present != null) {
            freeRegion(present);
        }
        giveBack(cacheLeases);
        giveBack(scratchLeases);
        giveBack(logitsLeases);
        giveBack(stateLeases);
        if (bound != null) {   // every block still held goes back (scratch regions of subclasses too)
            heldBlocks.forEach(bound::free);
            heldBlocks.clear();
        }
    }

    /** Logits of one forward, read in place from the pinned output buffer: positions {@code from ..}, kept per row. */
    private final class View implements LmState.Logits {
        private final int firstRow;
        private final int from;
        private final int kept;

        View(int firstRow, int from, int kept) {
            this.firstRow = firstRow;
            this.from = from;
            this.kept = kept;
        }

        private int offset(int row, int node) {
            if (node < from || node >= from + kept) {
                throw new IllegalStateException("the forward kept the logits of nodes " + from + ".." + (from + kept - 1)
                        + " only, not of node " + node);
            }
            return ((row - firstRow) * kept + node - from) * vocab;
        }

        @Override
        public int vocab() {
            return vocab;
        }

        @Override
        public float get(int row, int node, int token) {
            return logits.get(offset(row, node) + token);
        }

        @Override
        public void copy(int row, int node, float[] dst) {
            logits.get(offset(row, node), dst, 0, vocab);
        }
    }

    /** Keys and values of every layer: in direct buffers ({@code keys} ..), or in blocks of the bound cache. */
    static final class KvRegion {
        final FloatBuffer[] keys;              // per layer, direct buffers only
        final FloatBuffer[] values;
        final ByteBuffer[] keyBytes;           // the bytes under them: a half graph's tensors are float16 views
        final ByteBuffer[] valueBytes;
        final BoundKv.Block[] keyBlocks;       // per layer, bound cache only
        final BoundKv.Block[] valueBlocks;

        KvRegion(int layers, boolean bound) {
            keys = bound ? null : new FloatBuffer[layers];
            values = bound ? null : new FloatBuffer[layers];
            keyBytes = bound ? null : new ByteBuffer[layers];
            valueBytes = bound ? null : new ByteBuffer[layers];
            keyBlocks = bound ? new BoundKv.Block[layers] : null;
            valueBlocks = bound ? new BoundKv.Block[layers] : null;
        }
    }
}
