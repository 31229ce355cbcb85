package specbeam.report;

import specbeam.suite.CounterTotals;

/**
 * Expected speedup of a speculative mode from its measured acceptance and measured forward costs
 * (Leviathan et al., 2023, with i.i.d. acceptance):
 *
 * <pre>
 *   E[steps per round] = (1 - a^(g+1)) / (1 - a)          a = acceptance rate, g = draft tokens per round
 *   speedup            = E[steps per round] * c_base / (c_verify + d * c_draft)
 * </pre>
 *
 * where {@code c_base} is the baseline's ONNX Runtime time per target forward (one step each),
 * {@code c_verify} the speculative run's time per target forward, {@code d} its draft forwards per target
 * forward and {@code c_draft} its time per draft forward. All costs are ONNX Runtime time, so the model
 * leaves out everything else (Java, cache bookkeeping): the gap to the measured speedup is that overhead.
 * For beam trees and adaptive draft lengths the i.i.d. chain is an approximation; the second form, with the
 * measured steps per round instead of {@code E[...]}, isolates the cost side.
 */
public final class SpeedupModel {

    private SpeedupModel() {
    }

    /** {@code (1 - a^(g+1)) / (1 - a)}, or {@code g + 1} at {@code a = 1}; NaN when either is unknown. */
    public static double expectedStepsPerRound(double acceptance, double draftTokensPerRound) {
        if (Double.isNaN(acceptance) || Double.isNaN(draftTokensPerRound)) {
            return Double.NaN;
        }
        if (acceptance >= 1.0) {
            return draftTokensPerRound + 1;
        }
        return (1 - Math.pow(acceptance, draftTokensPerRound + 1)) / (1 - acceptance);
    }

    /** Speedup for a given number of steps per round, from the two runs' ONNX Runtime costs. */
    public static double speedup(double stepsPerRound, CounterTotals speculative, CounterTotals baseline) {
        if (speculative.targetForwards() == 0 || baseline.targetForwards() == 0) {
            return Double.NaN;
        }
        double baseCostPerStep = (double) baseline.targetOrtNanos() / baseline.targetForwards();
        double roundCost = (double) (speculative.targetOrtNanos() + speculative.draftOrtNanos())
                / speculative.targetForwards();
        return stepsPerRound * baseCostPerStep / roundCost;
    }
}
