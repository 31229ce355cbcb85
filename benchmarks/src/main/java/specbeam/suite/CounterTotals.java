package specbeam.suite;

import java.util.Map;

/**
 * Engine counters summed over the measured iterations of one grid point (warm-up excluded). Component names
 * are the public fields of {@code specbeam.bench.DecodeCounters}, so JMH's auxiliary results map onto them.
 *
 * @param ops            benchmark operations
 * @param calls          {@code Engine.generate} calls
 * @param tokens         new tokens (DecodeStats.tokensGenerated)
 * @param steps          decoding steps (tokens, or beam steps)
 * @param rounds         decode-phase target forwards (prefill excluded)
 * @param roundSteps     steps advanced by those rounds
 * @param targetForwards target forwards, prefill included
 * @param draftForwards  draft forwards
 * @param draftProposed  draft tokens proposed
 * @param draftAccepted  draft tokens the target kept
 * @param targetOrtNanos time inside ONNX Runtime running the target
 * @param draftOrtNanos  time inside ONNX Runtime running the draft
 * @param wallNanos      wall time of the generate calls as the engine measured it
 * @param kvBytesCopied  KV-cache bytes the engine wrote or moved
 * @param kvBytesMoved   the part of those moved after being stored (beam reorders, path gathers, compaction)
 * @param paddedPositions positions forwards computed that were no tree node (batch rows padded to the longest)
 * @param targetTokensFed        tokens fed to the target (prompt tokens and tree nodes; padding not counted)
 * @param draftTokensFed         tokens fed to the draft
 * @param targetPrefillForwards  target forwards over the prompt (one per call)
 * @param targetPrefillTokensFed prompt tokens fed to the target by those
 * @param draftPrefillForwards   draft forwards over the prompt
 * @param draftPrefillTokensFed  prompt tokens fed to the draft by those
 * @param spinningCalls          calls made while ONNX Runtime's workers spun (the fork's thread-pool choice)
 * @param jitMillis              milliseconds the JIT compiled during the measured iterations
 * @param boundKvCalls           calls whose target kept its KV cache bound to ONNX Runtime (README "The KV cache")
 * @param kvBytesThroughJava     KV-cache bytes Java's own code copied (0 on the bound cache)
 * @param hostIoBytes            bytes that crossed between Java's buffers and the provider (inputs and outputs)
 */
public record CounterTotals(long ops, long calls, long tokens, long steps, long rounds, long roundSteps,
                            long targetForwards, long draftForwards, long draftProposed, long draftAccepted,
                            long targetOrtNanos, long draftOrtNanos, long wallNanos, long kvBytesCopied,
                            long kvBytesMoved, long paddedPositions,
                            long targetTokensFed, long draftTokensFed, long targetPrefillForwards,
                            long targetPrefillTokensFed, long draftPrefillForwards, long draftPrefillTokensFed,
                            long spinningCalls, long jitMillis, long boundKvCalls, long kvBytesThroughJava,
                            long hostIoBytes) {

    /** Totals without the newer counters (zero), as runs before they existed recorded. */
    public CounterTotals(long ops, long calls, long tokens, long steps, long rounds, long roundSteps,
                         long targetForwards, long draftForwards, long draftProposed, long draftAccepted,
                         long targetOrtNanos, long draftOrtNanos, long wallNanos, long kvBytesCopied) {
        this(ops, calls, tokens, steps, rounds, roundSteps, targetForwards, draftForwards, draftProposed,
                draftAccepted, targetOrtNanos, draftOrtNanos, wallNanos, kvBytesCopied, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                0);
    }

    /** Builds the totals from counter name to value; a missing name counts as 0. */
    public static CounterTotals fromMap(Map<String, ? extends Number> v) {
        return new CounterTotals(get(v, "ops"), get(v, "calls"), get(v, "tokens"), get(v, "steps"), get(v, "rounds"),
                get(v, "roundSteps"), get(v, "targetForwards"), get(v, "draftForwards"), get(v, "draftProposed"),
                get(v, "draftAccepted"), get(v, "targetOrtNanos"), get(v, "draftOrtNanos"), get(v, "wallNanos"),
                get(v, "kvBytesCopied"), get(v, "kvBytesMoved"), get(v, "paddedPositions"),
                get(v, "targetTokensFed"), get(v, "draftTokensFed"),
                get(v, "targetPrefillForwards"), get(v, "targetPrefillTokensFed"), get(v, "draftPrefillForwards"),
                get(v, "draftPrefillTokensFed"), get(v, "spinningCalls"), get(v, "jitMillis"), get(v, "boundKvCalls"),
                get(v, "kvBytesThroughJava"), get(v, "hostIoBytes"));
    }

    /** Both totals added, counter by counter. */
    public CounterTotals plus(CounterTotals o) {
        return new CounterTotals(ops + o.ops, calls + o.calls, tokens + o.tokens, steps + o.steps, rounds + o.rounds,
                roundSteps + o.roundSteps, targetForwards + o.targetForwards, draftForwards + o.draftForwards,
                draftProposed + o.draftProposed, draftAccepted + o.draftAccepted, targetOrtNanos + o.targetOrtNanos,
                draftOrtNanos + o.draftOrtNanos, wallNanos + o.wallNanos, kvBytesCopied + o.kvBytesCopied,
                kvBytesMoved + o.kvBytesMoved, paddedPositions + o.paddedPositions,
                targetTokensFed + o.targetTokensFed, draftTokensFed + o.draftTokensFed,
                targetPrefillForwards + o.targetPrefillForwards, targetPrefillTokensFed + o.targetPrefillTokensFed,
                draftPrefillForwards + o.draftPrefillForwards, draftPrefillTokensFed + o.draftPrefillTokensFed,
                spinningCalls + o.spinningCalls, jitMillis + o.jitMillis, boundKvCalls + o.boundKvCalls,
                kvBytesThroughJava + o.kvBytesThroughJava, hostIoBytes + o.hostIoBytes);
    }

    /** Share of the calls made while ONNX Runtime's workers spun; NaN without calls. */
    public double spinningShare() {
        return ratio(spinningCalls, calls);
    }

    /** JIT compilation milliseconds per second of measured generate calls; NaN without calls. */
    public double jitMillisPerSecond() {
        return wallNanos == 0 ? Double.NaN : jitMillis / (wallNanos / 1e9);
    }

    private static long get(Map<String, ? extends Number> v, String name) {
        Number n = v.get(name);
        return n == null ? 0 : Math.round(n.doubleValue());
    }

    /** {@code draftAccepted / draftProposed} (ONNX Runtime GenAI's definition); NaN without a draft. */
    public double acceptanceRate() {
        return ratio(draftAccepted, draftProposed);
    }

    /** Mean decoding steps per decode-phase target forward. */
    public double stepsPerTargetForward() {
        return ratio(roundSteps, rounds);
    }

    /** Target forwards (prefill included) per new token. */
    public double targetForwardsPerToken() {
        return ratio(targetForwards, tokens);
    }

    /** Share of the engine's wall time spent inside ONNX Runtime (target and draft). */
    public double ortShare() {
        return ratio(targetOrtNanos + draftOrtNanos, wallNanos);
    }

    /** Mean ONNX Runtime milliseconds per target forward. */
    public double targetMsPerForward() {
        return ratio(targetOrtNanos, targetForwards) / 1e6;
    }

    /** Mean ONNX Runtime milliseconds per draft forward; NaN without a draft. */
    public double draftMsPerForward() {
        return ratio(draftOrtNanos, draftForwards) / 1e6;
    }

    /** Draft forwards per target forward. */
    public double draftForwardsPerTargetForward() {
        return ratio(draftForwards, targetForwards);
    }

    /** Draft tokens proposed per decode round. */
    public double proposedPerRound() {
        return ratio(draftProposed, rounds);
    }

    public double kvBytesPerToken() {
        return ratio(kvBytesCopied, tokens);
    }

    public double kvBytesMovedPerToken() {
        return ratio(kvBytesMoved, tokens);
    }

    /**
     * Where the target kept its KV cache in these calls: {@code bound} or {@code host} (README "The KV cache"),
     * {@code bound+host} if forks differed, empty where not recorded (runs before it was, or no calls).
     */
    public String kvCache() {
        if (calls == 0 || boundKvCalls == 0 && hostIoBytes == 0) {
            return "";
        }
        return boundKvCalls == calls ? "bound" : boundKvCalls == 0 ? "host" : "bound+host";
    }

    /** KV-cache bytes copied by Java's own code per new token (0 on the bound cache). */
    public double kvBytesThroughJavaPerToken() {
        return hostIoBytes == 0 ? Double.NaN : ratio(kvBytesThroughJava, tokens);
    }

    /** Bytes between Java's buffers and the provider per new token; NaN where not recorded. */
    public double hostIoBytesPerToken() {
        return hostIoBytes == 0 ? Double.NaN : ratio(hostIoBytes, tokens);
    }

    /** Padded (non-node) positions per forward, target and draft together. */
    public double paddedPositionsPerForward() {
        return ratio(paddedPositions, targetForwards + draftForwards);
    }

    /**
     * Decode phase (prompt forwards left out): mean tokens fed per row to one target forward of {@code rows}
     * rows (1 for target-only decoding, about 1 + draft tokens for a verifying forward). NaN when not counted.
     */
    public double decodeTargetTokensPerRow(int rows) {
        if (targetTokensFed == 0) {
            return Double.NaN;
        }
        return ratio(targetTokensFed - targetPrefillTokensFed, (targetForwards - targetPrefillForwards) * rows);
    }

    /** Decode phase: draft forwards per target forward; NaN when the fed-token counters were not recorded. */
    public double decodeDraftForwardsPerRound() {
        if (targetTokensFed == 0) {
            return Double.NaN;
        }
        return ratio(draftForwards - draftPrefillForwards, targetForwards - targetPrefillForwards);
    }

    /** Decode phase: mean tokens fed per row to one draft forward of {@code rows} rows; NaN without draft forwards. */
    public double decodeDraftTokensPerRow(int rows) {
        return ratio(draftTokensFed - draftPrefillTokensFed, (draftForwards - draftPrefillForwards) * rows);
    }

    /** Generate calls per benchmark operation. */
    public double callsPerOp() {
        return ratio(calls, ops);
    }

    private static double ratio(long a, long b) {
        return b == 0 ? Double.NaN : (double) a / b;
    }
}
