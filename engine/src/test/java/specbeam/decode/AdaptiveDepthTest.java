package specbeam.decode;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

class AdaptiveDepthTest {

    /**
     * Rounds at depth d cost 1 + 0.2 d ms and alternate between full acceptance (d + 1 steps) and a rejection at
     * the first token (1 step): per step, depth 4 costs 0.6 ms, depth 1 0.8 ms, a plain step 1 ms. An average of
     * per-round ratios ranks them the other way round (depth 4: (0.36 + 1.8) / 2 = 1.08 ms; depth 1: 0.9 ms).
     */
    @Test
    void deepDraftsThatPayOnAverageWinAlthoughHalfTheirRoundsAreRejectedAtOnce() {
        AdaptiveDepth policy = new AdaptiveDepth(4);
        int[] roundsAt = new int[5];
        int deepLate = 0;
        for (int round = 1; round <= 800; round++) {
            int d = policy.next();
            boolean accepted = roundsAt[d]++ % 2 == 0;
            long wall = round <= AdaptiveDepth.WARM_UP_ROUNDS ? 50_000_000 : (long) ((1 + 0.2 * d) * 1_000_000);
            policy.observe(wall, accepted ? d + 1 : 1);
            deepLate += round > 700 && d == 4 ? 1 : 0;
        }
        assertThat(deepLate).as("depth-4 rounds in rounds 701..800 (the rest are probes)").isGreaterThanOrEqualTo(90);
        assertThat(policy.nanosPerStep(4)).isCloseTo(600_000, org.assertj.core.data.Offset.offset(30_000.0));
    }

    @Test
    void warmUpRoundsAreNotMeasured() {
        AdaptiveDepth policy = new AdaptiveDepth(2);
        for (int round = 1; round <= AdaptiveDepth.WARM_UP_ROUNDS; round++) {
            assertThat(policy.next()).isEqualTo(2);
            policy.observe(1_000_000_000L, 1);
        }
        assertThat(policy.nanosPerStep(2)).isInfinite();
    }
}
