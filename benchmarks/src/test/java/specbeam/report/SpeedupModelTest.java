package specbeam.report;

import org.junit.jupiter.api.Test;
import specbeam.suite.CounterTotals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SpeedupModelTest {

    @Test
    void stepsPerRoundAreTheAcceptedDraftTokensPlusTheTargetsOwn() {
        assertThat(SpeedupModel.stepsPerRound(0.0, 4)).isEqualTo(1.0);
        assertThat(SpeedupModel.stepsPerRound(0.5, 4)).isEqualTo(3.0);
        assertThat(SpeedupModel.stepsPerRound(Double.NaN, 4)).isNaN();
    }

    @Test
    void perTokenAcceptanceReproducesTheMeasuredAcceptedTokensUnderIid() {
        // alpha = 0.8, g = 4: accepted = 0.8 (1 - 0.8^4) / 0.2 = 2.3616, so a = 2.3616 / 4
        double alpha = SpeedupModel.perTokenAcceptance(2.3616 / 4, 4);
        assertThat(alpha).isCloseTo(0.8, within(1e-9));
        assertThat(SpeedupModel.iidStepsPerRound(alpha, 4)).isCloseTo(SpeedupModel.stepsPerRound(2.3616 / 4, 4), within(1e-9));
        assertThat(SpeedupModel.perTokenAcceptance(1.0, 4)).isEqualTo(1.0);
        assertThat(SpeedupModel.perTokenAcceptance(0.5, 0)).isNaN();
    }

    @Test
    void speedupWeighsStepsPerRoundAgainstTheRoundsCost() {
        // baseline: 100 forwards of 2 ms; speculative: 40 rounds of 3 ms target + 4 draft forwards of 0.1 ms each
        CounterTotals base = totals(100, 0, 200_000_000L, 0);
        CounterTotals spec = totals(40, 160, 120_000_000L, 16_000_000L);
        double roundCost = (120e6 + 16e6) / 40;
        assertThat(SpeedupModel.speedup(3.0, spec, base)).isCloseTo(3.0 * 2e6 / roundCost, within(1e-9));
    }

    @Test
    void freeDraftBoundLeavesTheDraftOutAndUsesTheMeasuredStepsPerForward() {
        // 100 steps in 40 rounds (2.5 per forward) at 3 ms of target time each, against 2 ms per baseline step
        CounterTotals base = totals(100, 0, 200_000_000L, 0);
        CounterTotals spec = totals(40, 160, 120_000_000L, 16_000_000L);
        assertThat(SpeedupModel.freeDraftBound(spec, base)).isCloseTo(2.5 * 2.0 / 3.0, within(1e-9));
        assertThat(SpeedupModel.freeDraftBound(totals(0, 0, 0, 0), base)).isNaN();
    }

    private static CounterTotals totals(long targetForwards, long draftForwards, long targetOrt, long draftOrt) {
        return new CounterTotals(1, 1, 100, 100, targetForwards, 100, targetForwards, draftForwards, 0, 0, targetOrt,
                draftOrt, targetOrt + draftOrt, 0);
    }
}
