package specbeam.decode;

import java.util.List;

/**
 * The result of one generation call over a batch of prompts.
 *
 * @param sequences per prompt, the returned sequences, best first
 * @param stats     counters of the whole call
 * @param nearTieGaps per prompt, per decoding step, the smallest score gap that decided that step
 *                  (greedy: best minus runner-up logit; beam: smallest gap among the best {@code 2B+1}
 *                  candidates); used to certify floating-point near-ties when comparing outputs
 */
public record GenerationResult(List<List<GeneratedSequence>> sequences, DecodeStats stats,
                               List<double[]> nearTieGaps) {

    public GeneratedSequence best(int prompt) {
        return sequences.get(prompt).get(0);
    }
}
