package specbeam;

import specbeam.decode.BeamSearchDecoding;
import specbeam.decode.DecodingStrategy;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.GreedyDecoding;
import specbeam.decode.Mode;
import specbeam.decode.SamplingDecoding;
import specbeam.decode.SpeculationTrace;
import specbeam.decode.SpeculativeBeamDecoding;
import specbeam.decode.SpeculativeDecoding;
import specbeam.decode.TokenScores;
import specbeam.model.ExecutionProvider;
import specbeam.model.LmState;
import specbeam.model.ModelLoadException;
import specbeam.model.ModelManifest;
import specbeam.model.OnnxCausalLm;
import specbeam.model.OrtThreads;
import specbeam.text.ChatTemplate;
import specbeam.text.PromptRequest;
import specbeam.text.TextTokenizer;

import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The engine's front door: a target model, an optional draft, the tokenizer, and one strategy per mode.
 * Not thread-safe: one generation at a time.
 */
public final class Engine implements AutoCloseable {
    private final OnnxCausalLm target;
    private final OnnxCausalLm draft;
    private final TextTokenizer tokenizer;
    /** The target directory's chat template, if it has one. */
    private final Optional<ChatTemplate> chatTemplate;
    private final Path targetDir;
    private final Map<Mode, DecodingStrategy> strategies = new EnumMap<>(Mode.class);

    private Engine(OnnxCausalLm target, OnnxCausalLm draft, TextTokenizer tokenizer, Optional<ChatTemplate> chatTemplate,
                   Path targetDir) {
        this.target = target;
        this.draft = draft;
        this.tokenizer = tokenizer;
        this.chatTemplate = chatTemplate;
        this.targetDir = targetDir;
        strategies.put(Mode.GREEDY, new GreedyDecoding(target));
        strategies.put(Mode.BEAM, new BeamSearchDecoding(target));
        strategies.put(Mode.SAMPLING, new SamplingDecoding(target));
        if (draft != null) {
            strategies.put(Mode.SPECULATIVE, new SpeculativeDecoding(target, draft));
            strategies.put(Mode.SPECULATIVE_SAMPLING, new SpeculativeDecoding(target, draft));
            strategies.put(Mode.SPECULATIVE_BEAM, new SpeculativeBeamDecoding(target, draft));
        }
    }

    /**
     * Loads the target (and draft) and the target's tokenizer.
     *
     * @throws ModelLoadException when a directory, file or the draft/target pairing is unusable
     */
    public static Engine open(EngineOptions options) {
        if (options.threads() < 1) {
            throw new IllegalArgumentException("threads must be >= 1 (got " + options.threads() + ")");
        }
        OnnxCausalLm target = OnnxCausalLm.load(options.target(), options.provider(), options.threads());
        OnnxCausalLm draft = null;
        TextTokenizer tokenizer = null;
        try {
            if (options.draft() != null) {
                draft = OnnxCausalLm.load(options.draft(), target.provider(),
                        OrtThreads.current().forDraft(options.threads()));
                checkPair(target.manifest(), draft.manifest(), options);
            }
            tokenizer = TextTokenizer.load(options.target());
            Optional<ChatTemplate> template = ChatTemplate.load(options.target());
            return new Engine(target, draft, tokenizer, template, options.target());
        } catch (RuntimeException e) {
            if (tokenizer != null) {
                tokenizer.close();
            }
            target.close();
            if (draft != null) {
                draft.close();
            }
            throw e;
        }
    }

    private static void checkPair(ModelManifest t, ModelManifest d, EngineOptions options) {
        if (t.vocabSize() != d.vocabSize()) {
            throw new ModelLoadException("draft " + options.draft() + " has a vocabulary of " + d.vocabSize()
                    + " tokens but target " + options.target() + " has " + t.vocabSize()
                    + ": speculative decoding needs a draft that shares the target's tokenizer");
        }
        if (t.files() != null && d.files() != null && t.files().get("tokenizer.json") != null
                && d.files().get("tokenizer.json") != null
                && !t.files().get("tokenizer.json").equals(d.files().get("tokenizer.json"))) {
            throw new ModelLoadException("draft " + options.draft() + " and target " + options.target()
                    + " have different tokenizers (tokenizer.json checksums differ): use a draft trained with the target's tokenizer");
        }
    }

    public GenerationResult generate(List<int[]> prompts, GenerationConfig config) {
        return generate(prompts, config, null);
    }

    public GenerationResult generate(List<int[]> prompts, GenerationConfig config, SpeculationTrace trace) {
        config.validate();
        DecodingStrategy strategy = strategies.get(config.mode());
        if (strategy == null) {
            throw new IllegalArgumentException("mode " + config.mode().id() + " needs a draft model: pass --draft <dir>");
        }
        return strategy.generate(prompts, config, trace);
    }

    /** The target's log-probability of each continuation token given the prompt (teacher forcing). */
    public double[] continuationLogProbs(int[] prompt, int[] continuation) {
        if (prompt.length == 0 || continuation.length == 0) {
            throw new IllegalArgumentException("prompt and continuation must be non-empty");
        }
        int total = prompt.length + continuation.length;
        if (total > target.manifest().maxPositions()) {
            throw new IllegalArgumentException("prompt + continuation (" + total + " tokens) exceed the model's "
                    + target.manifest().maxPositions() + " positions");
        }
        int[] all = new int[total];
        System.arraycopy(prompt, 0, all, 0, prompt.length);
        System.arraycopy(continuation, 0, all, prompt.length, continuation.length);
        int vocab = target.manifest().vocabSize();
        float[] logits = new float[vocab];
        float[] logProbs = new float[vocab];
        double[] out = new double[continuation.length];
        OnnxCausalLm.OrtTimer ignore = new OnnxCausalLm.OrtTimer() {
            @Override
            public void ortNanos(long nanos, int tokensFed) {
            }

            @Override
            public void kvBytes(long bytes) {
            }
        };
        try (LmState state = target.newState(1, total + 1, ignore)) {
            LmState.Logits result = state.forward(0, new int[][] {all}, null);
            for (int j = 0; j < continuation.length; j++) {
                result.copy(0, prompt.length - 1 + j, logits);
                TokenScores.logSoftmax(logits, logProbs);
                out[j] = logProbs[continuation[j]];
            }
        }
        return out;
    }

    public ModelManifest targetManifest() {
        return target.manifest();
    }

    /** The draft's manifest, or {@code null} without a draft. */
    public ModelManifest draftManifest() {
        return draft == null ? null : draft.manifest();
    }

    public TextTokenizer tokenizer() {
        return tokenizer;
    }

    /** The target's chat template ({@code chat_template.jinja} or tokenizer_config.json), if it has one. */
    public Optional<ChatTemplate> chatTemplate() {
        return chatTemplate;
    }

    /** A prompt as the model reads it: rendered (chat template or raw, as asked) and encoded. */
    public RenderedPrompt renderPrompt(PromptRequest request) {
        PromptRequest.Rendered rendered = request.render(chatTemplate, targetDir.toString());
        return new RenderedPrompt(rendered, tokenizer.encode(rendered.text()));
    }

    /** The rendered prompt and its token ids (special tokens in the text encoded as special tokens). */
    public record RenderedPrompt(PromptRequest.Rendered rendered, int[] ids) {
    }

    /** The provider the sessions actually run on (CPU after a CUDA fallback). */
    public ExecutionProvider providerUsed() {
        return target.provider();
    }

    /** Where the target keeps its KV cache: {@code bound} (ONNX Runtime memory, IoBinding) or {@code host}. */
    public String kvCacheUsed() {
        return target.kvBackend().label();
    }

    public static String onnxRuntimeVersion() {
        return OnnxCausalLm.environment(EngineOptions.defaultThreads()).getVersion();
    }

    @Override
    public void close() {
        tokenizer.close();
        target.close();
        if (draft != null) {
            draft.close();
        }
    }
}
