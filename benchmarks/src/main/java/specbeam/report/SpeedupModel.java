package specbeam.report;

import specbeam.suite.CounterTotals;

/**
 * Expected speedup of a speculative mode from its measured acceptance and measured forward costs.
 *
 * <pre>
 *   steps per round = 1 + a * g                 a = acceptance rate (accepted / proposed), g = draft tokens per round
 *   speedup         = steps per round * c_base / (c_verify + d * c_draft)
 * </pre>
 *
 * Each verification round keeps the accepted draft tokens and adds the target's own next token, hence
 * {@code 1 + a * g}. {@code c_base} is the baseline's ONNX Runtime time per target forward (one step each),
 * {@code c_verify} the speculative run's time per target forward, {@code d} its draft forwards per target
 * forward and {@code c_draft} its time per draft forward. Costs are ONNX Runtime time only, so the model leaves
 * out Java, cache bookkeeping and the loop itself: the gap to the measured speedup is that overhead.
 *
 * <p>For extrapolating to other draft lengths, {@link #perTokenAcceptance} fits the per-token acceptance
 * probability of Leviathan et al. (2023), under which a round of {@code g} draft tokens advances
 * {@code (1 - alpha^(g+1)) / (1 - alpha)} steps on average. A speculative beam tree proposes many nodes off
 * the selected paths, so neither formula applies to it; there the model takes the measured steps per round.
 */
public final class SpeedupModel {

    private SpeedupModel() {
    }

    /** {@code 1 + a * g}; NaN when either is unknown. */
    public static double stepsPerRound(double acceptance, double draftTokensPerRound) {
        return 1 + acceptance * draftTokensPerRound;
    }

    /**
     * The i.i.d. per-token acceptance probability alpha with which a draft of {@code g} tokens yields the
     * measured mean accepted tokens {@code a * g}: the root of {@code alpha (1 - alpha^g) / (1 - alpha) = a g}.
     */
    public static double perTokenAcceptance(double acceptance, double draftTokensPerRound) {
        if (!(acceptance >= 0) || !(draftTokensPerRound > 0)) {
            return Double.NaN;
        }
        double target = acceptance * draftTokensPerRound;
        if (acceptance >= 1) {
            return 1.0;
        }
        double lo = 0;
        double hi = 1;
        for (int i = 0; i < 100; i++) {
            double mid = (lo + hi) / 2;
            double accepted = mid * (1 - Math.pow(mid, draftTokensPerRound)) / (1 - mid);
            if (accepted < target) {
                lo = mid;
            } else {
                hi = mid;
            }
        }
        return (lo + hi) / 2;
    }

    /** Leviathan et al.'s expected steps per round for per-token acceptance alpha and g draft tokens. */
    public static double iidStepsPerRound(double alpha, double draftTokensPerRound) {
        return alpha >= 1 ? draftTokensPerRound + 1 : (1 - Math.pow(alpha, draftTokensPerRound + 1)) / (1 - alpha);
    }

    /**
     * The speedup if drafting and all Java work cost nothing: measured steps per target forward x the baseline's
     * ONNX Runtime time per target forward / the speculative run's. Below 1.0 the verification forward alone
     * costs more than the steps it buys.
     */
    public static double freeDraftBound(CounterTotals speculative, CounterTotals baseline) {
        if (speculative.targetForwards() == 0 || baseline.targetForwards() == 0 || speculative.targetOrtNanos() == 0) {
            return Double.NaN;
        }
        double baseCostPerStep = (double) baseline.targetOrtNanos() / baseline.targetForwards();
        double verifyCost = (double) speculative.targetOrtNanos() / speculative.targetForwards();
        return speculative.stepsPerTargetForward() * baseCostPerStep / verifyCost;
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
