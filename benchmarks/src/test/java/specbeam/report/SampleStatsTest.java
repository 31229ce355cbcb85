package specbeam.report;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class SampleStatsTest {

    @Test
    void confidenceIntervalUsesStudentsTWithNMinusOneDegreesOfFreedom() {
        SampleStats s = SampleStats.of(new double[] {1, 2, 3, 4, 5});
        assertThat(s.n()).isEqualTo(5);
        assertThat(s.mean()).isEqualTo(3.0);
        assertThat(s.sd()).isCloseTo(Math.sqrt(2.5), within(1e-12));
        // t(0.9995, df=4) = 8.610302..., as in scipy.stats.t.ppf(0.9995, 4)
        assertThat(s.ci999()).isCloseTo(8.610301581 * Math.sqrt(2.5) / Math.sqrt(5), within(1e-6));
        assertThat(s.relError()).isCloseTo(s.ci999() / 3.0, within(1e-12));
    }

    @Test
    void aSingleMeasurementHasNoInterval() {
        SampleStats s = SampleStats.of(new double[] {7});
        assertThat(s.mean()).isEqualTo(7.0);
        assertThat(s.ci999()).isNaN();
    }
}
