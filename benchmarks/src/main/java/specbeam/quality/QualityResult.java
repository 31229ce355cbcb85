package specbeam.quality;

import specbeam.model.ExecutionProvider;

/**
 * Output quality of one grid point, computed once outside the timed path. NaN = not applicable.
 *
 * @param prompts           prompts generated (study prompts + continuation items)
 * @param identicalShare    share of prompts whose returned sequences equal the target-only baseline's token for
 *                          token (speculative greedy and beam modes; NaN for baselines and sampling modes, whose
 *                          guarantee is distributional)
 * @param certifiedTieShare share of prompts that differ only after a certified floating-point near-tie
 * @param perplexity        target perplexity of the best sequences' new tokens
 * @param bleu              corpus BLEU (sacrebleu defaults) of the continuations against the references
 * @param rouge1            mean ROUGE-1 F1 against the references
 * @param rouge2            mean ROUGE-2 F1
 * @param rougeL            mean ROUGE-L F1
 * @param distinct1         mean over prompts of distinct-1 among the returned sequences' new tokens
 * @param distinct2         mean over prompts of distinct-2
 * @param selfBleu          mean over prompts of self-BLEU among the returned sequences (NaN with one sequence)
 * @param providerUsed      the provider that actually ran
 * @param levelCoverage     speculative beam search: per tree level (index 0 = level 1), the share of rounds
 *                          reaching that level in which all B beams the target selected were tree nodes (empty
 *                          for other modes)
 */
public record QualityResult(int prompts, double identicalShare, double certifiedTieShare, double perplexity,
                            double bleu, double rouge1, double rouge2, double rougeL, double distinct1,
                            double distinct2, double selfBleu, ExecutionProvider providerUsed,
                            double[] levelCoverage) {
}
