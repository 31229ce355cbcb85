package specbeam.metrics;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * ROUGE-1, ROUGE-2 and ROUGE-L as Google's {@code rouge-score} package computes them with
 * {@code RougeScorer(["rouge1", "rouge2", "rougeL"], use_stemmer=False)}: lower-case, tokens are the runs of
 * {@code [a-z0-9]}, no stemming; n-gram overlap with {@code max(count, 1)} denominators; ROUGE-L from the
 * longest common subsequence.
 */
public final class Rouge {

    /** Precision, recall and F1 of one ROUGE type. */
    public record Prf(double precision, double recall, double f1) {
        static Prf of(double precision, double recall) {
            double f1 = precision + recall > 0 ? 2 * precision * recall / (precision + recall) : 0.0;
            return new Prf(precision, recall, f1);
        }
    }

    /** The three ROUGE types of one (reference, prediction) pair. */
    public record Scores(Prf rouge1, Prf rouge2, Prf rougeL) {
    }

    private Rouge() {
    }

    /** Scores {@code prediction} against {@code reference} (rouge-score's {@code score(target, prediction)}). */
    public static Scores score(String reference, String prediction) {
        List<String> target = tokenize(reference);
        List<String> predicted = tokenize(prediction);
        return new Scores(ngramScore(target, predicted, 1), ngramScore(target, predicted, 2),
                lcsScore(target, predicted));
    }

    /** rouge-score's {@code tokenize.tokenize(text, stemmer=None)}. */
    public static List<String> tokenize(String text) {
        String lower = text.toLowerCase(Locale.ROOT);
        List<String> tokens = new ArrayList<>();
        int start = -1;
        for (int i = 0; i <= lower.length(); i++) {
            boolean alnum = i < lower.length() && isAsciiAlnum(lower.charAt(i));
            if (alnum && start < 0) {
                start = i;
            } else if (!alnum && start >= 0) {
                tokens.add(lower.substring(start, i));
                start = -1;
            }
        }
        return tokens;
    }

    private static boolean isAsciiAlnum(char c) {
        return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }

    private static Prf ngramScore(List<String> target, List<String> prediction, int n) {
        Map<List<String>, Integer> targetGrams = ngrams(target, n);
        Map<List<String>, Integer> predictionGrams = ngrams(prediction, n);
        long intersection = 0;
        for (Map.Entry<List<String>, Integer> e : targetGrams.entrySet()) {
            intersection += Math.min(e.getValue(), predictionGrams.getOrDefault(e.getKey(), 0));
        }
        long targetCount = Math.max(0, target.size() - n + 1);
        long predictionCount = Math.max(0, prediction.size() - n + 1);
        return Prf.of((double) intersection / Math.max(predictionCount, 1),
                (double) intersection / Math.max(targetCount, 1));
    }

    private static Map<List<String>, Integer> ngrams(List<String> tokens, int n) {
        Map<List<String>, Integer> counts = new HashMap<>();
        for (int i = 0; i + n <= tokens.size(); i++) {
            counts.merge(tokens.subList(i, i + n), 1, Integer::sum);
        }
        return counts;
    }

    private static Prf lcsScore(List<String> target, List<String> prediction) {
        if (target.isEmpty() || prediction.isEmpty()) {
            return new Prf(0, 0, 0);
        }
        int lcs = lcsLength(target, prediction);
        return Prf.of((double) lcs / prediction.size(), (double) lcs / target.size());
    }

    /** Longest common subsequence length, one DP row at a time. */
    static int lcsLength(List<String> a, List<String> b) {
        int[] previous = new int[b.size() + 1];
        int[] current = new int[b.size() + 1];
        for (int i = 1; i <= a.size(); i++) {
            for (int j = 1; j <= b.size(); j++) {
                current[j] = a.get(i - 1).equals(b.get(j - 1))
                        ? previous[j - 1] + 1
                        : Math.max(previous[j], current[j - 1]);
            }
            int[] swap = previous;
            previous = current;
            current = swap;
        }
        return previous[b.size()];
    }
}
