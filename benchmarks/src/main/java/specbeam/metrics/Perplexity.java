package specbeam.metrics;

import java.util.List;

/** Perplexity from per-token natural-log probabilities. */
public final class Perplexity {

    private Perplexity() {
    }

    /** {@code exp(-sum(log p) / tokens)} pooled over all sequences; NaN when there are no tokens. */
    public static double of(List<double[]> logProbs) {
        double sum = 0;
        long count = 0;
        for (double[] seq : logProbs) {
            for (double lp : seq) {
                sum += lp;
                count++;
            }
        }
        return count == 0 ? Double.NaN : Math.exp(-sum / count);
    }
}
