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
        if (floats > MAX_BUFFER_FLOATS) {
            throw new LimitExceededException(what + " needs " + floats + " floats (" + floats * 4 / MIB
                    + " MiB) in one buffer; a direct buffer holds at most " + MAX_BUFFER_FLOATS + " (2 GiB): "
                    + "use fewer prompts or beams, or a shorter prompt or generation");
        }
        long max = MAX_DIRECT_MEMORY;
        long used = DIRECT_POOL == null ? 0 : DIRECT_POOL.getMemoryUsed();
        if (floats * 4 > max - used + reusable) {
            throw new LimitExceededException(what + " needs " + floats * 4 / MIB + " MiB of native memory, but the JVM's "
                    + "direct-memory limit is " + max / MIB + " MiB with " + used / MIB + " MiB in use: raise it "
                    + "(java -XX:MaxDirectMemorySize=..., by default the heap's -Xmx) or use fewer prompts or beams, "
                    + "or a shorter prompt or generation");
        }
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
