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

    /**
     * The max and log-sum-exp of {@code logits}; {@code logSum} is the float that {@link #exactLogSum} gives.
     * The sum runs through a polynomial exp that the JIT vectorises (about twice as fast as {@code Math.exp},
     * whose cost was half of a beam step's Java time), good to {@link #sumError}; the float it rounds to is kept
     * only when the whole band {@code sum * (1 +- sumError(n))}, which holds the exact sum, rounds to it —
     * otherwise (a few in a thousand) the exact sum decides. So the result is the same float either way.
     */
    public static LogNorm logNorm(float[] logits) {
        float max = Float.NEGATIVE_INFINITY;
        for (float x : logits) {
            max = Math.max(max, x);
        }
        return logNorm(logits, max);
    }

    /** {@link #logNorm(float[])} of logits whose largest value is known to be {@code max} (e.g. {@link Top2#first}). */
    static LogNorm logNorm(float[] logits, float max) {
        double sum = fastExpSum(logits, max);
        double error = sumError(logits.length);
        float logSum = (float) Math.log(sum * (1 - error));
        if (!(logSum == (float) Math.log(sum * (1 + error)))) {   // the band straddles two floats, or NaN
            logSum = exactLogSum(logits, max);
        }
        return new LogNorm(max, logSum);
    }

    /**
     * Top-two gap from which the fast sum's band almost never holds one float: with every other token 20 below
     * the best, {@code log(sum) < n e^-20} is so close to 0 that the band (width {@link #sumError}) spans floats.
     */
    static final double PEAKED_GAP = 20;

    /**
     * {@link #logNorm(float[], float)} of a row whose {@link #top2} is known: a peaked row (gap above
     * {@link #PEAKED_GAP}) goes straight to {@link #exactLogSum}, which the fast sum would fall back to anyway and
     * which skips nearly every term of such a row. The same float either way.
     */
    static LogNorm logNorm(float[] logits, Top2 top) {
        if (top.gap() > PEAKED_GAP) {
            return new LogNorm(top.first(), exactLogSum(logits, top.first()));
        }
        return logNorm(logits, top.first());
    }

    /**
     * {@code (float) log(sum_v exp(logits[v] - max))} with {@code Math.exp} in one ordered double sum
     * ({@link #orderedLogSum}), the same double bit for bit, without calling {@code Math.exp} for the terms that
     * cannot change it: once the partial sum is {@code P} with binary exponent {@code e}, a term below
     * {@code 2^(e-54)} is under a quarter of {@code P}'s ulp ({@code 2^(e-52)}), so {@code P + t} rounds back to
     * {@code P}. {@code exp(d) < 2^(e-54)} for {@code d < (e - 54) ln 2 - 1e-6}, with room for {@code Math.exp}'s
     * 1 ulp. On a peaked row (one token far ahead, where the fast sum's band most often straddles two floats and
     * this sum decides) nearly every term is skipped: at 151,936 tokens ~10x faster than calling exp for each.
     */
    static float exactLogSum(float[] logits, float max) {
        double sum = 0;
        double skipBelow = Double.NEGATIVE_INFINITY;   // differences whose exp cannot change the sum
        for (float x : logits) {
            float d = x - max;
            if (d < skipBelow) {
                continue;
            }
            sum += Math.exp(d);
            skipBelow = (Math.getExponent(sum) - 54) * LN2 - 1e-6;
        }
        return (float) Math.log(sum);
    }

    private static final double LN2 = Math.log(2);

    /** The definition {@link #exactLogSum} reproduces: every term's {@code Math.exp}, added in order. */
    static float orderedLogSum(float[] logits, float max) {
        double sum = 0;
        for (float x : logits) {
            sum += Math.exp(x - max);
        }
        return (float) Math.log(sum);
    }

    /**
     * Relative error bound of {@link #fastExpSum} and of the exact sum together, over {@code n} terms: the
     * polynomial is good to 5e-14 per term and {@code Math.exp} to 1.2e-16, terms below exp(-80) count as exp(-80)
     * (at most n * 1.8e-35 against a sum of at least 1), and either order of summing n positive terms rounds by at
     * most n * 1.12e-16 — so 2.3e-16 * n + 1e-13 bounds it all; never below the 2e-12 of the 4,096-token
     * vocabulary this was first sized for. At 151,936 tokens: 3.5e-11 (a fixed 2e-12 would have let the band
     * test keep a float the exact sum does not round to).
     */
    static double sumError(int n) {
        return Math.max(2e-12, 2.3e-16 * n + 1e-13);
    }

    /** Terms per block of {@link #fastExpSum}: its scratch (16 KB) stays in the L1 cache between the passes. */
    private static final int BLOCK = 2048;
    private static final ThreadLocal<double[]> SCRATCH = ThreadLocal.withInitial(() -> new double[BLOCK]);
    private static final double C2 = 1.0 / 2, C3 = 1.0 / 6, C4 = 1.0 / 24, C5 = 1.0 / 120, C6 = 1.0 / 720,
            C7 = 1.0 / 5040, C8 = 1.0 / 40320, C9 = 1.0 / 362880, C10 = 1.0 / 3628800, C11 = 1.0 / 39916800,
            C12 = 1.0 / 479001600, C13 = 1.0 / 6227020800L, C14 = 1.0 / 87178291200L, C15 = 1.0 / 1307674368000L;

    /**
     * {@code sum_v exp(logits[v] - max)}: exp(t) = exp(t / 128)^128, the inner exp a degree-15 Taylor polynomial
     * on [-0.625, 0]; simple loops over a scratch array so that C2 vectorises them, block by block so that the
     * scratch stays in cache (at 152k tokens one scratch of the whole row was 1.2 MB, written and read twice).
     */
    static double fastExpSum(float[] logits, float max) {
        int n = logits.length;
        double[] e = SCRATCH.get();
        double s0 = 0;
        double s1 = 0;
        double s2 = 0;
        double s3 = 0;
        for (int from = 0; from < n; from += BLOCK) {
            int m = Math.min(BLOCK, n - from);
            for (int i = 0; i < m; i++) {
                double t = logits[from + i] - max;   // the float difference, as the exact sum takes it
                e[i] = t < -80.0 ? -80.0 / 128 : t * (1.0 / 128);
            }
            for (int i = 0; i < m; i++) {
                double u = e[i];
                double p = 1 + u * (1 + u * (C2 + u * (C3 + u * (C4 + u * (C5 + u * (C6 + u * (C7 + u * (C8 + u * (C9
                        + u * (C10 + u * (C11 + u * (C12 + u * (C13 + u * (C14 + u * C15))))))))))))));
                p *= p;
                p *= p;
                p *= p;
                p *= p;
                p *= p;
                p *= p;
                e[i] = p * p;
            }
            int i = 0;
            for (; i + 3 < m; i += 4) {
                s0 += e[i];
                s1 += e[i + 1];
                s2 += e[i + 2];
                s3 += e[i + 3];
            }
            for (; i < m; i++) {
                s0 += e[i];
            }
        }
        return (s0 + s1) + (s2 + s3);
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

    /**
     * {@link #argmax}, the largest score and the runner-up of {@link #topGap} in one pass: what a greedy step reads
     * of a row of 150k logits, scanned once instead of three times. For scores without NaN, {@code index} is
     * {@code argmax(scores)}, {@code first} the largest score and {@code first - second} is {@code topGap(scores)}.
     */
    record Top2(int index, float first, float second) {
        double gap() {
            return (double) first - second;
        }
    }

    static Top2 top2(float[] scores) {
        int best = 0;
        float first = Float.NEGATIVE_INFINITY;
        float second = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < scores.length; i++) {
            float x = scores[i];
            if (x > first) {
                second = first;
                first = x;
                best = i;
            } else if (x > second) {
                second = x;
            }
        }
        return new Top2(best, first, second);
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
