package specbeam.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import specbeam.decode.DecodeStats;

/**
 * The engine's own counters, reported by JMH next to the time per operation ({@code @AuxCounters}).
 *
 * <p>EVENTS counters are raw sums per iteration, not rates: ratios such as the acceptance rate are formed by
 * the suite from the sums over all measured iterations (a mean of per-iteration ratios would weight short
 * iterations wrongly). JMH does not reset EVENTS counters, hence the per-iteration {@link #reset()} — a
 * {@code Level.Iteration} fixture, outside the timed path. Field names are the columns of
 * {@link specbeam.suite.CounterTotals}.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class DecodeCounters {
    public long ops;
    public long calls;
    public long tokens;
    public long steps;
    public long rounds;
    public long roundSteps;
    public long targetForwards;
    public long draftForwards;
    public long draftProposed;
    public long draftAccepted;
    public long targetOrtNanos;
    public long draftOrtNanos;
    public long wallNanos;
    public long kvBytesCopied;
    public long kvBytesMoved;
    public long paddedPositions;
    public long targetTokensFed;
    public long draftTokensFed;
    public long targetPrefillForwards;
    public long targetPrefillTokensFed;
    public long draftPrefillForwards;
    public long draftPrefillTokensFed;
    /** Calls made while ONNX Runtime's workers spin between operators (the fork's automatic choice, README). */
    public long spinningCalls;
    private final boolean spinning = specbeam.model.OrtThreads.current().spin();
    /**
     * Milliseconds the JIT's compiler threads spent compiling during the iteration (HotSpot's
     * {@code CompilationMXBean}; 0 where the JVM does not say). On 2 cores a compiler thread takes a core from
     * ONNX Runtime's two threads, so iterations with much of it ran slower than warmed-up code does.
     */
    public long jitMillis;
    private long jitAtStart;
    /** Calls whose KV cache was bound to ONNX Runtime ({@code -Dspecbeam.kv}, README "The KV cache"). */
    public long boundKvCalls;
    /** KV-cache bytes Java's own code copied (0 on the bound cache). */
    public long kvBytesThroughJava;
    /** Bytes that crossed between Java's buffers and the provider: inputs fed and outputs read. */
    public long hostIoBytes;

    @Setup(Level.Iteration)
    public void reset() {
        ops = calls = tokens = steps = rounds = roundSteps = 0;
        targetForwards = draftForwards = draftProposed = draftAccepted = 0;
        targetOrtNanos = draftOrtNanos = wallNanos = kvBytesCopied = kvBytesMoved = paddedPositions = 0;
        targetTokensFed = draftTokensFed = 0;
        targetPrefillForwards = targetPrefillTokensFed = draftPrefillForwards = draftPrefillTokensFed = 0;
        spinningCalls = jitMillis = 0;
        boundKvCalls = kvBytesThroughJava = hostIoBytes = 0;
        jitAtStart = JitWarmUp.compilationMillis();
    }

    @TearDown(Level.Iteration)
    public void publish() {
        jitMillis = JitWarmUp.compilationMillis() - jitAtStart;
    }

    /**
     * Adds one generate call's statistics (a few additions: cheap enough for the timed path); {@code boundKv}: the
     * engine's cache was bound to ONNX Runtime.
     */
    void add(DecodeStats s, boolean boundKv) {
        calls++;
        tokens += s.tokensGenerated;
        steps += s.steps;
        for (int n = 0; n < DecodeStats.HISTOGRAM_SIZE; n++) {
            rounds += s.stepsHistogram[n];
            roundSteps += n * s.stepsHistogram[n];
        }
        targetForwards += s.targetForwards;
        draftForwards += s.draftForwards;
        draftProposed += s.draftProposed;
        draftAccepted += s.draftAccepted;
        targetOrtNanos += s.targetOrtNanos;
        draftOrtNanos += s.draftOrtNanos;
        wallNanos += s.wallNanos;
        kvBytesCopied += s.kvBytesCopied;
        kvBytesMoved += s.kvBytesMoved;
        paddedPositions += s.paddedPositions;
        targetTokensFed += s.targetTokensFed;
        draftTokensFed += s.draftTokensFed;
        targetPrefillForwards += s.targetPrefillForwards;
        targetPrefillTokensFed += s.targetPrefillTokensFed;
        draftPrefillForwards += s.draftPrefillForwards;
        draftPrefillTokensFed += s.draftPrefillTokensFed;
        spinningCalls += spinning ? 1 : 0;
        boundKvCalls += boundKv ? 1 : 0;
        kvBytesThroughJava += s.kvBytesThroughJava;
        hostIoBytes += s.hostIoBytes;
    }
}
