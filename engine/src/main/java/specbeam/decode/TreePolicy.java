package specbeam.decode;

import java.util.Arrays;

/**
 * The hardware-aware tree of speculative beam search (in the spirit of Sequoia and EAGLE-2): each round it
 * picks the draft tree — depth {@code d} (0 = one plain beam step, no draft) and candidates per level
 * {@code w} (a multiple of the beam width up to {@code treeBranching * B}) — with the most beam steps per
 * millisecond. The rate of a shape is what its own rounds measured (sums of steps and wall time that decay with
 * the shape's own rounds, so its last ten or so count most), with a model as the prior that rounds outweigh:
 *
 * <pre>
 *   E[steps](d, w) = 1 + sum_{l=1..d} prod_{i<l} P(rank_i &lt; B) * P(rank_l &lt; w)
 *   cost(d, w)     = T_target(B + d*w) + T_draft(catch-up) + (d-1) * T_draft(B) + overhead(d)
 *   rate(d, w)     = (steps measured + E[steps]) / (ms measured + cost)
 * </pre>
 *
 * where {@code rank_l} is the worst draft rank (order among the level's candidates) of the B beams the target
 * selects at level {@code l} — all must be tree nodes for the replay to go on, and only the draft's best B of
 * a level have children — and {@code T} are the models' measured forward-time curves ({@link ForwardCosts}).
 * The rank statistics are counted per level and tree width from the rounds actually replayed, with a little
 * forgetting so they follow the text; they let a shape never run be judged from larger trees. Rounds in the
 * first {@link #WARM_UP_ROUNDS} (JIT compilation) are neither timed nor used for the model's overheads, and a
 * round's draft catch-up counts at its steady-state size: after plain steps the draft first catches up on every
 * beam's tokens since, which a shape pays once when chosen, not every round. The first round uses the full
 * tree; the first timed round is a plain step; afterwards a probe tries another shape every
 * {@link #PROBE_EVERY}th round — every other probe a plain step, in between every tree shape in turn — the
 * interval doubling (up to {@link #MAX_PROBE_EVERY}) while probes leave the best shape as it was. Without the
 * plain re-measurements a run that settled on trees priced a plain step from forwards timed during JIT warm-up
 * (6.9 ms against 1.5) and kept trees that lost 20-40%. The tree never changes the output, only how fast it comes.
 */
final class TreePolicy {
    static final int PROBE_EVERY = 16;
    static final int MAX_PROBE_EVERY = 256;
    static final int WARM_UP_ROUNDS = 128;
    private static final double FORGET = 0.995;
    private static final double OWN_FORGET = 0.9;     // per round of the same shape, of that shape's timed sums
    private static final double GAP_FORGET = 0.998;   // per round since the shape's last timed round, applied then
    private static final double RATE_PRIOR = 0.25;    // rounds' worth of the model in a shape's rate
    private static final double PRIOR = 1.0;          // pseudo-observations of the priors (coverage and rate)
    private static final double PRIOR_HIT = 0.5;      // prior chance that a level's selections are covered
    private static final double SMOOTHING = 0.2;
    private static final double CLIP = 4.0;           // a round over CLIP x its shape's mean counts as CLIP x the mean

    /** A tree shape: depth and candidates per level. */
    record Shape(int depth, int perLevel) {
    }

    private final int width;
    private final int prompts;         // rows of every forward
    private final int maxDepth;
    private final int maxBranching;
    private final double[][] attempts;     // (level 1..k, branching 1..W): decayed count of levels attempted
    private final double[][][] worstRank;  // (level, branching, rank 0..W*B-1): decayed count of worst ranks
    private final double[] overheadNanos;  // (depth 0..k): EMA of a round's time outside ONNX Runtime
    private final double[] catchUpNodes;   // (depth 0..k): EMA of nodes in the draft's catch-up forward
    private final double[][] wallSum;      // (depth 0..k, branching 1..W): decayed sum of timed rounds' nanos
    private final double[][] stepSum;      // (depth, branching): decayed sum of their beam steps (per prompt)
    private final double[][] roundSum;     // (depth, branching): decayed count of those rounds
    private final int[][] lastTimed;       // (depth, branching): the round the shape was last timed in, 0 = never
    private int round;
    private int nextProbe = PROBE_EVERY;   // the round of the next probe
    private int probeInterval = PROBE_EVERY;
    private int probes;                    // probes so far: even ones are plain steps
    private int treeProbes;                // tree probes so far: which shape the next one tries
    private Shape bestBeforeProbe;         // the best shape in the round just probed; null in other rounds

    TreePolicy(int width, int prompts, int maxDepth, int maxBranching) {
        this.width = width;
        this.prompts = prompts;
        this.maxDepth = maxDepth;
        this.maxBranching = maxBranching;
        this.attempts = new double[maxDepth + 1][maxBranching + 1];
        this.worstRank = new double[maxDepth + 1][maxBranching + 1][maxBranching * width];
        this.overheadNanos = new double[maxDepth + 1];
        this.catchUpNodes = new double[maxDepth + 1];
        Arrays.fill(overheadNanos, Double.NaN);
        Arrays.fill(catchUpNodes, Double.NaN);
        this.wallSum = new double[maxDepth + 1][maxBranching + 1];
        this.stepSum = new double[maxDepth + 1][maxBranching + 1];
        this.roundSum = new double[maxDepth + 1][maxBranching + 1];
        this.lastTimed = new int[maxDepth + 1][maxBranching + 1];
    }

    /** The shape of the next round, a probe allowed. */
    Shape next(ForwardCosts target, ForwardCosts draft) {
        return next(target, draft, 0);
    }

    /**
     * The shape of the next round.
     *
     * @param draftLag tokens per prompt the draft has not seen (it catches up on them before a tree): a probe due
     *                 while the lag is over two per beam waits for a round with a short one (the next generation
     *                 call's start at the latest), so that it does not pay for the draft's catch-up after a
     *                 stretch of plain steps
     */
    Shape next(ForwardCosts target, ForwardCosts draft, int draftLag) {
        round++;
        if (round == 1) {
            return new Shape(maxDepth, maxBranching * width);   // one full tree: every level and rank observed once
        }
        int bestDepth = 0;
        int bestBranching = 1;
        double bestRate = rate(0, 1, target, draft);
        for (int d = 1; d <= maxDepth; d++) {
            for (int b = 1; b <= maxBranching; b++) {
                double rate = rate(d, b, target, draft);
                if (rate > bestRate) {
                    bestRate = rate;
                    bestDepth = d;
                    bestBranching = b;
                }
            }
        }
        Shape best = new Shape(bestDepth, bestBranching * width);
        if (bestBeforeProbe != null) {
            // one round after a probe: the same best shape doubles the interval (a probe of a shape that does
            // not pay costs like a tree that does not pay), a new best starts it afresh
            probeInterval = best.equals(bestBeforeProbe) ? Math.min(MAX_PROBE_EVERY, 2 * probeInterval) : PROBE_EVERY;
            nextProbe = round - 1 + probeInterval;
            bestBeforeProbe = null;
        }
        // The first timed rounds measure a plain step: the model's price of one comes from forwards and rounds
        // timed during JIT warm-up, which a run on trees never refreshes (4x too dear, seen here).
        boolean plainDue = round == WARM_UP_ROUNDS + 1 || (round >= nextProbe && probes % 2 == 0);
        if (plainDue || round >= nextProbe && draftLag <= 2 * width) {
            // explore: every other probe a plain step (it re-measures the baseline, whose time drifts with the
            // row's length and the machine), in between every tree shape in turn but the best; a shape better
            // than its neighbours' measurements suggest is found without climbing to it one step at a time
            bestBeforeProbe = best;
            Shape probe = plainDue ? new Shape(0, width) : nextTreeProbe(best);
            probes++;
            if (probe != null && !probe.equals(best)) {
                return probe;   // one round: probes of several rounds measured no better here and cost more
            }
        }
        return best;
    }

    /** The tree shape after the last one probed, in turn, skipping {@code best}. */
    private Shape nextTreeProbe(Shape best) {
        int shapes = maxDepth * maxBranching;
        for (int tries = 0; tries < shapes; tries++) {
            int i = treeProbes++ % shapes;
            Shape shape = new Shape(1 + i / maxBranching, (1 + i % maxBranching) * width);
            if (!shape.equals(best)) {
                return shape;
            }
        }
        return null;
    }

    /** Expected beam steps of a round with a tree of depth {@code d} and {@code b * B} candidates per level. */
    double expectedSteps(int d, int b) {
        double steps = 1;
        double reach = 1;
        for (int l = 1; l <= d; l++) {
            steps += reach * covered(l, b * width);
            reach *= covered(l, width);
        }
        return steps;
    }

    /** P(all B selections at level l rank below {@code limit}), from rounds whose tree had at least that many. */
    private double covered(int level, int limit) {
        double n = PRIOR;
        double hit = PRIOR * PRIOR_HIT;
        for (int b = 1; b <= maxBranching; b++) {
            if (b * width < limit) {
                continue;
            }
            n += attempts[level][b];
            for (int r = 0; r < limit; r++) {
                hit += worstRank[level][b][r];
            }
        }
        return hit / n;
    }

    /** Beam steps per nanosecond of shape (d, b): its measured rounds, the model as a prior of one round. */
    double rate(int d, int b, ForwardCosts target, ForwardCosts draft) {
        int c = d == 0 ? 1 : b;
        double steps = stepSum[d][c] + RATE_PRIOR * expectedSteps(d, b);
        double nanos = wallSum[d][c] + RATE_PRIOR * modelCost(d, b, target, draft);
        return steps / Math.max(1, nanos);
    }

    /** The model's nanoseconds of a round of shape (d, b). */
    double modelCost(int d, int b, ForwardCosts target, ForwardCosts draft) {
        double nanos = target.nanos(prompts * (width + d * b * width));
        if (d > 0) {
            double catchUp = Double.isNaN(catchUpNodes[d]) ? 2.0 * width : Math.min(catchUpNodes[d], 2.0 * width);
            nanos += draft.nanos(prompts * (int) Math.round(catchUp)) + (d - 1) * draft.nanos(prompts * width);
        }
        double overhead = overheadNanos[d];
        if (Double.isNaN(overhead)) {   // not measured at this depth yet: the nearest shallower depth's
            for (int e = d - 1; e >= 0 && Double.isNaN(overhead); e--) {
                overhead = overheadNanos[e];
            }
        }
        return Math.max(1, nanos + (Double.isNaN(overhead) ? 0 : overhead));
    }

    /**
     * Records what the target selected at one tree level of the round just replayed.
     *
     * @param level     1-based tree level
     * @param perLevel  candidates per level of this round's tree
     * @param worst     worst draft rank among the B selections, or -1 if one of them was no tree node
     */
    void observeLevel(int level, int perLevel, int worst) {
        int b = Math.max(1, Math.min(maxBranching, perLevel / width));
        attempts[level][b]++;
        if (worst >= 0 && worst < worstRank[level][b].length) {
            worstRank[level][b][worst]++;
        }
    }

    /**
     * Records a round of {@code shape}.
     *
     * @param round what it cost and advanced: wall time, the part outside ONNX Runtime, the draft's catch-up
     *              forward (nodes per prompt, nanoseconds) and the beam steps per prompt
     */
    void observeRound(Shape shape, RoundCost round) {
        int depth = shape.depth();
        int branching = depth == 0 ? 1 : Math.max(1, Math.min(maxBranching, shape.perLevel() / width));
        forget();
        if (this.round <= WARM_UP_ROUNDS) {   // JIT compilation: neither timed nor a model parameter
            return;
        }
        overheadNanos[depth] = ema(overheadNanos[depth], round.overheadNanos());
        if (depth > 0) {
            catchUpNodes[depth] = ema(catchUpNodes[depth], round.catchUpNodes());
        }
        double wall = round.wallNanos();
        double steady = 2.0 * width;   // a beam's pending token and one unfed path token: the catch-up between trees
        if (round.catchUpNodes() > steady) {
            wall -= round.catchUpNanos() * (1 - steady / round.catchUpNodes());
        }
        if (roundSum[depth][branching] >= 1) {
            wall = Math.min(wall, CLIP * wallSum[depth][branching] / roundSum[depth][branching]);
        }
        // A shape's sums age when it is timed again: by its own rounds, and by the rounds since it was last timed.
        // One not chosen keeps what its last rounds measured instead of fading back to the model's prior (which
        // mis-prices a plain step by a third here); a probe after a long gap outweighs what was measured long
        // ago (a plain step timed while the machine or the JIT was busier took ~250 calls to wash out by own
        // rounds alone: probes come every 512 rounds at the slowest).
        int since = lastTimed[depth][branching] == 0 ? 1 : this.round - lastTimed[depth][branching];
        double keep = OWN_FORGET * Math.pow(GAP_FORGET, Math.max(0, since - 1));
        lastTimed[depth][branching] = this.round;
        wallSum[depth][branching] = keep * wallSum[depth][branching] + wall;
        stepSum[depth][branching] = keep * stepSum[depth][branching] + round.steps();
        roundSum[depth][branching] = keep * roundSum[depth][branching] + 1;
    }

    /** What one round cost and advanced, for {@link #observeRound}. */
    record RoundCost(long wallNanos, long overheadNanos, int catchUpNodes, long catchUpNanos, double steps) {
    }

    private static double ema(double old, double value) {
        return Double.isNaN(old) ? value : (1 - SMOOTHING) * old + SMOOTHING * value;
    }

    private void forget() {
        for (double[] row : attempts) {
            for (int b = 0; b < row.length; b++) {
                row[b] *= FORGET;
            }
        }
        for (double[][] level : worstRank) {
            for (double[] row : level) {
                for (int r = 0; r < row.length; r++) {
                    row[r] *= FORGET;
                }
            }
        }
    }

    /** One {@link TreePolicy} per configuration and batch size, kept across generation calls. */
    static final class Registry {
        private final java.util.Map<String, TreePolicy> byKey = new java.util.HashMap<>();

        TreePolicy forConfig(GenerationConfig config, int prompts) {
            String key = config.k() + "/" + config.beamWidth() + "/" + config.treeBranching() + "/" + prompts;
            return byKey.computeIfAbsent(key, x -> new TreePolicy(config.beamWidth(), prompts, config.k(), config.treeBranching()));
        }
    }
}
