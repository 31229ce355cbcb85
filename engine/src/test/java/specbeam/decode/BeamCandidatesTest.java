package specbeam.decode;

import org.junit.jupiter.api.Test;

import java.util.Arrays;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * A beam step scores only the tokens whose logit can reach the best candidates ({@link BeamSearch#topCandidates});
 * it must return exactly what the full pass over every (beam, token) returns — the same float scores, the same
 * order, the same tie-breaking — including where float rounding makes different logits score equally.
 */
class BeamCandidatesTest {

    /** The full pass: log_softmax over the vocabulary, banned tokens at -inf, a stable top-k over (beam, token). */
    private static void fullPass(float[][] logits, float[] running, int[] banned, int slots, float[] score, int[] index) {
        Arrays.fill(score, Float.NEGATIVE_INFINITY);
        Arrays.fill(index, Integer.MAX_VALUE);
        int filled = 0;
        int vocab = logits[0].length;
        float[] lp = new float[vocab];
        for (int b = 0; b < logits.length; b++) {
            TokenScores.logSoftmax(logits[b], lp);
            TokenScores.forbid(lp, banned);
            for (int v = 0; v < vocab; v++) {
                float s = lp[v] + running[b];
                if (filled == slots && !(s > score[slots - 1])) {
                    continue;
                }
                int at = filled < slots ? filled++ : slots - 1;
                while (at > 0 && s > score[at - 1]) {
                    score[at] = score[at - 1];
                    index[at] = index[at - 1];
                    at--;
                }
                score[at] = s;
                index[at] = b * vocab + v;
            }
        }
    }

    private static void assertSame(float[][] logits, float[] running, int[] banned, int slots) {
        float[] want = new float[slots];
        int[] wantIndex = new int[slots];
        fullPass(logits, running, banned, slots, want, wantIndex);
        float[] got = new float[slots];
        int[] gotIndex = new int[slots];
        BeamSearch.topCandidates(logits, running, banned, slots, got, gotIndex);
        assertThat(gotIndex).as("candidate order").containsExactly(wantIndex);
        for (int i = 0; i < slots; i++) {
            assertThat(Float.floatToIntBits(got[i])).as("score bits of candidate %d", i)
                    .isEqualTo(Float.floatToIntBits(want[i]));
        }
    }

    @Test
    void equalsTheFullPassOnRandomLogitsWidthsAndBans() {
        Random rnd = new Random(7);
        for (int trial = 0; trial < 400; trial++) {
            int beams = new int[] {1, 2, 4, 8}[trial % 4];
            int vocab = trial % 5 == 0 ? 64 : 4096;
            float[][] logits = new float[beams][vocab];
            float[] running = new float[beams];
            for (int b = 0; b < beams; b++) {
                double spread = 1 + rnd.nextInt(6);
                for (int v = 0; v < vocab; v++) {
                    logits[b][v] = (float) (rnd.nextGaussian() * spread);
                }
                running[b] = b > 0 && trial % 7 == 0 ? -1.0e9f : (float) (-rnd.nextDouble() * 200);
            }
            int slots = (trial % 3 == 0 ? 3 : 2) * beams + 1;
            int[] banned = trial % 2 == 0 ? new int[] {1} : new int[0];
            assertSame(logits, running, banned, slots);
        }
    }

    @Test
    void keepsTiesAndRoundingCollisionsInTheFullPassOrder() {
        Random rnd = new Random(11);
        for (int trial = 0; trial < 300; trial++) {
            int beams = 1 + trial % 8;
            int vocab = 512;
            float[][] logits = new float[beams][vocab];
            float[] running = new float[beams];
            for (int b = 0; b < beams; b++) {
                for (int v = 0; v < vocab; v++) {
                    // coarse values: many exact ties; some one ulp apart, which a large running score rounds together
                    float x = Math.round(rnd.nextGaussian() * 4) / 4f;
                    logits[b][v] = rnd.nextInt(4) == 0 ? Math.nextDown(x) : x;
                }
                running[b] = trial % 2 == 0 ? -150.37f - b : -3.5f;   // equal running scores tie across beams
                if (trial % 3 == 0) {
                    running[b] = -150.37f;
                    logits[b] = logits[0].clone();                   // identical beams: every score ties
                }
            }
            assertSame(logits, running, new int[] {0, 5}, 2 * beams + 1);
        }
    }

    @Test
    void aVocabularySmallerThanTheCandidatesPadsLikeTheFullPass() {
        float[][] logits = {{0.5f, -1f, 2f}, {1f, 1f, 1f}};
        float[] running = {0f, -1.0e9f};
        assertSame(logits, running, new int[] {2}, 9);
        assertSame(logits, running, new int[0], 5);
    }
}
