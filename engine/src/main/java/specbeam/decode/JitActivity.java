package specbeam.decode;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;

/**
 * Whether the JIT compiled a moment ago, from HotSpot's running total of compilation time. On a machine with as
 * many cores as ONNX Runtime has threads, a compiler thread at work takes a core from every forward: measured
 * here, beam B = 4's forwards ran 1.3-1.6x slower while the JIT compiled in a fresh JVM (the first ~100 calls),
 * so rounds timed then mis-price what they measure.
 */
final class JitActivity {
    /** How long after the total last grew the JIT counts as busy: a compilation's end is all the total shows. */
    static final long QUIET_NANOS = 250_000_000L;

    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();
    private static final boolean MONITORED = JIT != null && JIT.isCompilationTimeMonitoringSupported();

    private long total = -1;
    private long changedAt;

    /** Whether the JIT's compilation total grew within the last {@link #QUIET_NANOS}; false where not monitored. */
    boolean compiledRecently() {
        if (!MONITORED) {
            return false;
        }
        long now = System.nanoTime();
        long t = JIT.getTotalCompilationTime();
        if (t != total) {
            total = t;
            changedAt = now;
        }
        return now - changedAt < QUIET_NANOS;
    }
}
