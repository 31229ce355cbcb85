package specbeam.projection;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ProjectionTest {
    private final CostCurve curve = CostCurve.parse(CostCurveTest.SYNTHETIC, "synthetic.json");

    @Test
    void speedupIsStepsTimesABaselineStepOverVerifyPlusDraftForwards() {
        // 3 steps per round; a verify of 5 tokens costs 14 ms, 4 draft forwards 1 ms each, a plain step 10 ms
        Projection p = new Projection(3, 1, 1, 5, 4, 1);
        Projection.Costs c = p.costs(curve, "t", "draft");
        assertThat(c.baselineMsPerStep()).isEqualTo(10);
        assertThat(c.verifyMs()).isCloseTo(14, within(1e-9));
        assertThat(c.draftMsPerRound()).isCloseTo(4, within(1e-9));
        assertThat(p.speedup(curve, "t", "draft")).isCloseTo(3 * 10 / 18.0, within(1e-9));
    }

    @Test
    void rowsPickTheCurvesRowsAndOneStepPerForwardWithoutDraftCostIsNoGain() {
        Projection beams = new Projection(2, 4, 1, 2, 0, 0);
        assertThat(beams.speedup(curve, "t", "draft")).isCloseTo(2 * 14 / 15.0, within(1e-9));
        assertThat(new Projection(1, 1, 1, 1, 0, 0).speedup(curve, "t", "draft")).isCloseTo(1, within(1e-12));
    }

    @Test
    void aBeamBaselineStepFeedsOneTokenPerBeamInThePromptsRow() {
        // beam B=5 in one tree row: the baseline step is a 5-token forward, the round a 5-token verify here too
        Projection p = new Projection(2, 1, 5, 5, 0, 0);
        assertThat(p.costs(curve, "t", "draft").baselineMsPerStep()).isCloseTo(14, within(1e-9));
        assertThat(p.speedup(curve, "t", "draft")).isCloseTo(2, within(1e-9));
    }

    @Test
    void aPointBeyondTheCurveIsNotProjected() {
        assertThat(new Projection(3, 16, 1, 5, 4, 1).speedup(curve, "t", "draft")).isNaN();
        assertThat(new Projection(3, 1, 1, 12, 4, 1).speedup(curve, "t", "draft")).isNaN();
    }

    @Test
    void unrecordedCountersMakeAProjectionIncomplete() {
        assertThat(new Projection(3, 1, 1, Double.NaN, Double.NaN, Double.NaN).isComplete()).isFalse();
        assertThat(new Projection(3, 1, 1, 5, 4, 1).isComplete()).isTrue();
    }
}
