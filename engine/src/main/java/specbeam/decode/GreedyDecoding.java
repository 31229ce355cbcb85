package specbeam.decode;

import specbeam.model.LanguageModel;
import specbeam.model.LmState;

import java.util.ArrayList;
import java.util.List;

/** Target-only greedy decoding, Hugging Face {@code generate(do_sample=False, num_beams=1)} semantics. */
public final class GreedyDecoding implements DecodingStrategy {
    private final LanguageModel target;

    public GreedyDecoding(LanguageModel target) {
        this.target = target;
    }

    @Override
    public GenerationResult generate(List<int[]> prompts, GenerationConfig config, SpeculationTrace trace) {
        long start = System.nanoTime();
        int n = prompts.size();
        int longest = DecodeSupport.checkPrompts(prompts, target.manifest(), config);
        int[] eos = DecodeSupport.eosTokens(config, target.manifest());
        DecodeStats stats = new DecodeStats();
        int vocab = target.manifest().vocabSize();
        float[] logits = new float[vocab];
        RowOutput[] rows = new RowOutput[n];
        for (int i = 0; i < n; i++) {
            rows[i] = new RowOutput(prompts.get(i), config.maxNewTokens());
        }
        try (LmState state = target.newState(n, longest + config.maxNewTokens() + 1, DecodeSupport.targetTimer(stats))) {
            // 1. prefill
            LmState.Logits out = state.forwardPrompt(0, prompts.toArray(new int[0][]));
            int[] lastNode = new int[n];
            for (int i = 0; i < n; i++) {
                state.commit(i, range(prompts.get(i).length));
                lastNode[i] = prompts.get(i).length - 1;
            }
            stats.prefillNanos = System.nanoTime() - start;
            // 2. decode: pick the argmax, feed it back
            while (true) {
                int[][] feed = new int[n][];
                boolean any = false;
                for (int i = 0; i < n; i++) {
                    RowOutput row = rows[i];
                    feed[i] = new int[0];
                    if (row.finished) {
                        continue;
                    }
                    out.copy(i, lastNode[i], logits);
                    if (row.length < config.minNewTokens()) {
                        TokenScores.forbid(logits, eos);
                    }
                    TokenScores.Top2 top = TokenScores.top2(logits);   // argmax, max and gap in one pass
                    int token = top.index();
                    row.gaps.add(top.gap());
                    TokenScores.LogNorm norm = TokenScores.logNorm(logits, top);
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
        return RowOutput.result(rows, prompts, stats, start);
    }

    static int[] range(int n) {
        int[] r = new int[n];
        for (int i = 0; i < n; i++) {
            r[i] = i;
        }
        return r;
    }

    /** One prompt's growing output for the one-sequence modes (greedy, sampling and their speculative forms). */
    static final class RowOutput {
        final int[] prompt;
        final int[] generated;
        int length;
        double score;
        boolean finished;
        FinishReason reason = FinishReason.LENGTH;
        final List<Double> gaps = new ArrayList<>();

        RowOutput(int[] prompt, int maxNewTokens) {
            this.prompt = prompt;
            this.generated = new int[maxNewTokens];
        }

        /** Appends a token; finishes the row on EOS or when full. */
        void add(int token, float logProb, int[] eos) {
            generated[length++] = token;
            score += logProb;
            if (TokenScores.contains(eos, token)) {
                finished = true;
                reason = FinishReason.EOS;
            } else if (length == generated.length) {
                finished = true;
            }
        }

        GeneratedSequence sequence() {
            return new GeneratedSequence(DecodeSupport.concat(prompt, generated, length), prompt.length, score, reason);
        }

        static GenerationResult result(RowOutput[] rows, List<int[]> prompts, DecodeStats stats, long start) {
            List<List<GeneratedSequence>> sequences = new ArrayList<>();
            List<double[]> gaps = new ArrayList<>();
            for (RowOutput row : rows) {
                sequences.add(List.of(row.sequence()));
                gaps.add(row.gaps.stream().mapToDouble(Double::doubleValue).toArray());
                stats.tokensGenerated += row.length;
                stats.steps += row.length;
            }
            stats.wallNanos = System.nanoTime() - start;
            return new GenerationResult(sequences, stats, gaps);
        }
    }
}
