package specbeam.report;

import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;

/**
 * The speedup of a candidate over its baseline from paired rounds: each round times the baseline and the
 * candidate back to back, so whatever else the machine was doing at that moment slows both sides of the round
 * alike and cancels in the round's ratio {@code baseline ms / candidate ms}.
 *
 * <p>The speedup is the geometric mean of the per-round ratios (the mean of their logarithms, exponentiated):
 * the right mean for ratios, and one under which 2x and 0.5x are symmetric. Its 99.9% confidence interval is
 * Student's t on the log ratios, {@code mean ± t(0.9995, n - 1) · sd / sqrt(n)}, exponentiated back, so it is
 * asymmetric around the speedup on the linear scale and never goes below 0.
 *
 * @param n       rounds
 * @param speedup geometric mean of {@code baseline / candidate} over the rounds
 * @param low     lower end of the 99.9% interval (NaN for n &lt; 2)
 * @param high    upper end of the 99.9% interval (NaN for n &lt; 2)
 * @param sdLog   sample standard deviation of the log ratios (NaN for n &lt; 2)
 */
public record PairedRatio(int n, double speedup, double low, double high, double sdLog) {
    public static final double CONFIDENCE = SampleStats.CONFIDENCE;

    /** What a speedup and its interval allow one to say. */
    public enum Verdict {
        /** the whole interval is above 1: the candidate is faster */
        FASTER("faster"),
        /** the whole interval is below 1: the candidate is slower */
        SLOWER("slower"),
        /** the interval contains 1 (or there is none): not a win */
        NOT_A_WIN("not a win");

        private final String text;

        Verdict(String text) {
            this.text = text;
        }

        @Override
        public String toString() {
            return text;
        }
    }

    /**
     * @param baselineMs  per round, the baseline's time (any unit, the same for both)
     * @param candidateMs per round, the candidate's time, in the same order
     * @throws IllegalArgumentException for arrays of different lengths or a time that is not positive
     */
    public static PairedRatio of(double[] baselineMs, double[] candidateMs) {
        if (baselineMs.length != candidateMs.length) {
            throw new IllegalArgumentException("paired rounds need one baseline and one candidate time each, got "
                    + baselineMs.length + " and " + candidateMs.length);
        }
        SummaryStatistics logs = new SummaryStatistics();
        for (int i = 0; i < baselineMs.length; i++) {
            if (!(baselineMs[i] > 0) || !(candidateMs[i] > 0) || Double.isInfinite(baselineMs[i])
                    || Double.isInfinite(candidateMs[i])) {
                throw new IllegalArgumentException("round " + i + " has a time that is not a positive number: baseline "
                        + baselineMs[i] + ", candidate " + candidateMs[i]);
            }
            logs.addValue(Math.log(baselineMs[i] / candidateMs[i]));
        }
        int n = (int) logs.getN();
        if (n == 0) {
            return new PairedRatio(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double mean = logs.getMean();
        if (n == 1) {
            return new PairedRatio(1, Math.exp(mean), Double.NaN, Double.NaN, Double.NaN);
        }
        double sd = logs.getStandardDeviation();
        double halfWidth = tQuantile(n) * sd / Math.sqrt(n);
        return new PairedRatio(n, Math.exp(mean), Math.exp(mean - halfWidth), Math.exp(mean + halfWidth), sd);
    }

    /**
     * Half-width of the interval relative to the speedup, {@code high / speedup - 1}: the interval is
     * {@code [speedup / (1 + e), speedup · (1 + e)]}. NaN without an interval.
     */
    public double relHalfWidth() {
        return high / speedup - 1;
    }

    /** Whether the interval is within {@code ±precision} of the speedup (e.g. 0.05 for ±5%). */
    public boolean isWithin(double precision) {
        return relHalfWidth() <= precision;
    }

    public Verdict verdict() {
        if (low > 1) {
            return Verdict.FASTER;
        }
        if (high < 1) {
            return Verdict.SLOWER;
        }
        return Verdict.NOT_A_WIN;
    }

    /** Whether the interval contains 1.0 (or there is no interval): such a speedup is not a win. */
    public boolean straddlesOne() {
        return verdict() == Verdict.NOT_A_WIN;
    }

    /**
     * The fewest rounds whose interval would be within {@code ±precision} if the log ratios keep the spread
     * {@code sdLog}: the smallest n with {@code t(0.9995, n - 1) · sdLog / sqrt(n) <= log(1 + precision)}.
     *
     * @return at least 2; {@code maxRounds} when even that many would not do
     */
    public static int roundsNeeded(double sdLog, double precision, int maxRounds) {
        double target = Math.log1p(precision);
        for (int n = 2; n < maxRounds; n++) {
            if (tQuantile(n) * sdLog / Math.sqrt(n) <= target) {
                return n;
            }
        }
        return maxRounds;
    }

    private static double tQuantile(int n) {
        return new TDistribution(n - 1).inverseCumulativeProbability(1 - (1 - CONFIDENCE) / 2);
    }
}
