package specbeam.quality;

import specbeam.Engine;
import specbeam.EngineOptions;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.model.ExecutionProvider;
import specbeam.tasks.ModelPair;

import java.util.List;

/** {@link TextGenerator} backed by the real engine. */
public final class EngineTextGenerator implements TextGenerator {
    private final Engine engine;

    private EngineTextGenerator(Engine engine) {
        this.engine = engine;
    }

    /** Opens the pair's target (and draft, when {@code withDraft}) on {@code provider}, one ORT thread per core. */
    public static EngineTextGenerator open(ModelPair pair, ExecutionProvider provider, boolean withDraft) {
        return new EngineTextGenerator(Engine.open(new EngineOptions(pair.target(), withDraft ? pair.draft() : null,
                provider, EngineOptions.defaultThreads())));
    }

    @Override
    public GenerationResult generate(List<int[]> prompts, GenerationConfig config) {
        return engine.generate(prompts, config);
    }

    @Override
    public double[] continuationLogProbs(int[] prompt, int[] continuation) {
        return engine.continuationLogProbs(prompt, continuation);
    }

    @Override
    public String decode(int[] ids) {
        return engine.tokenizer().decode(ids);
    }

    @Override
    public ExecutionProvider providerUsed() {
        return engine.providerUsed();
    }

    @Override
    public void close() {
        engine.close();
    }
}
