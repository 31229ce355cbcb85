package specbeam.decode;

import specbeam.model.LanguageModel;
import specbeam.model.LmState;

import java.util.ArrayList;
import java.util.List;

/**
 * Target-only multinomial sampling (temperature, top-k, top-p, seeded), Hugging Face
 * {@code generate(do_sample=True)} semantics. {@code numReturnSequences} samples per prompt.
 */
public final class SamplingDecoding implements DecodingStrategy {
    private final LanguageModel target;

    public SamplingDecoding(LanguageModel target) {
        this.target = target;
    }

    @Override
    public GenerationResult generate(List<int[]> prompts, GenerationConfig config, SpeculationTrace trace) {
        long start = System.nanoTime();
        int longest = DecodeSupport.checkPrompts(prompts, target.manifest(), config);
        List<int[]> rowPrompts = expand(prompts, config.numReturnSequences());
        int n = rowPrompts.size();
        int[] eos = DecodeSupport.eosTokens(config, target.manifest());
        int vocab = target.manifest().vocabSize();
        DecodeStats stats = new DecodeStats();
        Sampler sampler = new Sampler(config, vocab);
        float[] logits = new float[vocab];
        double[] probs = new double[vocab];
        GreedyDecoding.RowOutput[] rows = new GreedyDecoding.RowOutput[n];
        for (int i = 0; i < n; i++) {
            rows[i] = new GreedyDecoding.RowOutput(rowPrompts.get(i), config.maxNewTokens());
        }
        try (LmState state = target.newState(n, longest + config.maxNewTokens() + 1, DecodeSupport.targetTimer(stats))) {
            LmState.Logits out = state.forwardPrompt(0, rowPrompts.toArray(new int[0][]));
            int[] lastNode = new int[n];
            for (int i = 0; i < n; i++) {
                state.commit(i, GreedyDecoding.range(rowPrompts.get(i).length));
                lastNode[i] = rowPrompts.get(i).length - 1;
            }
            stats.prefillNanos = System.nanoTime() - start;
            while (true) {
                int[][] feed = new int[n][];
                boolean any = false;
                for (int i = 0; i < n; i++) {
                    feed[i] = new int[0];
                    GreedyDecoding.RowOutput row = rows[i];
                    if (row.finished) {
                        continue;
                    }
                    out.copy(i, lastNode[i], logits);
                    if (row.length < config.minNewTokens()) {
                        TokenScores.forbid(logits, eos);
                    }
                    sampler.warp(logits, probs);
                    int token = sampler.draw(probs);
                    TokenScores.LogNorm norm = TokenScores.logNorm(logits);
                    row.add(token, norm.logProb(logits[token]), eos);
                    if (!row.finished) {
                        feed[i] = new int[] {token};
                        any = true;
                    }
                }
                if (!any) {
                    break;
                }
                out = state.forward(0, feed, null);
                stats.recordRound(1);
                for (int i = 0; i < n; i++) {
                    lastNode[i] = 0;
                    if (feed[i].length > 0) {
                        state.commit(i, new int[] {0});
                    }
                }
            }
        }
        return group(GreedyDecoding.RowOutput.result(rows, rowPrompts, stats, start), prompts.size(),
                config.numReturnSequences());
    }

    /** Each prompt repeated {@code copies} times, in order. */
    static List<int[]> expand(List<int[]> prompts, int copies) {
        List<int[]> out = new ArrayList<>();
        for (int[] p : prompts) {
            for (int c = 0; c < copies; c++) {
                out.add(p);
            }
        }
        return out;
    }

    /** Regroups per-row results into per-prompt lists of {@code copies} sequences. */
    static GenerationResult group(GenerationResult perRow, int prompts, int copies) {
        if (copies == 1) {
            return perRow;
        }
        List<List<GeneratedSequence>> sequences = new ArrayList<>();
        List<double[]> gaps = new ArrayList<>();
        for (int i = 0; i < prompts; i++) {
            List<GeneratedSequence> seqs = new ArrayList<>();
            for (int c = 0; c < copies; c++) {
                seqs.add(perRow.sequences().get(i * copies + c).get(0));
            }
            sequences.add(seqs);
            gaps.add(perRow.nearTieGaps().get(i * copies));
        }
        return new GenerationResult(sequences, perRow.stats(), gaps);
    }
}
