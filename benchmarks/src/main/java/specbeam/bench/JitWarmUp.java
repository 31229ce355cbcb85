package specbeam.bench;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.util.ArrayDeque;
import java.util.Deque;

/**
 * A fork's warm-up before JMH's own: the benchmark's work, pass after pass, until the JIT has stopped compiling
 * it. On this project's 2-core machine a compiler thread at work takes a core from ONNX Runtime's two threads:
 * in a fresh JVM beam B = 4's forwards ran 1.3-1.6x slower for its first ~100 calls, and speculative beam search
 * kept the JIT busy for ~12 s. A fixed count of warm-up iterations is either too short for the slow points or
 * wasted on the quick ones; this runs until the compilation in the last {@link #WINDOW_SECONDS} falls under
 * {@link #QUIET_MS_PER_S} ms per second, or the longest warm-up given has passed (the benchmarks'
 * {@code jitWarmupSeconds} parameter: 45 s in the full suite, 2 s in {@code --quick}). It runs in
 * {@code @Setup(Level.Trial)}, outside every measurement; the per-iteration {@code jitMillis} counter shows what
 * compilation was left during the measured iterations.
 */
public final class JitWarmUp {
    /**
     * The benchmark forks' JIT flags, put first on their command lines ({@code @Fork(jvmArgsPrepend)} and
     * {@link JmhPointRunner}; {@code -jvmArgsPrepend} replaces them, a later {@code -jvmArgsAppend} flag overrides
     * one). {@code -XX:CompileThresholdScaling=0.1}: the engine's code is called once per token or per
     * generation, so at the default thresholds C2 reached {@code GreedyDecoding.generate} only 20-26 s into a
     * fork, after this warm-up had seen a quiet window, and recompiled it four times (deoptimised by profiles
     * the warm-up had not covered): 3.3-3.8 s of compilation inside greedy's 14 s of measurement (2026-11-28,
     * {@code -XX:+LogCompilation}); with a tenth of the thresholds those compiles land in the first 10 s.
     * {@code -Xbatch}: a compilation blocks the thread that asked for it, so what JMH's own per-iteration code
     * (result serialisation) triggers between iterations finishes there instead of taking a core from ONNX
     * Runtime during the next measured call; measured in paired forks, 1.5 s -> 0.4 s of compilation during the
     * rounds of speculative k = 4 and greedy.
     */
    static final String COMPILE_SOONER = "-XX:CompileThresholdScaling=0.1";
    /** See {@link #COMPILE_SOONER}. */
    static final String COMPILE_IN_CALLER = "-Xbatch";

    /** Compilation (ms per second of warm-up) under which the code counts as compiled. */
    static final double QUIET_MS_PER_S = 20;
    /** The trailing window the rate is taken over. */
    static final double WINDOW_SECONDS = 3;

    private static final CompilationMXBean JIT = ManagementFactory.getCompilationMXBean();
    private static final boolean MONITORED = JIT != null && JIT.isCompilationTimeMonitoringSupported();

    private JitWarmUp() {
    }

    /**
     * Runs {@code pass} until the JIT is quiet or {@code maxSeconds} have passed; at least one pass, none when
     * {@code maxSeconds} is 0. Where the JVM does not monitor compilation time, runs for one window.
     *
     * @return seconds spent
     */
    public static double run(Runnable pass, double maxSeconds) {
        return run(pass, maxSeconds, WINDOW_SECONDS, QUIET_MS_PER_S);
    }

    /** {@link #run(Runnable, double)} with the window and the quiet rate given (tests). */
    static double run(Runnable pass, double maxSeconds, double windowSeconds, double quietMsPerS) {
        if (maxSeconds <= 0) {
            return 0;
        }
        long start = System.nanoTime();
        Deque<long[]> samples = new ArrayDeque<>();   // {nanoTime, total compilation ms} after each pass
        samples.add(new long[] {start, compilationMillis()});
        while (true) {
            pass.run();
            long now = System.nanoTime();
            samples.addLast(new long[] {now, compilationMillis()});
            double elapsed = (now - start) / 1e9;
            if (elapsed >= maxSeconds) {
                return done(elapsed, samples, "the longest warm-up");
            }
            // the oldest sample that still leaves a full window behind the newest
            while (samples.size() > 2 && (now - secondOf(samples)[0]) / 1e9 >= windowSeconds) {
                samples.removeFirst();
            }
            long[] first = samples.getFirst();
            double window = (now - first[0]) / 1e9;
            if (window >= windowSeconds) {
                if (!MONITORED) {
                    return done(elapsed, samples, "compilation time not monitored by this JVM");
                }
                double rate = (samples.getLast()[1] - first[1]) / window;
                if (rate < quietMsPerS) {
                    return done(elapsed, samples, "quiet");
                }
            }
        }
    }

    /** The JVM's total compilation time so far, in ms; 0 where it does not monitor it. */
    static long compilationMillis() {
        return MONITORED ? JIT.getTotalCompilationTime() : 0;
    }

    /** With {@code -Dspecbeam.jitWarmup.log=true} (e.g. {@code -jvmArgsAppend}), says on the fork's output how the warm-up ended. */
    private static double done(double elapsed, Deque<long[]> samples, String why) {
        if (!Boolean.getBoolean("specbeam.jitWarmup.log")) {
            return elapsed;
        }
        long[] first = samples.getFirst();
        long[] last = samples.getLast();
        double window = (last[0] - first[0]) / 1e9;
        System.out.printf(java.util.Locale.ROOT, "specbeam: JIT warm-up %.1f s (%s; compilation in its last %.1f s: "
                + "%.0f ms/s)%n", elapsed, why, window, window > 0 ? (last[1] - first[1]) / window : 0.0);
        return elapsed;
    }

    private static long[] secondOf(Deque<long[]> samples) {
        var it = samples.iterator();
        it.next();
        return it.next();
    }
}
