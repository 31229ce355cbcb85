package specbeam.decode;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Hugging Face's sampling warpers in their order (temperature, top-k, top-p) and seeded draws. One instance
 * per generation call; its scratch arrays are reused.
 */
final class Sampler {
    private final double temperature;
    private final int topK;
    private final double topP;
    private final SplittableRandom random;
    private final Integer[] order;

    Sampler(GenerationConfig config, int vocab) {
        this.temperature = config.temperature();
        this.topK = config.topK();
        this.topP = config.topP();
        this.random = new SplittableRandom(config.seed());
        this.order = new Integer[vocab];
    }

    /** {@code probs = softmax(warp(scores))}; scores already carry the logits processors (e.g. -inf for EOS). */
    void warp(float[] scores, double[] probs) {
        int vocab = scores.length;
        double max = Double.NEGATIVE_INFINITY;
        for (float s : scores) {
            max = Math.max(max, s / temperature);
        }
        double sum = 0;
        for (int v = 0; v < vocab; v++) {
            probs[v] = Math.exp(scores[v] / temperature - max);
            sum += probs[v];
        }
        for (int v = 0; v < vocab; v++) {
            probs[v] /= sum;
        }
        if ((topK > 0 && topK < vocab) || topP < 1.0) {
            for (int v = 0; v < vocab; v++) {
                order[v] = v;
            }
            Arrays.sort(order, (a, b) -> Double.compare(probs[b], probs[a]));
            int keep = topK > 0 ? Math.min(topK, vocab) : vocab;
            if (topP < 1.0) {   // over what top-k kept, renormalised: HF's top-p sees top-k's output
                double topKMass = 0;
                for (int i = 0; i < keep; i++) {
                    topKMass += probs[order[i]];
                }
                double mass = 0;
                int need = 0;
                while (need < keep) {
                    mass += probs[order[need]];
                    need++;
                    if (mass >= topP * topKMass) {
                        break;
                    }
                }
                keep = need;
            }
            double kept = 0;
            for (int i = 0; i < vocab; i++) {
                if (i < keep) {
                    kept += probs[order[i]];
                } else {
                    probs[order[i]] = 0;
                }
            }
            for (int v = 0; v < vocab; v++) {
                probs[v] /= kept;
            }
        }
    }

    /** Draws an index from a normalised distribution. */
    int draw(double[] probs) {
        double u = random.nextDouble();
        double acc = 0;
        int last = 0;
        for (int v = 0; v < probs.length; v++) {
            if (probs[v] > 0) {
                acc += probs[v];
                last = v;
                if (u < acc) {
                    return v;
                }
            }
        }
        return last;
    }

    double uniform() {
        return random.nextDouble();
    }
}
