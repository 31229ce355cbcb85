package specbeam.decode;

/** Small numeric kernels over one vocabulary-sized score vector. */
public final class TokenScores {
    private TokenScores() {
    }

    /**
     * The shift of {@code log_softmax}: {@code logProb(v) = (logits[v] - max) - logSum}, the max-shifted
     * log-sum-exp of PyTorch's float32 kernel (the sum in double).
     */
    public record LogNorm(float max, float logSum) {
        public float logProb(float logit) {
            return (logit - max) - logSum;
        }
    }

    public static LogNorm logNorm(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        double sum = 0;
        for (float x : logits) {
            sum += Math.exp(x - max);
        }
        return new LogNorm(max, (float) Math.log(sum));
    }

    /** {@code out = log_softmax(logits)} ({@link #logNorm}). */
    public static void logSoftmax(float[] logits, float[] out) {
        LogNorm norm = logNorm(logits);
        for (int i = 0; i < logits.length; i++) {
            out[i] = norm.logProb(logits[i]);
        }
    }

    /** Index of the largest score; the first one on exact ties (as {@code torch.argmax}). */
    static int argmax(float[] scores) {
        int best = 0;
        for (int i = 1; i < scores.length; i++) {
            if (scores[i] > scores[best]) {
                best = i;
            }
        }
        return best;
    }

    /** Best minus runner-up score: how far the argmax decision is from a tie. */
    static double topGap(float[] scores) {
        float first = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (float x : scores) {
            if (x > first) {
                second = first;
                first = x;
            } else if (x > second) {
                second = x;
            }
        }
        return (double) first - second;
    }

    /** Forbids end-of-sequence tokens (Hugging Face's {@code MinNewTokensLengthLogitsProcessor}). */
    static void forbid(float[] scores, int[] tokens) {
        for (int t : tokens) {
            if (t < scores.length) {
                scores[t] = Float.NEGATIVE_INFINITY;
            }
        }
    }

    static boolean contains(int[] set, int token) {
        for (int t : set) {
            if (t == token) {
                return true;
            }
        }
        return false;
    }
}
