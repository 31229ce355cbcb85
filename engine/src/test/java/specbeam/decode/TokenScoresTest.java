package specbeam.decode;

import org.junit.jupiter.api.Test;

import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link TokenScores#logNorm} sums a vectorised polynomial exp and keeps its float only where the error band
 * cannot change it: it must give the float of the ordered {@code Math.exp} sum every time, on flat and on very
 * peaked distributions (log-sum near 0, where floats are densest and the band is most often too wide), with
 * banned tokens at -inf and terms far below the maximum.
 */
class TokenScoresTest {

    @Test
    void top2IsArgmaxMaxAndTopGapInOnePassTiesAndBannedTokensIncluded() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 5000; trial++) {
            int vocab = 1 + rnd.nextInt(trial % 7 == 0 ? 3 : 300);
            float[] s = new float[vocab];
            for (int v = 0; v < vocab; v++) {
                // few distinct values, so that ties for first and second place are frequent
                s[v] = trial % 2 == 0 ? rnd.nextInt(4) : (float) rnd.nextGaussian();
                if (rnd.nextInt(10) == 0) {
                    s[v] = Float.NEGATIVE_INFINITY;
                }
            }
            float max = Float.NEGATIVE_INFINITY;
            for (float x : s) {
                max = Math.max(max, x);
            }
            TokenScores.Top2 top = TokenScores.top2(s);
            assertThat(top.index()).as("trial %d", trial).isEqualTo(TokenScores.argmax(s));
            assertThat(top.first()).as("trial %d", trial).isEqualTo(max);
            assertThat(Double.doubleToLongBits(top.gap())).as("trial %d", trial)
                    .isEqualTo(Double.doubleToLongBits(TokenScores.topGap(s)));
            if (max > Float.NEGATIVE_INFINITY) {
                assertThat(TokenScores.logNorm(s, top.first())).isEqualTo(TokenScores.logNorm(s));
            }
        }
    }

    @Test
    void logSumIsTheExactSumsFloatFromFlatToPeakedDistributions() {
        Random rnd = new Random(3);
        int checked = 0;
        int nearZero = 0;
        for (int trial = 0; trial < 20000; trial++) {
            int vocab = trial % 10 == 0 ? 50 : 4096;
            float[] logits = new float[vocab];
            double spread = Math.pow(10, -2 + 4 * rnd.nextDouble());          // 0.01 .. 100
            for (int v = 0; v < vocab; v++) {
                logits[v] = (float) (rnd.nextGaussian() * spread);
            }
            int peak = rnd.nextInt(vocab);
            logits[peak] += (float) (rnd.nextDouble() * 60);                   // one token far ahead: log-sum -> 0
            if (trial % 3 == 0) {
                logits[rnd.nextInt(vocab)] = Float.NEGATIVE_INFINITY;           // a banned token
            }
            float max = Float.NEGATIVE_INFINITY;
            for (float x : logits) {
                max = Math.max(max, x);
            }
            TokenScores.LogNorm norm = TokenScores.logNorm(logits);
            assertThat(norm.max()).isEqualTo(max);
            float exact = TokenScores.orderedLogSum(logits, max);
            assertThat(Float.floatToIntBits(norm.logSum())).as("trial %d: log-sum %s vs exact %s", trial,
                    norm.logSum(), exact).isEqualTo(Float.floatToIntBits(exact));
            assertThat(TokenScores.logNorm(logits, TokenScores.top2(logits))).as("trial %d: by the top two", trial)
                    .isEqualTo(norm);
            checked++;
            nearZero += exact < 1e-3f ? 1 : 0;
        }
        assertThat(checked).isEqualTo(20000);
        assertThat(nearZero).as("peaked cases exercised").isGreaterThan(1000);
    }

    /**
     * The exact sum that skips the terms below a quarter of the partial sum's ulp is the ordered sum bit for bit:
     * flat and peaked rows, the peak early or last (a long prefix summed below 1), banned (-inf), NaN and +inf
     * logits, a shift above every logit (the sum stays below 1), vocabularies from 1 to 151,936.
     */
    @Test
    void theExactSumSkipsOnlyTermsThatCannotChangeIt() {
        Random rnd = new Random(17);
        int skippedMost = 0;
        for (int trial = 0; trial < 6000; trial++) {
            int vocab = trial % 200 == 0 ? 151_936 : 1 + rnd.nextInt(trial % 3 == 0 ? 8 : 5000);
            float[] logits = new float[vocab];
            double spread = Math.pow(10, -2 + 4 * rnd.nextDouble());
            for (int v = 0; v < vocab; v++) {
                logits[v] = (float) (rnd.nextGaussian() * spread);
            }
            int peak = switch (trial % 3) {
                case 0 -> 0;
                case 1 -> vocab - 1;
                default -> rnd.nextInt(vocab);
            };
            logits[peak] += (float) (rnd.nextDouble() * 200);
            if (trial % 5 == 0) {
                logits[rnd.nextInt(vocab)] = Float.NEGATIVE_INFINITY;
            }
            if (trial % 97 == 0) {
                logits[rnd.nextInt(vocab)] = trial % 2 == 0 ? Float.NaN : Float.POSITIVE_INFINITY;
            }
            float max = Float.NEGATIVE_INFINITY;
            for (float x : logits) {
                max = Math.max(max, x);
            }
            if (trial % 7 == 0) {
                max += (float) (rnd.nextDouble() * 50);   // a shift above every logit
            }
            float expected = TokenScores.orderedLogSum(logits, max);
            float actual = TokenScores.exactLogSum(logits, max);
            assertThat(Float.floatToIntBits(actual)).as("trial %d: %s vs ordered %s", trial, actual, expected)
                    .isEqualTo(Float.floatToIntBits(expected));
            skippedMost += expected < 1e-6f ? 1 : 0;
        }
        assertThat(skippedMost).as("rows where nearly every term is skipped").isGreaterThan(500);
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "vocabulary {0}")
    @org.junit.jupiter.params.provider.CsvSource({"4096, 2000", "151936, 40", "262144, 20"})
    void theFastSumIsWithinItsErrorBound(int vocab, int trials) {
        Random rnd = new Random(5);
        for (int trial = 0; trial < trials; trial++) {
            float[] logits = new float[vocab];
            for (int v = 0; v < logits.length; v++) {
                logits[v] = (float) (-rnd.nextDouble() * 120);
            }
            logits[0] = 0;
            double exact = 0;
            for (float x : logits) {
                exact += Math.exp(x);
            }
            double fast = TokenScores.fastExpSum(logits, 0);
            assertThat(Math.abs(fast - exact) / exact).isLessThan(TokenScores.sumError(vocab) / 2);
        }
    }

    @Test
    void logSoftmaxIsLogitMinusMaxMinusLogSum() {
        float[] logits = {1f, 2f, 3f, Float.NEGATIVE_INFINITY};
        float[] out = new float[4];
        TokenScores.logSoftmax(logits, out);
        double sum = Math.exp(-2) + Math.exp(-1) + 1;
        assertThat(out[2]).isEqualTo((float) -Math.log(sum), org.assertj.core.api.Assertions.within(1e-6f));
        assertThat(out[3]).isEqualTo(Float.NEGATIVE_INFINITY);
        assertThat(out[0] - out[1]).isEqualTo(-1f, org.assertj.core.api.Assertions.within(1e-6f));
    }
}
