package specbeam.decode;

/**
 * Chooses each round's draft depth (0 = no drafting, a plain target step .. {@code k}) from measured costs:
 * per depth, wall nanoseconds per decoding step produced (ONNX Runtime alone missed the Java work of a round —
 * speculative sampling's softmaxes and rejection tests — so deep rounds looked cheaper than they were), as a
 * ratio of decayed sums over that depth's own rounds — not an average of per-round ratios, which
 * a round rejected at its first token (one step for a whole round's cost) pulls up far more than a fully
 * accepted one pulls down, so that deep drafts looked dearer than they are (the suite's adaptive point sat
 * at depth ~1, 1.11x, where fixed k = 4..6 gave 1.28-1.30x). Rounds during JIT warm-up ({@link #WARM_UP_ROUNDS})
 * run at full depth and are not measured. Every depth is tried first; afterwards the cheapest is used and
 * its neighbours are re-probed every {@link #PROBE_EVERY} rounds, so the choice follows the text (acceptance)
 * and the machine (forward costs). What was learnt carries over to the next generation call with the same
 * configuration and batch size ({@link Registry}). The depth never changes the output, only how fast it comes.
 */
final class AdaptiveDepth {
    static final int PROBE_EVERY = 12;
    static final int WARM_UP_ROUNDS = 64;
    private static final double FORGET = 0.95;   // per round of the same depth, of that depth's sums
    private final double[] nanos;          // (k + 1): decayed sum of the rounds' wall nanoseconds per depth
    private final double[] steps;          // (k + 1): decayed sum of the steps those rounds produced
    private int round;
    private int current;

    AdaptiveDepth(int maxDepth) {
        nanos = new double[maxDepth + 1];
        steps = new double[maxDepth + 1];
        current = maxDepth;
    }

    /** Depth for the next round. */
    int next() {
        round++;
        for (int d = steps.length - 1; d >= 0; d--) {
            if (steps[d] == 0) {
                return current = d;
            }
        }
        int best = 0;
        for (int d = 1; d < steps.length; d++) {
            if (nanosPerStep(d) < nanosPerStep(best)) {
                best = d;
            }
        }
        if (round % PROBE_EVERY == 0) {
            int probe = (round / PROBE_EVERY) % 2 == 0 ? best + 1 : best - 1;
            if (probe >= 0 && probe < steps.length) {
                return current = probe;
            }
        }
        return current = best;
    }

    /** Records the cost of the round just run at the depth {@link #next()} returned. */
    void observe(long wallNanos, long produced) {
        if (produced <= 0 || round <= WARM_UP_ROUNDS) {
            return;
        }
        nanos[current] = FORGET * nanos[current] + wallNanos;
        steps[current] = FORGET * steps[current] + produced;
    }

    /** Measured wall nanoseconds per step at depth {@code d} (infinite until tried). */
    double nanosPerStep(int d) {
        return steps[d] > 0 ? nanos[d] / steps[d] : Double.POSITIVE_INFINITY;
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
