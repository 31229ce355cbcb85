package specbeam.decode;

import specbeam.model.LanguageModel;
import specbeam.model.LmState;
import specbeam.model.TreeState;

import java.util.ArrayList;
import java.util.List;

/**
 * Target-only beam search with Hugging Face's semantics ({@link BeamSearch}). Each prompt is one cache row
 * holding a token tree ({@link TreeState}): the prompt once, each beam a branch. A step feeds one node per beam,
 * as a child of the beam it extends, so choosing new beams copies no KV bytes.
 */
public final class BeamSearchDecoding implements DecodingStrategy {
    private final LanguageModel target;

    public BeamSearchDecoding(LanguageModel target) {
        this.target = target;
    }

    /**
     * Cache slots a prompt's tree starts with: one beam's worth, a round's nodes twice, and a few tokens per beam
     * for the beams to diverge. Every forward attends over all slots, so the tree starts tight and grows if the
     * beams diverge further (copying its used slots once per growth).
     */
    static int initialTreeSlots(int longestPrompt, GenerationConfig config, int nodesPerForward) {
        return longestPrompt + config.maxNewTokens() + 2 * nodesPerForward + 4 * config.beamWidth() + 8;
    }

    /** The most slots a prompt's tree can need: every beam diverging at the prompt, plus one forward's nodes. */
    static int maxTreeSlots(int longestPrompt, GenerationConfig config, int nodesPerForward) {
        return longestPrompt + config.beamWidth() * (config.maxNewTokens() + 1) + nodesPerForward;
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
        float[][][] logits = new float[n][width][vocab];     // (prompts, beams, vocab): raw logits at each beam
        int[][] tail = new int[n][width];                     // (prompts, beams): node id of each beam's last token
        try (TreeState state = target.newTreeState(n, initialTreeSlots(longest, config, width),
                maxTreeSlots(longest, config, width), DecodeSupport.targetTimer(stats))) {
            // 1. prefill: each prompt as a chain in its row; every beam starts at its last token
            LmState.Logits out = state.forwardPrompt(prompts.toArray(new int[0][]));
            for (int i = 0; i < n; i++) {
                int len = prompts.get(i).length;
                searches[i] = new BeamSearch(len, config, eos);
                out.copy(i, len - 1, logits[i][0]);
                for (int b = 0; b < width; b++) {
                    System.arraycopy(logits[i][0], 0, logits[i][b], 0, vocab);
                    tail[i][b] = len - 1;
                }
            }
            stats.prefillNanos = System.nanoTime() - start;
            // 2. step, then feed each new beam's token under the beam it extends; the loop's body lives in two
            // methods, which the JIT compiles as soon as they are hot: a body inlined here was compiled on-stack
            // only when this long-running loop's counters tripped, tens of seconds into a benchmark fork
            int[][] tokens = new int[n][];
            int[][] parents = new int[n][];
            while (step(searches, logits, tail, tokens, parents, stats)) {
                feed(state, tokens, parents, tail, logits, stats);
            }
        }
        return results(searches, prompts, config, stats, start);
    }

    /**
     * One beam step of every unfinished search; fills each prompt's new tokens and their parents' node ids
     * (empty for a finished prompt). Returns whether any prompt goes on.
     */
    private static boolean step(BeamSearch[] searches, float[][][] logits, int[][] tail, int[][] tokens,
                                int[][] parents, DecodeStats stats) {
        boolean any = false;
        for (int i = 0; i < searches.length; i++) {
            BeamSearch search = searches[i];
            tokens[i] = new int[0];
            parents[i] = new int[0];
            if (search.isDone()) {
                continue;
            }
            long scanStart = System.nanoTime();
            search.step(logits[i]);
            stats.logitsNanos += System.nanoTime() - scanStart;
            stats.steps++;
            if (search.isDone()) {
                continue;
            }
            any = true;
            int width = tail[i].length;
            tokens[i] = new int[width];
            parents[i] = new int[width];
            for (int b = 0; b < width; b++) {
                tokens[i][b] = search.token(b);
                parents[i][b] = tail[i][search.parent(b)];
            }
        }
        return any;
    }

    /** Feeds the new tokens in one forward and keeps each beam's new node and logits; other nodes may go. */
    private static void feed(TreeState state, int[][] tokens, int[][] parents, int[][] tail, float[][][] logits,
                             DecodeStats stats) {
        int n = tokens.length;
        int[] firstId = new int[n];
        for (int i = 0; i < n; i++) {
            firstId[i] = state.nextId(i);
        }
        LmState.Logits out = state.forward(tokens, parents);
        stats.recordRound(1);
        for (int i = 0; i < n; i++) {
            if (tokens[i].length == 0) {
                continue;
            }
            long copyStart = System.nanoTime();
            for (int b = 0; b < tail[i].length; b++) {
                tail[i][b] = firstId[i] + b;
                out.copy(i, b, logits[i][b]);
            }
            stats.logitsNanos += System.nanoTime() - copyStart;
            state.retain(i, tail[i]);
        }
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
