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

    private static void observeRounds(TreePolicy policy, int rounds, int depth, int perLevel, int worst) {
        for (int i = 0; i < rounds; i++) {
            for (int level = 1; level <= depth; level++) {
                policy.observeLevel(level, perLevel, worst);
            }
            policy.observeRound(depth, 0, 8);
        }
    }

    @Test
    void aDraftThatAlwaysCoversTheBeamsGetsTheDeepestTreeWhenForwardsAreCheap() {
        TreePolicy policy = new TreePolicy(4, 1, 4, 2);
        observeRounds(policy, 200, 4, 8, 2);   // every selection among the draft's best 3
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
        observeRounds(policy, 200, 4, 8, -1);   // a selection off the tree at every level
        ForwardCosts target = linear(2_000_000, 50_000);
        ForwardCosts draft = linear(300_000, 5_000);
        policy.next(target, draft);
        int probes = 0;
        for (int round = 2; round <= 64; round++) {
            TreePolicy.Shape shape = policy.next(target, draft);
            if (round % TreePolicy.PROBE_EVERY == 0) {
                // probes go one step beyond the best shape, never to the full tree
                assertThat(shape.depth() * shape.perLevel()).isLessThanOrEqualTo(4);
                probes++;
            } else {
                assertThat(shape.depth()).isZero();
            }
        }
        assertThat(probes).isEqualTo(4);
        assertThat(policy.expectedSteps(4, 2)).isCloseTo(1.0, within(0.05));
    }

    @Test
    void expensiveWideForwardsMakeTheTreeNarrowerOrShallower() {
        TreePolicy policy = new TreePolicy(4, 1, 4, 2);
        // level 1 is covered by the best 4 half the time, by the best 8 always; deeper levels rarely
        for (int i = 0; i < 200; i++) {
            policy.observeLevel(1, 8, i % 2 == 0 ? 2 : 6);
            policy.observeLevel(2, 8, i % 10 == 0 ? 1 : -1);
            policy.observeRound(4, 0, 8);
        }
        ForwardCosts steep = linear(100_000, 1_000_000);   // every fed position costs a lot
        ForwardCosts draft = linear(100_000, 1_000);
        policy.next(steep, draft);
        TreePolicy.Shape shape = policy.next(steep, draft);
        assertThat(shape.depth()).isLessThanOrEqualTo(1);
    }
}
