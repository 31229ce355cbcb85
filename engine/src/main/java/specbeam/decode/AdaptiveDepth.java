package specbeam.decode;

/**
 * Chooses each round's draft depth (0 = no drafting, a plain target step .. {@code k}) from measured costs:
 * per depth, an exponential moving average of ONNX Runtime nanoseconds (target + draft, as counted by the
 * stats collector) per decoding step produced. Every depth is tried first; afterwards the cheapest is used and
 * its neighbours are re-probed every {@link #PROBE_EVERY} rounds, so the choice follows the text (acceptance)
 * and the machine (forward costs). What was learnt carries over to the next generation call with the same
 * configuration and batch size ({@link Registry}). The depth never changes the output, only how fast it comes.
 */
final class AdaptiveDepth {
    static final int PROBE_EVERY = 12;
    private static final double SMOOTHING = 0.3;
    private final double[] nanosPerStep;   // (k + 1): EMA per depth, NaN until tried
    private int round;
    private int current;

    AdaptiveDepth(int maxDepth) {
        nanosPerStep = new double[maxDepth + 1];
        java.util.Arrays.fill(nanosPerStep, Double.NaN);
        current = maxDepth;
    }

    /** Depth for the next round. */
    int next() {
        round++;
        for (int d = nanosPerStep.length - 1; d >= 0; d--) {
            if (Double.isNaN(nanosPerStep[d])) {
                return current = d;
            }
        }
        int best = 0;
        for (int d = 1; d < nanosPerStep.length; d++) {
            if (nanosPerStep[d] < nanosPerStep[best]) {
                best = d;
            }
        }
        if (round % PROBE_EVERY == 0) {
            int probe = (round / PROBE_EVERY) % 2 == 0 ? best + 1 : best - 1;
            if (probe >= 0 && probe < nanosPerStep.length) {
                return current = probe;
            }
        }
        return current = best;
    }

    /** Records the cost of the round just run at the depth {@link #next()} returned. */
    void observe(long ortNanos, long steps) {
        if (steps <= 0) {
            return;
        }
        double v = (double) ortNanos / steps;
        double old = nanosPerStep[current];
        nanosPerStep[current] = Double.isNaN(old) ? v : (1 - SMOOTHING) * old + SMOOTHING * v;
    }

    /** One {@link AdaptiveDepth} per configuration and row count, kept across generation calls. */
    static final class Registry {
        private final java.util.Map<String, AdaptiveDepth> byKey = new java.util.HashMap<>();

        AdaptiveDepth forConfig(GenerationConfig config, int rows) {
            String key = config.mode() + "/" + config.k() + "/" + config.beamWidth() + "/" + config.treeBranching()
                    + "/" + config.treeBudget() + "/" + rows;
            return byKey.computeIfAbsent(key, x -> new AdaptiveDepth(config.k()));
        }
    }
}
