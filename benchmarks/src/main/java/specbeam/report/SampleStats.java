package specbeam.report;

import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.descriptive.SummaryStatistics;

/**
 * Mean and 99.9% confidence interval of a few measurements (one per JMH iteration), with Student's t
 * distribution as JMH itself uses for its score error.
 *
 * @param n        measurements
 * @param mean     arithmetic mean
 * @param sd       sample standard deviation
 * @param ci999    half-width of the 99.9% confidence interval of the mean (NaN for n &lt; 2)
 * @param relError {@code ci999 / mean}
 */
public record SampleStats(int n, double mean, double sd, double ci999, double relError) {
    public static final double CONFIDENCE = 0.999;

    public static SampleStats of(double[] samples) {
        SummaryStatistics s = new SummaryStatistics();
        for (double x : samples) {
            s.addValue(x);
        }
        int n = (int) s.getN();
        if (n == 0) {
            return new SampleStats(0, Double.NaN, Double.NaN, Double.NaN, Double.NaN);
        }
        double sd = n > 1 ? s.getStandardDeviation() : Double.NaN;
        double ci = Double.NaN;
        if (n > 1) {
            double t = new TDistribution(n - 1).inverseCumulativeProbability(1 - (1 - CONFIDENCE) / 2);
            ci = t * sd / Math.sqrt(n);
        }
        return new SampleStats(n, s.getMean(), sd, ci, ci / s.getMean());
    }
}
