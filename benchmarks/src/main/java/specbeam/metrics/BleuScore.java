package specbeam.metrics;

/**
 * A BLEU result with its sufficient statistics, in sacrebleu's units.
 *
 * @param score      BLEU in [0, 100]
 * @param precisions smoothed n-gram precisions in percent, n = 1..4
 * @param bp         brevity penalty
 * @param sysLen     hypothesis tokens
 * @param refLen     closest-reference tokens
 * @param counts     matched n-grams, n = 1..4
 * @param totals     hypothesis n-grams, n = 1..4
 */
public record BleuScore(double score, double[] precisions, double bp, long sysLen, long refLen, long[] counts,
                        long[] totals) {
}
