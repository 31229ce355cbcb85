package specbeam.decode;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

/** The hardware-aware tree policy and its forward-cost curve, on synthetic costs and selections. */
class TreePolicyTest {

    private static ForwardCosts linear(double fixedNanos, double perPosition) {
        ForwardCosts c = new ForwardCosts(256);
        for (int n : new int[] {1, 4, 16, 64}) {
            c.observe(n, Math.round(fixedNanos + perPosition * n));
        }
        return c;
    }

    @Test
    void costCurveInterpolatesAndExtrapolatesMeasuredSizes() {
        ForwardCosts c = linear(1000, 100);
        assertThat(c.nanos(4)).isEqualTo(1400);
        assertThat(c.nanos(10)).isCloseTo(2000, within(1e-9));     // between 4 and 16
        assertThat(c.nanos(128)).isCloseTo(13800, within(1e-9));   // the slope of the last two points
        assertThat(new ForwardCosts(8).nanos(3)).isZero();
    }

    /** Runs {@code rounds} rounds of one shape through the policy (its own choices ignored). */
    private static void observeRounds(TreePolicy policy, int rounds, int depth, int perLevel, int worst, long wall,
                                      double steps) {
        for (int i = 0; i < rounds; i++) {
            policy.next(new ForwardCosts(8), new ForwardCosts(8));
            for (int level = 1; level <= depth; level++) {
                policy.observeLevel(level, perLevel, worst);
            }
            policy.observeRound(new TreePolicy.Shape(depth, perLevel), new TreePolicy.RoundCost(wall, 0, 8, 0, steps));
        }
    }

    @Test
    void aDraftThatAlwaysCoversTheBeamsGetsTheDeepestTreeWhenForwardsAreCheap() {
        TreePolicy policy = new TreePolicy(4, 1, 4, 2);
        observeRounds(policy, 200, 4, 8, 2, 5_500_000, 5);   // every selection among the draft's best 3
        ForwardCosts flatTarget = linear(5_000_000, 1_000);   // a forward's size barely matters
        ForwardCosts cheapDraft = linear(100_000, 100);
        TreePolicy.Shape shape = policy.next(flatTarget, cheapDraft);
        assertThat(shape.depth()).isEqualTo(4);
        assertThat(policy.expectedSteps(4, 1)).isGreaterThan(4.5);
    }

    @Test
    void theFirstRoundIsTheFullTree() {
        TreePolicy policy = new TreePolicy(4, 1, 3, 2);
        assertThat(policy.next(linear(1_000_000, 1_000), linear(100_000, 100))).isEqualTo(new TreePolicy.Shape(3, 8));
    }

    @Test
    void aDraftThatNeverCoversTheBeamsFallsBackToPlainBeamStepsAndProbesLessAndLess() {
        TreePolicy policy = new TreePolicy(4, 1, 4, 2);
        observeRounds(policy, 200, 4, 8, -1, 5_300_000, 1);   // a selection off the tree at every level
        assertThat(policy.expectedSteps(4, 2)).isCloseTo(1.0, within(0.05));
        ForwardCosts target = linear(2_000_000, 50_000);
        ForwardCosts draft = linear(300_000, 5_000);
        java.util.List<Integer> probeRounds = new java.util.ArrayList<>();
        for (int round = 201; round <= 1200; round++) {
            TreePolicy.Shape shape = policy.next(target, draft);
            if (shape.depth() > 0) {
                probeRounds.add(round);
                policy.observeLevel(1, shape.perLevel(), -1);
                policy.observeRound(shape, new TreePolicy.RoundCost(3_000_000, 0, 8, 0, 1));
            } else {
                policy.observeRound(shape, new TreePolicy.RoundCost(2_200_000, 0, 0, 0, 1));
            }
        }
        // the probes leave plain steps the best, so their interval doubles up to its limit; every other probe is a
        // plain step (here the best already, so no tree runs), so trees are tried every second interval
        java.util.List<Integer> gaps = new java.util.ArrayList<>();
        for (int i = 1; i < probeRounds.size(); i++) {
            gaps.add(probeRounds.get(i) - probeRounds.get(i - 1));
        }
        // (16, 32, 64, 128 during the first 200 rounds already)
        assertThat(probeRounds).hasSizeBetween(1, 3);
        assertThat(gaps).containsOnly(2 * TreePolicy.MAX_PROBE_EVERY);
    }

    @Test
    void expensiveWideForwardsMakeTheTreeNarrowerOrShallower() {
        TreePolicy policy = new TreePolicy(4, 1, 4, 2);
        // level 1 is covered by the best 4 half the time, by the best 8 always; deeper levels rarely
        for (int i = 0; i < 200; i++) {
            policy.next(new ForwardCosts(8), new ForwardCosts(8));
            policy.observeLevel(1, 8, i % 2 == 0 ? 2 : 6);
            policy.observeLevel(2, 8, i % 10 == 0 ? 1 : -1);
            policy.observeRound(new TreePolicy.Shape(4, 8), new TreePolicy.RoundCost(36_000_000, 0, 8, 0, 2.5));
        }
        ForwardCosts steep = linear(100_000, 1_000_000);   // every fed position costs a lot
        ForwardCosts draft = linear(100_000, 1_000);
        TreePolicy.Shape shape = policy.next(steep, draft);
        assertThat(shape.depth()).isLessThanOrEqualTo(1);
    }

    @Test
    void measuredRoundsOutweighTheModelAndWarmUpRoundsAreNotTimed() {
        TreePolicy policy = new TreePolicy(4, 1, 2, 2);
        // the curves say a depth-1 tree costs little more than a plain step; the rounds say it costs 2 ms for
        // 1.2 steps, a plain step 1.2 ms (10 ms while the JIT compiles, in the first rounds)
        ForwardCosts target = linear(1_000_000, 10_000);
        ForwardCosts draft = linear(10_000, 1_000);
        int plainLate = plainStepsAtTheEnd(policy, target, draft, 400, 100,
                round -> new TreePolicy.RoundCost(round <= TreePolicy.WARM_UP_ROUNDS ? 10_000_000 : 1_200_000, 200_000,
                        0, 0, 1),
                round -> round % 5 == 0 ? 3 : -1,
                (round, shape) -> new TreePolicy.RoundCost(1_000_000L * (1 + shape.depth()), 300_000, 6, 0,
                        round % 5 == 0 ? 2 : 1));
        assertThat(plainLate).as("plain steps in rounds 301..400 (the rest are probes)").isGreaterThanOrEqualTo(97);
    }

    @Test
    void aCatchUpAfterPlainStepsCountsAtItsSteadyStateSize() {
        TreePolicy policy = new TreePolicy(4, 1, 1, 1);
        ForwardCosts none = new ForwardCosts(8);
        for (int round = 1; round <= TreePolicy.WARM_UP_ROUNDS; round++) {
            policy.next(none, none);
        }
        // rounds that cost 1 ms but for a catch-up forward of 64 nodes (8 ms); at 8 nodes it costs 1 ms
        for (int i = 0; i < 2000; i++) {
            policy.next(none, none);
            policy.observeRound(new TreePolicy.Shape(1, 4), new TreePolicy.RoundCost(9_000_000, 0, 64, 8_000_000, 2));
        }
        // (the model's prior weighs a quarter round against the ten or so rounds a shape's sums hold)
        assertThat(policy.rate(1, 1, none, none)).isCloseTo(2 / 2_000_000.0, within(2 / 2_000_000.0 * 0.03));
    }

    @Test
    void aPlainStepPricedDuringJitWarmUpIsMeasuredAgainOnceItEnds() {
        TreePolicy policy = new TreePolicy(4, 1, 1, 2);
        // curves learnt while the JIT compiled: a 4-node forward 3 ms (really 1.3), so the model prices a plain
        // step above a tree that really costs 3.5 ms for 1.7 steps; a plain step really costs 1.5 ms
        ForwardCosts target = linear(3_000_000, 10_000);
        ForwardCosts draft = linear(10_000, 1_000);
        int plainLate = plainStepsAtTheEnd(policy, target, draft, 600, 100,
                round -> round <= TreePolicy.WARM_UP_ROUNDS ? new TreePolicy.RoundCost(10_000_000, 4_000_000, 0, 0, 1)
                        : new TreePolicy.RoundCost(1_500_000, 200_000, 0, 0, 1),
                round -> round % 10 < 7 ? 1 : -1,
                (round, shape) -> new TreePolicy.RoundCost(3_500_000, 300_000, 8, 300_000, round % 10 < 7 ? 2 : 1));
        assertThat(plainLate).as("plain steps in rounds 501..600 (the rest are probes)").isGreaterThanOrEqualTo(97);
    }

    @Test
    void aProbeAfterALongGapOutweighsWhatTheShapeMeasuredLongAgo() {
        TreePolicy policy = new TreePolicy(4, 1, 1, 1);
        ForwardCosts none = new ForwardCosts(8);
        skipRounds(policy, TreePolicy.WARM_UP_ROUNDS);
        // twenty plain steps timed at 10 ms (the machine busy), then five probes 512 rounds apart at 1.5 ms
        for (int i = 0; i < 20; i++) {
            policy.next(none, none);
            policy.observeRound(new TreePolicy.Shape(0, 4), new TreePolicy.RoundCost(10_000_000, 0, 0, 0, 1));
        }
        for (int probe = 0; probe < 5; probe++) {
            skipRounds(policy, 511);
            policy.next(none, none);
            policy.observeRound(new TreePolicy.Shape(0, 4), new TreePolicy.RoundCost(1_500_000, 0, 0, 0, 1));
        }
        // by its own rounds alone the old rounds would still hold ~60% of the weight: about 6 ms a step
        assertThat(1 / policy.rate(0, 1, none, none)).isCloseTo(1_500_000, within(150_000.0));
    }

    /** Advances the policy's round count by {@code n} rounds that time nothing. */
    private static void skipRounds(TreePolicy policy, int n) {
        ForwardCosts none = new ForwardCosts(8);
        for (int i = 0; i < n; i++) {
            policy.next(none, none);
        }
    }

    /**
     * Runs rounds 1..{@code rounds} of a policy whose plain steps cost {@code plain(round)} and whose trees reach a
     * worst draft rank of {@code worstRank(round)} at level 1 (-1: off the tree) for {@code tree(round, shape)};
     * returns how many of the last {@code late} rounds were plain steps.
     */
    private static int plainStepsAtTheEnd(TreePolicy policy, ForwardCosts target, ForwardCosts draft, int rounds,
                                          int late, java.util.function.IntFunction<TreePolicy.RoundCost> plain,
                                          java.util.function.IntUnaryOperator worstRank,
                                          java.util.function.BiFunction<Integer, TreePolicy.Shape, TreePolicy.RoundCost> tree) {
        int plainLate = 0;
        for (int round = 1; round <= rounds; round++) {
            TreePolicy.Shape shape = policy.next(target, draft);
            if (shape.depth() == 0) {
                policy.observeRound(shape, plain.apply(round));
                plainLate += round > rounds - late ? 1 : 0;
            } else {
                policy.observeLevel(1, shape.perLevel(), worstRank.applyAsInt(round));
                policy.observeRound(shape, tree.apply(round, shape));
            }
        }
        return plainLate;
    }
}
