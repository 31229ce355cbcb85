package specbeam.decode;

import java.util.List;

/** One decoding mode. Implementations are stateless between calls apart from preallocated scratch space. */
public interface DecodingStrategy {

    /**
     * Generates continuations for a batch of prompts.
     *
     * @param prompts token ids, one array per prompt (ragged; no padding needed)
     * @param config  a validated configuration whose mode is this strategy's
     * @param trace   receives speculative proposals/verdicts, or {@code null}
     */
    GenerationResult generate(List<int[]> prompts, GenerationConfig config, SpeculationTrace trace);
}
