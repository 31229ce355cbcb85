package specbeam.model;

/**
 * Where a decoding state keeps its KV cache ({@code -Dspecbeam.kv=auto|bound|host}, default {@code auto}).
 *
 * <ul>
 *   <li>{@link #BOUND}: in memory owned through ONNX Runtime (the session's allocator: device memory on CUDA),
 *       bound once per call shape with IoBinding; new entries are written in place by the in-place graph or
 *       copied into their slots by ONNX Runtime's data transfer ({@link BoundKv}). No cache byte passes through
 *       Java; per forward only token ids, positions, mask and the logits kept cross between host and provider.
 *   <li>{@link #HOST}: in direct Java buffers handed to {@code OrtSession.run} as inputs without a copy; on CPU
 *       that is zero-copy too, on a device the whole past would be uploaded per forward.
 * </ul>
 * {@code auto} takes {@code BOUND} where the C API can be reached ({@link OrtNative#get}) and {@code HOST}
 * otherwise, saying why on stderr once; {@code bound} fails with the reason instead.
 */
public enum KvBackend {
    BOUND("bound"),
    HOST("host");

    private final String label;

    KvBackend(String label) {
        this.label = label;
    }

    /** The name in run metadata and on the command line. */
    public String label() {
        return label;
    }

    /** What {@code -Dspecbeam.kv} asks for: {@code auto} (null here), {@code bound} or {@code host}. */
    static KvBackend requested() {
        String v = System.getProperty("specbeam.kv", "auto");
        switch (v) {
            case "auto":
                return null;
            case "bound":
                return BOUND;
            case "host":
                return HOST;
            default:
                throw new IllegalArgumentException("-Dspecbeam.kv must be 'auto', 'bound' or 'host', not '" + v + "'");
        }
    }
}
