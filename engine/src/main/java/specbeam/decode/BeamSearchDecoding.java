package specbeam.decode;

import specbeam.model.LanguageModel;
import specbeam.model.LmState;

import java.util.ArrayList;
import java.util.List;

/**
 * Target-only beam search with Hugging Face's semantics ({@link BeamSearch}). Rows are
 * {@code prompt * beamWidth + beam}; each step reorders the cache rows and feeds one token per beam.
 */
public final class BeamSearchDecoding implements DecodingStrategy {
    private final LanguageModel target;

    public BeamSearchDecoding(LanguageModel target) {
        this.target = target;
    }

    @Override
    public GenerationResult generate(List<int[]> prompts, GenerationConfig config, SpeculationTrace trace) {
        long start = System.nanoTime();
        int n = prompts.size();
        int width = config.beamWidth();
        int longest = DecodeSupport.checkPrompts(prompts, target.manifest(), config);
        int[] eos = DecodeSupport.eosTokens(config, target.manifest());
        int vocab = target.manifest().vocabSize();
        DecodeStats stats = new DecodeStats();
        BeamSearch[] searches = new BeamSearch[n];
        float[] logits = new float[vocab];
        float[][][] logProbs = new float[n][width][vocab];
        try (LmState state = target.newState(n * width, longest + config.maxNewTokens() + 1,
                DecodeSupport.targetTimer(stats))) {
            // 1. prefill one row per prompt, then copy it to the prompt's beams
            LmState.Logits out = state.forward(0, prompts.toArray(new int[0][]), null);
            for (int i = 0; i < n; i++) {
                searches[i] = new BeamSearch(prompts.get(i).length, config, eos);
                state.commit(i, GreedyDecoding.range(prompts.get(i).length));
                out.copy(i, prompts.get(i).length - 1, logits);
                searches[i].processLogits(logits, logProbs[i][0]);
                for (int b = 1; b < width; b++) {
                    System.arraycopy(logProbs[i][0], 0, logProbs[i][b], 0, vocab);
                }
            }
            int[] sources = new int[n * width];
            for (int r = 0; r < sources.length; r++) {
                sources[r] = r / width;
            }
            state.selectRows(sources);
            stats.prefillNanos = System.nanoTime() - start;
            // 2. step, reorder, feed
            while (true) {
                int[][] feed = new int[n * width][];
                boolean any = false;
                for (int i = 0; i < n; i++) {
                    BeamSearch search = searches[i];
                    for (int b = 0; b < width; b++) {
                        sources[i * width + b] = i * width + b;
                        feed[i * width + b] = new int[0];
                    }
                    if (search.isDone()) {
                        continue;
                    }
                    search.step(logProbs[i]);
                    stats.steps++;
                    if (search.isDone()) {
                        continue;
                    }
                    any = true;
                    for (int b = 0; b < width; b++) {
                        sources[i * width + b] = i * width + search.parent(b);
                        feed[i * width + b] = new int[] {search.token(b)};
                    }
                }
                if (!any) {
                    break;
                }
                state.selectRows(sources);
                out = state.forward(0, feed, null);
                stats.recordRound(1);
                for (int i = 0; i < n; i++) {
                    if (searches[i].isDone()) {
                        continue;
                    }
                    for (int b = 0; b < width; b++) {
                        int row = i * width + b;
                        state.commit(row, new int[] {0});
                        out.copy(row, 0, logits);
                        searches[i].processLogits(logits, logProbs[i][b]);
                    }
                }
            }
        }
        return results(searches, prompts, config, stats, start);
    }

    static GenerationResult results(BeamSearch[] searches, List<int[]> prompts, GenerationConfig config,
                                    DecodeStats stats, long start) {
        List<List<GeneratedSequence>> sequences = new ArrayList<>();
        List<double[]> gaps = new ArrayList<>();
        for (int i = 0; i < searches.length; i++) {
            List<GeneratedSequence> seqs = searches[i].results(prompts.get(i), config.numReturnSequences());
            sequences.add(seqs);
            gaps.add(searches[i].gaps());
            stats.tokensGenerated += seqs.get(0).generatedLength();
        }
        stats.wallNanos = System.nanoTime() - start;
        return new GenerationResult(sequences, stats, gaps);
    }
}
