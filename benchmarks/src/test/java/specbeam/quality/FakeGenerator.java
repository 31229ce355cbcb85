package specbeam.quality;

import specbeam.decode.DecodeStats;
import specbeam.decode.FinishReason;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Collectors;

/**
 * A stand-in for the engine with fixed outputs: after a prompt ending in token p, sequence j of the returned
 * ones continues p+1+j, p+2+j, ... for {@code NEW_TOKENS} tokens. Every log-probability is -1, token t decodes
 * to the word "t&lt;t&gt;". A mode can be made to diverge at one step, with a chosen decision gap there.
 */
public final class FakeGenerator implements TextGenerator {
    public static final int NEW_TOKENS = 6;

    private final Mode divergentMode;
    private final int divergeAt;
    private final double gapAtDivergence;
    public int generateCalls;

    public FakeGenerator() {
        this(null, -1, 1.0);
    }

    /** Outputs of {@code divergentMode} differ from the rest at step {@code divergeAt}, whose gap is {@code gap}. */
    public FakeGenerator(Mode divergentMode, int divergeAt, double gap) {
        this.divergentMode = divergentMode;
        this.divergeAt = divergeAt;
        this.gapAtDivergence = gap;
    }

    @Override
    public GenerationResult generate(List<int[]> prompts, GenerationConfig config) {
        generateCalls++;
        List<List<GeneratedSequence>> sequences = new ArrayList<>();
        List<double[]> gaps = new ArrayList<>();
        for (int[] prompt : prompts) {
            List<GeneratedSequence> returned = new ArrayList<>();
            for (int j = 0; j < config.numReturnSequences(); j++) {
                int[] tokens = Arrays.copyOf(prompt, prompt.length + NEW_TOKENS);
                for (int t = 0; t < NEW_TOKENS; t++) {
                    tokens[prompt.length + t] = prompt[prompt.length - 1] + 1 + t + j;
                }
                if (config.mode() == divergentMode) {
                    tokens[prompt.length + divergeAt] = 999;
                }
                returned.add(new GeneratedSequence(tokens, prompt.length, -1.0 * NEW_TOKENS, FinishReason.LENGTH));
            }
            sequences.add(returned);
            double[] g = new double[NEW_TOKENS];
            Arrays.fill(g, 1.0);
            if (divergeAt >= 0) {
                g[divergeAt] = gapAtDivergence;
            }
            gaps.add(g);
        }
        DecodeStats stats = new DecodeStats();
        stats.tokensGenerated = (long) NEW_TOKENS * prompts.size();
        return new GenerationResult(sequences, stats, gaps);
    }

    @Override
    public double[] continuationLogProbs(int[] prompt, int[] continuation) {
        double[] lp = new double[continuation.length];
        Arrays.fill(lp, -1.0);
        return lp;
    }

    @Override
    public String decode(int[] ids) {
        return Arrays.stream(ids).mapToObj(t -> "t" + t).collect(Collectors.joining(" "));
    }

    @Override
    public ExecutionProvider providerUsed() {
        return ExecutionProvider.CPU;
    }

    @Override
    public void close() {
    }
}
