package specbeam.quality;

import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.model.ExecutionProvider;

import java.util.List;

/** What the quality pass needs from the engine (the real {@code specbeam.Engine}, or a fake in tests). */
public interface TextGenerator extends AutoCloseable {

    GenerationResult generate(List<int[]> prompts, GenerationConfig config);

    /** The target's natural-log probability of each continuation token given the prompt and the tokens before it. */
    double[] continuationLogProbs(int[] prompt, int[] continuation);

    /** Token ids to text (special tokens kept). */
    String decode(int[] ids);

    /** The execution provider that actually ran (CUDA may have fallen back to CPU). */
    ExecutionProvider providerUsed();

    @Override
    void close();
}
