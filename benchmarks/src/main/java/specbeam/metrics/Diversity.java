package specbeam.metrics;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/** Diversity of a set of returned sequences (e.g. the beams of one prompt). Definitions as in models/metric_fixtures.py. */
public final class Diversity {

    private Diversity() {
    }

    /** Distinct-n: unique n-grams / all n-grams, pooled over the sequences; 0 when there are no n-grams. */
    public static double distinct(List<int[]> sequences, int n) {
        Set<List<Integer>> unique = new HashSet<>();
        long total = 0;
        for (int[] seq : sequences) {
            for (int i = 0; i + n <= seq.length; i++) {
                unique.add(Arrays.stream(seq, i, i + n).boxed().toList());
                total++;
            }
        }
        return total == 0 ? 0.0 : (double) unique.size() / total;
    }

    /**
     * Self-BLEU: the mean over i of sentence BLEU of text i against all the others as references
     * (lower = more diverse); NaN for fewer than two texts.
     */
    public static double selfBleu(List<String> texts) {
        if (texts.size() < 2) {
            return Double.NaN;
        }
        double sum = 0;
        for (int i = 0; i < texts.size(); i++) {
            List<String> others = new ArrayList<>(texts);
            String hypothesis = others.remove(i);
            sum += Bleu.sentence(hypothesis, others).score();
        }
        return sum / texts.size();
    }
}
