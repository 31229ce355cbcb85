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

    private static void observeRounds(TreePolicy policy, int rounds, int depth, int perLevel, int worst, long wall) {
        for (int i = 0; i < rounds; i++) {
            for (int level = 1; level <= depth; level++) {
                policy.observeLevel(level, perLevel, worst);
            }
            policy.observeRound(new TreePolicy.Shape(depth, perLevel), wall, 0, 8);
        }
    }

    @Test
    void aDraftThatAlwaysCoversTheBeamsGetsTheDeepestTreeWhenForwardsAreCheap() {
        TreePolicy policy = new TreePolicy(4, 1, 4, 2);
        observeRounds(policy, 200, 4, 8, 2, 5_500_000);   // every selection among the draft's best 3
        ForwardCosts flatTarget = linear(5_000_000, 1_000);   // a forward's size barely matters
        ForwardCosts cheapDraft = linear(100_000, 100);
        assertThat(policy.next(flatTarget, cheapDraft)).isEqualTo(new TreePolicy.Shape(4, 8));   // the first round: full tree
        TreePolicy.Shape shape = policy.next(flatTarget, cheapDraft);
        assertThat(shape.depth()).isEqualTo(4);
        assertThat(policy.expectedSteps(4, 1)).isGreaterThan(4.5);
    }

    @Test
    void aDraftThatNeverCoversTheBeamsFallsBackToPlainBeamSteps() {
        TreePolicy policy = new TreePolicy(4, 1, 4, 2);
        observeRounds(policy, 200, 4, 8, -1, 5_300_000);   // a selection off the tree at every level
        ForwardCosts target = linear(2_000_000, 50_000);
        ForwardCosts draft = linear(300_000, 5_000);
        policy.next(target, draft);
        java.util.List<Integer> probeRounds = new java.util.ArrayList<>();
        for (int round = 2; round <= 1000; round++) {
            TreePolicy.Shape shape = policy.next(target, draft);
            if (shape.depth() > 0) {
                // probes go one step beyond the best shape, never to the full tree
                assertThat(shape.depth() * shape.perLevel()).isLessThanOrEqualTo(4);
                probeRounds.add(round);
            }
        }
        // the probes leave plain steps the best, so their interval doubles: 16, 32, 64, 128, 256, 256, ...
        assertThat(probeRounds).startsWith(16, 48, 112, 240, 496, 752);
        assertThat(policy.expectedSteps(4, 2)).isCloseTo(1.0, within(0.05));
    }

    @Test
    void expensiveWideForwardsMakeTheTreeNarrowerOrShallower() {
        TreePolicy policy = new TreePolicy(4, 1, 4, 2);
        // level 1 is covered by the best 4 half the time, by the best 8 always; deeper levels rarely
        for (int i = 0; i < 200; i++) {
            policy.observeLevel(1, 8, i % 2 == 0 ? 2 : 6);
            policy.observeLevel(2, 8, i % 10 == 0 ? 1 : -1);
            policy.observeRound(new TreePolicy.Shape(4, 8), 36_000_000, 0, 8);
        }
        ForwardCosts steep = linear(100_000, 1_000_000);   // every fed position costs a lot
        ForwardCosts draft = linear(100_000, 1_000);
        policy.next(steep, draft);
        TreePolicy.Shape shape = policy.next(steep, draft);
        assertThat(shape.depth()).isLessThanOrEqualTo(1);
    }

    @Test
    void aShapeMeasuredSlowOnceIsBoundedByTheLargerShapesMeasuredSince() {
        TreePolicy policy = new TreePolicy(4, 1, 2, 2);
        ForwardCosts target = linear(1_000_000, 100_000);
        ForwardCosts draft = linear(100_000, 10_000);
        policy.next(target, draft);
        policy.observeRound(new TreePolicy.Shape(0, 4), 10_000_000, 9_000_000, 0);   // a plain step during JIT warm-up
        // then depth-1 rounds that buy 1.2 steps for 2 ms each: a plain step (at most 2 ms) pays better
        for (int i = 0; i < 100; i++) {
            policy.observeLevel(1, 4, i % 5 == 0 ? 3 : -1);
            policy.observeRound(new TreePolicy.Shape(1, 4), 2_000_000, 300_000, 6);
        }
        assertThat(policy.cost(0, 1, target, draft)).as("bounded by the larger shape").isEqualTo(2_000_000);
        assertThat(policy.cost(1, 1, target, draft)).isEqualTo(2_000_000);
        // while the bound says "as dear as depth 1", depth 1 wins; the first probe re-measures a plain step
        // (1.2 ms), which from then on wins but for the probes (rounds 32 and 64)
        int plainAfterProbe = 0;
        for (int round = 2; round <= 3 * TreePolicy.PROBE_EVERY + 16; round++) {
            TreePolicy.Shape shape = policy.next(target, draft);
            if (shape.depth() == 0) {
                policy.observeRound(shape, 1_200_000, 200_000, 0);
                plainAfterProbe += round > TreePolicy.PROBE_EVERY ? 1 : 0;
            } else {
                policy.observeLevel(1, shape.perLevel(), round % 5 == 0 ? 3 : -1);
                policy.observeRound(shape, 1_000_000L * (1 + shape.depth()), 300_000, 6);   // 2 ms a level-1 tree
            }
        }
        assertThat(policy.cost(0, 1, target, draft)).isLessThan(1_300_000);
        assertThat(plainAfterProbe).isEqualTo(3 * TreePolicy.PROBE_EVERY + 16 - TreePolicy.PROBE_EVERY - 2);
    }
}
