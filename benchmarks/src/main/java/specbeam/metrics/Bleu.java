package specbeam.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * BLEU as sacrebleu 2.x computes it with its defaults: 13a tokenisation, case-sensitive, n-grams up to 4,
 * {@code exp} smoothing (NIST / mteval-v13a). {@link #corpus} matches {@code sacrebleu.corpus_bleu};
 * {@link #sentence} matches {@code sacrebleu.sentence_bleu} (effective order on).
 */
public final class Bleu {
    public static final int MAX_ORDER = 4;
    /** sacrebleu's {@code my_log(0)}: a floor instead of minus infinity. */
    private static final double LOG_ZERO = -9999999999.0;

    private Bleu() {
    }

    /**
     * Corpus BLEU.
     *
     * @param hypotheses one string per segment
     * @param references per segment, its references (one or more)
     */
    public static BleuScore corpus(List<String> hypotheses, List<List<String>> references) {
        if (hypotheses.size() != references.size()) {
            throw new IllegalArgumentException("BLEU needs one reference list per hypothesis (got "
                    + hypotheses.size() + " hypotheses, " + references.size() + " reference lists)");
        }
        Stats total = new Stats();
        for (int i = 0; i < hypotheses.size(); i++) {
            total.add(segmentStats(hypotheses.get(i), references.get(i)));
        }
        return total.score(false);
    }

    /** Sentence BLEU of one hypothesis against its references (effective order, as sacrebleu's sentence_bleu). */
    public static BleuScore sentence(String hypothesis, List<String> references) {
        return segmentStats(hypothesis, references).score(true);
    }

    /** Matched and total n-gram counts of one segment, and its length against the closest reference. */
    private static Stats segmentStats(String hypothesis, List<String> references) {
        List<String> hyp = Tokenizer13a.tokenize(hypothesis);
        Map<List<String>, Integer> refMax = new HashMap<>();
        List<Integer> refLens = new ArrayList<>();
        for (String ref : references) {
            List<String> tokens = Tokenizer13a.tokenize(ref);
            refLens.add(tokens.size());
            ngramCounts(tokens).forEach((gram, count) -> refMax.merge(gram, count, Math::max));
        }
        Stats s = new Stats();
        s.sysLen = hyp.size();
        s.refLen = closestRefLength(hyp.size(), refLens);
        ngramCounts(hyp).forEach((gram, count) -> {
            int n = gram.size() - 1;
            s.totals[n] += count;
            s.counts[n] += Math.min(count, refMax.getOrDefault(gram, 0));
        });
        return s;
    }

    /** sacrebleu's rule: the reference length closest to the hypothesis length, the shorter one on ties. */
    static int closestRefLength(int hypLen, List<Integer> refLens) {
        int closestDiff = -1;
        int closestLen = -1;
        for (int refLen : refLens) {
            int diff = Math.abs(hypLen - refLen);
            if (closestDiff == -1 || diff < closestDiff) {
                closestDiff = diff;
                closestLen = refLen;
            } else if (diff == closestDiff && refLen < closestLen) {
                closestLen = refLen;
            }
        }
        return closestLen;
    }

    /** All n-grams of orders 1..{@link #MAX_ORDER} with their counts. */
    static Map<List<String>, Integer> ngramCounts(List<String> tokens) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int n = 1; n <= MAX_ORDER; n++) {
            for (int i = 0; i + n <= tokens.size(); i++) {
                counts.merge(List.copyOf(tokens.subList(i, i + n)), 1, Integer::sum);
            }
        }
        return counts;
    }

    /** Summable sufficient statistics (sacrebleu's segment stats). */
    private static final class Stats {
        long sysLen;
        long refLen;
        final long[] counts = new long[MAX_ORDER];
        final long[] totals = new long[MAX_ORDER];

        void add(Stats o) {
            sysLen += o.sysLen;
            refLen += o.refLen;
            for (int n = 0; n < MAX_ORDER; n++) {
                counts[n] += o.counts[n];
                totals[n] += o.totals[n];
            }
        }

        /** sacrebleu's {@code BLEU.compute_bleu} with {@code smooth_method='exp'}. */
        BleuScore score(boolean effectiveOrder) {
            double bp = sysLen < refLen ? (sysLen > 0 ? Math.exp(1 - (double) refLen / sysLen) : 0.0) : 1.0;
            double[] precisions = new double[MAX_ORDER];
            boolean anyMatch = false;
            for (long c : counts) {
                anyMatch |= c > 0;
            }
            if (!anyMatch) {
                return new BleuScore(0.0, precisions, bp, sysLen, refLen, counts.clone(), totals.clone());
            }
            double smoothMteval = 1.0;
            int effOrder = MAX_ORDER;
            for (int n = 1; n <= MAX_ORDER; n++) {
                if (totals[n - 1] == 0) {
                    break;
                }
                if (effectiveOrder) {
                    effOrder = n;
                }
                if (counts[n - 1] == 0) {
                    smoothMteval *= 2;
                    precisions[n - 1] = 100.0 / (smoothMteval * totals[n - 1]);
                } else {
                    precisions[n - 1] = 100.0 * counts[n - 1] / totals[n - 1];
                }
            }
            double logSum = 0;
            for (int n = 0; n < effOrder; n++) {
                logSum += precisions[n] == 0.0 ? LOG_ZERO : Math.log(precisions[n]);
            }
            return new BleuScore(bp * Math.exp(logSum / effOrder), precisions, bp, sysLen, refLen, counts.clone(),
                    totals.clone());
        }
    }
}
