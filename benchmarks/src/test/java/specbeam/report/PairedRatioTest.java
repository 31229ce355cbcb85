package specbeam.report;

import org.junit.jupiter.api.Test;

import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class PairedRatioTest {
    /** t(0.9995, df=4), as scipy.stats.t.ppf(0.9995, 4) gives it. */
    private static final double T_4 = 8.610301581;

    /** Baseline times of 5 rounds whose candidate times are baseline / ratio. */
    private static PairedRatio rounds(double[] baseline, double... ratios) {
        double[] candidate = new double[ratios.length];
        for (int i = 0; i < ratios.length; i++) {
            candidate[i] = baseline[i] / ratios[i];
        }
        return PairedRatio.of(baseline, candidate);
    }

    @Test
    void aConstantRatioUnderDriftingLoadIsRecoveredExactlyWithANullInterval() {
        // The machine gets 1x to 3x slower over the run; both halves of each round slow down alike.
        double[] drift = {1.0, 1.5, 2.0, 2.5, 3.0, 2.0};
        double[] baseline = Arrays.stream(drift).map(d -> 200 * d).toArray();
        double[] candidate = Arrays.stream(drift).map(d -> 100 * d).toArray();
        PairedRatio r = PairedRatio.of(baseline, candidate);

        assertThat(r.n()).isEqualTo(6);
        assertThat(r.speedup()).isCloseTo(2.0, within(1e-12));
        assertThat(r.low()).isCloseTo(2.0, within(1e-12));
        assertThat(r.high()).isCloseTo(2.0, within(1e-12));
        assertThat(r.isWithin(0.05)).isTrue();
        assertThat(r.verdict()).isEqualTo(PairedRatio.Verdict.FASTER);
        // Unpaired, the same times spread over ±50%: the ratio of means is right only because the drift is shared.
        assertThat(SampleStats.of(baseline).relError()).isGreaterThan(0.5);
    }

    @Test
    void speedupIsTheGeometricMeanOfTheRoundRatiosWithAStudentTIntervalOnTheirLogs() {
        double[] ratios = {1.8, 2.0, 2.2, 1.9, 2.1};
        PairedRatio r = rounds(new double[] {300, 310, 290, 500, 305}, ratios);

        double[] logs = Arrays.stream(ratios).map(Math::log).toArray();
        double mean = Arrays.stream(logs).average().orElseThrow();
        double sd = Math.sqrt(Arrays.stream(logs).map(x -> (x - mean) * (x - mean)).sum() / 4);
        assertThat(r.speedup()).isCloseTo(Math.pow(1.8 * 2.0 * 2.2 * 1.9 * 2.1, 1 / 5.0), within(1e-12));
        assertThat(r.sdLog()).isCloseTo(sd, within(1e-12));
        double halfWidth = T_4 * sd / Math.sqrt(5);
        assertThat(r.low()).isCloseTo(Math.exp(mean - halfWidth), within(1e-6));
        assertThat(r.high()).isCloseTo(Math.exp(mean + halfWidth), within(1e-6));
        // symmetric on the log scale: low * high = speedup^2, and the relative half-width is high / speedup - 1
        assertThat(r.low() * r.high()).isCloseTo(r.speedup() * r.speedup(), within(1e-9));
        assertThat(r.relHalfWidth()).isCloseTo(Math.exp(halfWidth) - 1, within(1e-9));
        assertThat(r.verdict()).isEqualTo(PairedRatio.Verdict.FASTER);
        assertThat(r.isWithin(0.05)).as("±%.1f%% is wider than ±5%%", 100 * r.relHalfWidth()).isFalse();
    }

    @Test
    void anIntervalThatStraddlesOneIsNotAWin() {
        PairedRatio r = rounds(new double[] {100, 100, 100, 100, 100}, 1.10, 0.95, 1.15, 1.02, 0.98);
        assertThat(r.speedup()).isGreaterThan(1.0);
        assertThat(r.low()).isLessThan(1.0);
        assertThat(r.high()).isGreaterThan(1.0);
        assertThat(r.straddlesOne()).isTrue();
        assertThat(r.verdict()).isEqualTo(PairedRatio.Verdict.NOT_A_WIN);
        assertThat(r.verdict()).hasToString("not a win");
    }

    @Test
    void anIntervalBelowOneIsSlower() {
        PairedRatio r = rounds(new double[] {100, 120, 90, 100, 110}, 0.48, 0.50, 0.52, 0.49, 0.51);
        assertThat(r.speedup()).isCloseTo(0.5, within(0.01));
        assertThat(r.high()).isLessThan(1.0);
        assertThat(r.verdict()).isEqualTo(PairedRatio.Verdict.SLOWER);
        assertThat(r.straddlesOne()).isFalse();
    }

    @Test
    void fewerThanTwoRoundsGiveNoIntervalAndNoWin() {
        PairedRatio one = PairedRatio.of(new double[] {200}, new double[] {100});
        assertThat(one.speedup()).isEqualTo(2.0);
        assertThat(one.low()).isNaN();
        assertThat(one.isWithin(0.05)).isFalse();
        assertThat(one.verdict()).isEqualTo(PairedRatio.Verdict.NOT_A_WIN);
        assertThat(PairedRatio.of(new double[0], new double[0]).n()).isZero();
    }

    @Test
    void roundsNeededIsTheFewestWhoseIntervalFitsTheTarget() {
        double sd = 0.04;
        int n = PairedRatio.roundsNeeded(sd, 0.05, 1000);
        // check against the definition, with the same t quantiles
        assertThat(halfWidth(sd, n)).isLessThanOrEqualTo(Math.log(1.05));
        assertThat(halfWidth(sd, n - 1)).isGreaterThan(Math.log(1.05));
        assertThat(PairedRatio.roundsNeeded(0.0, 0.05, 1000)).isEqualTo(2);
        assertThat(PairedRatio.roundsNeeded(5.0, 0.05, 50)).isEqualTo(50);
        assertThat(PairedRatio.roundsNeeded(Double.NaN, 0.05, 50)).isEqualTo(50);
    }

    private static double halfWidth(double sd, int n) {
        double t = new org.apache.commons.math3.distribution.TDistribution(n - 1).inverseCumulativeProbability(0.9995);
        return t * sd / Math.sqrt(n);
    }

    @Test
    void unpairedOrNonPositiveTimesAreRejected() {
        assertThatThrownBy(() -> PairedRatio.of(new double[] {1, 2}, new double[] {1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("2 and 1");
        assertThatThrownBy(() -> PairedRatio.of(new double[] {1, 0}, new double[] {1, 1}))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("round 1");
        assertThatThrownBy(() -> PairedRatio.of(new double[] {1, Double.NaN}, new double[] {1, 1}))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
