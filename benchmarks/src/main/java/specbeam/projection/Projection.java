package specbeam.projection;

import specbeam.report.ResultRow;

/**
 * The speedup a speculative point would have on other hardware, from its measured forward counts and a forward
 * cost curve measured there. Decode phase only (the prompt's forwards are left out on both sides):
 *
 * <pre>
 *   speedup = s * c_T(R, B) / (c_T(R, q_T) + d * c_D(R, q_D))
 * </pre>
 *
 * {@code s} = measured decoding steps per target forward (the target-only baseline makes one step per forward,
 * feeding one token per beam: {@code B}, 1 without beams), {@code R} = rows per forward (prompts per call: a
 * prompt's beams share its row as a token tree), {@code q_T} = measured mean tokens fed per row to a
 * verifying target forward, {@code d} = measured draft forwards per target forward, {@code q_D} = measured mean
 * tokens fed per row to a draft forward; {@code c_T} and {@code c_D} come from the curve. Only forward time is
 * modelled: the engine's own work between forwards, which on a GPU host is CPU time beside the device, is assumed
 * to be small.
 *
 * @param stepsPerForward        s
 * @param rows                   R
 * @param beamWidth              B
 * @param targetTokensPerRow     q_T
 * @param draftForwardsPerRound  d
 * @param draftTokensPerRow      q_D
 */
public record Projection(double stepsPerForward, int rows, int beamWidth, double targetTokensPerRow,
                         double draftForwardsPerRound, double draftTokensPerRow) {

    /** The measured inputs of a speculative CSV row (NaN where its run did not record them). */
    public static Projection of(ResultRow r) {
        return new Projection(nan(r.stepsPerTargetForward()), r.rowsPerForward(), r.beamWidth(),
                nan(r.decodeTargetTokensPerRow()),
                nan(r.decodeDraftForwardsPerRound()), nan(r.decodeDraftTokensPerRow()));
    }

    private static double nan(Double v) {
        return v == null ? Double.NaN : v;
    }

    /** The projected cost of one round and of the baseline steps it replaces, in curve milliseconds. */
    public record Costs(double baselineMsPerStep, double verifyMs, double draftMsPerRound) {
        public double roundMs() {
            return verifyMs + draftMsPerRound;
        }
    }

    /** Costs of one round with the given target and draft shapes of the curve; NaN parts outside its range. */
    public Costs costs(CostCurve curve, String target, String draft) {
        double draftMs = draftForwardsPerRound > 0
                ? draftForwardsPerRound * curve.ms(draft, rows, Math.max(1, draftTokensPerRow))
                : 0;
        return new Costs(curve.ms(target, rows, Math.max(1, beamWidth)), curve.ms(target, rows, targetTokensPerRow),
                draftMs);
    }

    /** Projected speedup over the target-only baseline; NaN when the point lies outside the curve's range. */
    public double speedup(CostCurve curve, String target, String draft) {
        Costs c = costs(curve, target, draft);
        return stepsPerForward * c.baselineMsPerStep() / c.roundMs();
    }

    /** True when every input was measured (runs before the fed-token counters lack them). */
    public boolean isComplete() {
        return Double.isFinite(stepsPerForward) && Double.isFinite(targetTokensPerRow)
                && Double.isFinite(draftForwardsPerRound) && rows >= 1
                && (draftForwardsPerRound == 0 || Double.isFinite(draftTokensPerRow));
    }
}
