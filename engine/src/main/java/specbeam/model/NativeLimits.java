package specbeam.model;

import com.sun.management.HotSpotDiagnosticMXBean;

import java.lang.management.BufferPoolMXBean;
import java.lang.management.ManagementFactory;

/**
 * The limits on the native buffers a decoding state hands to ONNX Runtime, checked in Java before any buffer is
 * allocated or any tensor created over one, so that an input too large ends in one {@link LimitExceededException}
 * naming the limit and the way round it, never in an overflowed offset or a crash in native code.
 *
 * <ul>
 *   <li><b>One buffer</b> holds at most {@link #MAX_BUFFER_FLOATS} floats: a Java direct buffer is indexed by
 *       int bytes (2 GiB). The largest are a forward's logits ({@code rows x tokens x vocab}: a 3,533-token
 *       prompt at Qwen2.5's 151,936-token vocabulary) and one layer's KV cache ({@code rows x kv_heads x
 *       capacity x head_dim}).</li>
 *   <li><b>All buffers together</b> stay within the JVM's direct-memory limit ({@code -XX:MaxDirectMemorySize},
 *       by default the heap's {@code -Xmx}); past it the JDK throws an {@link OutOfMemoryError}.</li>
 *   <li><b>The bound KV cache</b> (memory from ONNX Runtime's allocator, outside the direct-memory limit) stays
 *       within {@link #boundKvLimit}: {@code -Dspecbeam.kv.maxBytes}, by default on CPU the machine's physical
 *       memory less the Java heap's maximum. Past it Linux would let the allocation through and kill the process
 *       when the zeroed pages are touched.</li>
 * </ul>
 */
public final class NativeLimits {
    /** Floats in one direct buffer: its capacity in bytes is an int. */
    public static final long MAX_BUFFER_FLOATS = Integer.MAX_VALUE / 4;
    private static final long MIB = 1L << 20;
    // looked up once: every decoding state's buffers are checked, and the limit cannot change while the JVM runs
    private static final long MAX_DIRECT_MEMORY = maxDirectMemory();
    private static final BufferPoolMXBean DIRECT_POOL = ManagementFactory.getPlatformMXBeans(BufferPoolMXBean.class)
            .stream().filter(pool -> pool.getName().equals("direct")).findFirst().orElse(null);

    private NativeLimits() {
    }

    /** An input that needs a buffer past one of these limits: a user's mistake, reported as such (exit 2, HTTP 400). */
    public static final class LimitExceededException extends IllegalArgumentException {
        LimitExceededException(String message) {
            super(message);
        }
    }

    /**
     * Checks that one buffer of {@code floats} floats for {@code what} (its shape in words) fits in a direct
     * buffer and in the direct memory left; {@code reusable} bytes are idle pooled buffers the allocation may
     * take instead.
     */
    static void checkBuffer(String what, long floats, long reusable) {
        checkBufferSize(what, floats);
        long max = MAX_DIRECT_MEMORY;
        long used = DIRECT_POOL == null ? 0 : DIRECT_POOL.getMemoryUsed();
        if (floats * 4 > max - used + reusable) {
            throw new LimitExceededException(what + " needs " + floats * 4 / MIB + " MiB of native memory, but the JVM's "
                    + "direct-memory limit is " + max / MIB + " MiB with " + used / MIB + " MiB in use: raise it "
                    + "(java -XX:MaxDirectMemorySize=..., by default the heap's -Xmx) or use fewer prompts or beams, "
                    + "or a shorter prompt or generation");
        }
    }

    /**
     * Checks that one buffer of {@code floats} floats (or 4-byte units: a block of the bound cache, whose offsets
     * are int units like a direct buffer's) stays within {@link #MAX_BUFFER_FLOATS}.
     */
    static void checkBufferSize(String what, long floats) {
        if (floats > MAX_BUFFER_FLOATS) {
            throw new LimitExceededException(what + " needs " + floats + " floats (" + floats * 4 / MIB
                    + " MiB) in one buffer; a buffer holds at most " + MAX_BUFFER_FLOATS + " (2 GiB): "
                    + "use fewer prompts or beams, or a shorter prompt or generation");
        }
    }

    /**
     * Checks that a decoding state's bound cache of {@code bytes} bytes for {@code what} fits beside the
     * {@code inUse} bytes other states hold, within {@code limit} ({@link #boundKvLimit}).
     */
    static void checkBoundKv(String what, long bytes, long inUse, long limit) {
        if (bytes > limit - inUse) {
            throw new LimitExceededException(what + " needs " + bytes / MIB + " MiB of memory for the KV cache bound "
                    + "to ONNX Runtime, with " + inUse / MIB + " MiB held by other decoding states and a limit of "
                    + limit / MIB + " MiB: raise it (java -Dspecbeam.kv.maxBytes=..., e.g. 16g; by default physical "
                    + "memory less the Java heap) or use fewer prompts or beams, or a shorter prompt or generation");
        }
    }

    /**
     * The bound cache's limit in bytes: {@code -Dspecbeam.kv.maxBytes} (bytes, or with a k/m/g suffix); by default
     * physical memory less the heap's maximum for CPU memory, and none of its own for device memory (the CUDA
     * allocator's own error is reported).
     */
    static long boundKvLimit(boolean deviceMemory) {
        String set = System.getProperty("specbeam.kv.maxBytes");
        if (set != null) {
            return parseBytes(set);
        }
        if (deviceMemory) {
            return Long.MAX_VALUE;
        }
        try {
            com.sun.management.OperatingSystemMXBean os =
                    ManagementFactory.getPlatformMXBean(com.sun.management.OperatingSystemMXBean.class);
            return Math.max(0, os.getTotalMemorySize() - Runtime.getRuntime().maxMemory());
        } catch (RuntimeException e) {
            return Long.MAX_VALUE;   // not HotSpot: no limit of our own
        }
    }

    /** "4096", "512k", "64m", "16g" (case-insensitive) as bytes; anything else is a clear error. */
    static long parseBytes(String text) {
        String t = text.strip().toLowerCase(java.util.Locale.ROOT);
        long unit = 1;
        if (!t.isEmpty() && "kmg".indexOf(t.charAt(t.length() - 1)) >= 0) {
            unit = 1L << (10 * ("kmg".indexOf(t.charAt(t.length() - 1)) + 1));
            t = t.substring(0, t.length() - 1);
        }
        try {
            long v = Long.parseLong(t);
            if (v > 0 && v <= Long.MAX_VALUE / unit) {
                return v * unit;
            }
        } catch (NumberFormatException e) {
            // the message below
        }
        throw new IllegalArgumentException("-Dspecbeam.kv.maxBytes must be a positive size in bytes, optionally with "
                + "k, m or g (e.g. 16g), not '" + text + "'");
    }

    /** {@code -XX:MaxDirectMemorySize}, or the heap's maximum when it is not set (the JDK's own default). */
    private static long maxDirectMemory() {
        try {
            HotSpotDiagnosticMXBean hotspot = ManagementFactory.getPlatformMXBean(HotSpotDiagnosticMXBean.class);
            long set = Long.parseLong(hotspot.getVMOption("MaxDirectMemorySize").getValue());
            if (set > 0) {
                return set;
            }
        } catch (RuntimeException e) {
            // not HotSpot: the JDK's default below
        }
        return Runtime.getRuntime().maxMemory();
    }
}
