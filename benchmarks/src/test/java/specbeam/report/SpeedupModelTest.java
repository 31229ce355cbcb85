package specbeam.report;

import org.junit.jupiter.api.Test;
import specbeam.suite.CounterTotals;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SpeedupModelTest {

    @Test
    void expectedStepsFollowTheGeometricSeries() {
        assertThat(SpeedupModel.expectedStepsPerRound(0.0, 4)).isEqualTo(1.0);
        assertThat(SpeedupModel.expectedStepsPerRound(1.0, 4)).isEqualTo(5.0);
        assertThat(SpeedupModel.expectedStepsPerRound(0.5, 2)).isCloseTo(1 + 0.5 + 0.25, within(1e-12));
        assertThat(SpeedupModel.expectedStepsPerRound(Double.NaN, 2)).isNaN();
    }

    @Test
    void speedupWeighsStepsPerRoundAgainstTheRoundsCost() {
        // baseline: 100 forwards of 2 ms; speculative: 40 rounds of 3 ms target + 4 draft forwards of 0.1 ms each
        CounterTotals base = totals(100, 0, 200_000_000L, 0);
        CounterTotals spec = totals(40, 160, 120_000_000L, 16_000_000L);
        double roundCost = (120e6 + 16e6) / 40;
        assertThat(SpeedupModel.speedup(3.0, spec, base)).isCloseTo(3.0 * 2e6 / roundCost, within(1e-9));
    }

    private static CounterTotals totals(long targetForwards, long draftForwards, long targetOrt, long draftOrt) {
        return new CounterTotals(1, 1, 100, 100, targetForwards, 100, targetForwards, draftForwards, 0, 0, targetOrt,
                draftOrt, targetOrt + draftOrt, 0);
    }
}
