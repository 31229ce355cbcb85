package specbeam.cli;

import specbeam.decode.EarlyStopping;
import specbeam.decode.GenerationConfig;
import specbeam.decode.Mode;

import specbeam.text.ChatMessage;
import specbeam.text.PromptRequest;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The {@code generate} options that describe one generation ({@code --mode}, {@code --k}, {@code --beam-width}, ...),
 * turned into a {@link GenerationConfig}. Shared by the command line and the {@code serve} API, so both accept the
 * same values and reject the same mistakes with the same one-line messages.
 */
public final class GenerateOptions {
    private GenerateOptions() {
    }

    /** Builds and validates the configuration; {@code opts} maps option names ({@code --beam-width}) to values. */
    public static GenerationConfig config(Map<String, String> opts) {
        if (!opts.containsKey("--mode")) {
            throw new IllegalArgumentException("--mode is required: greedy, beam, sampling, speculative, speculative_beam or speculative_sampling");
        }
        Mode mode = Mode.parse(opts.get("--mode"));
        GenerationConfig.Builder b = GenerationConfig.builder(mode)
                .maxNewTokens(intOpt(opts, "--max-new-tokens", GenerationConfig.DEFAULT_MAX_NEW_TOKENS))
                .minNewTokens(intOpt(opts, "--min-new-tokens", 0))
                .beamWidth(intOpt(opts, "--beam-width", mode.isBeam() ? GenerationConfig.DEFAULT_BEAM_WIDTH : 1))
                .numReturnSequences(intOpt(opts, "--num-return-sequences", 1))
                .lengthPenalty(doubleOpt(opts, "--length-penalty", 1.0))
                .earlyStopping(EarlyStopping.parse(opts.getOrDefault("--early-stopping", "false")))
                .temperature(doubleOpt(opts, "--temperature", 1.0))
                .topK(intOpt(opts, "--top-k", 0))
                .topP(doubleOpt(opts, "--top-p", 1.0))
                .seed(intOpt(opts, "--seed", 42))
                .k(intOpt(opts, "--k", GenerationConfig.DEFAULT_K))
                .treeBranching(intOpt(opts, "--tree-branching", GenerationConfig.DEFAULT_TREE_BRANCHING))
                .adaptive(opts.containsKey("--adaptive"));
        if (opts.containsKey("--tree-budget")) {
            b.treeBudget(intOpt(opts, "--tree-budget", 0));
        }
        if (opts.containsKey("--eos-ids")) {
            b.eosTokenIds(ids("--eos-ids", opts.get("--eos-ids")));
        }
        return b.build();
    }

    /** The options that shape a text prompt or conversation through the chat template. */
    public static final List<String> CHAT_OPTIONS = List.of("--chat", "--raw", "--system", "--enable-thinking");

    /**
     * A text prompt or a conversation (exactly one non-null) with the chat options of {@code opts}: {@code --chat}
     * (require the template) or {@code --raw} (no template; the default is the template when the model has one),
     * {@code --system TEXT}, {@code --enable-thinking true|false} (Qwen3's switch, passed to the template).
     */
    public static PromptRequest promptRequest(String text, List<ChatMessage> messages, Map<String, String> opts) {
        if (opts.containsKey("--chat") && opts.containsKey("--raw")) {
            throw new IllegalArgumentException("--chat and --raw contradict each other: give one of them");
        }
        Boolean chat = opts.containsKey("--chat") ? Boolean.TRUE : opts.containsKey("--raw") ? Boolean.FALSE : null;
        Map<String, Object> options = new LinkedHashMap<>();
        if (opts.containsKey("--enable-thinking")) {
            options.put("enable_thinking", bool(opts, "--enable-thinking"));
        }
        return new PromptRequest(text, messages, opts.get("--system"), chat, options);
    }

    /** Fails when chat options come with a prompt that is already token ids. */
    public static void refuseChatOptions(Map<String, String> opts, String source) {
        for (String key : CHAT_OPTIONS) {
            if (opts.containsKey(key)) {
                throw new IllegalArgumentException(key + " shapes a text prompt (--prompt or --messages), not " + source
                        + ", which is already token ids");
            }
        }
    }

    static boolean bool(Map<String, String> o, String key) {
        String v = o.get(key).trim();
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException(key + " needs true or false, got '" + o.get(key) + "'");
        }
        return v.equals("true");
    }

    /** Fails with the command line's message when a speculative mode has no draft model. */
    public static void requireDraftFor(GenerationConfig config, boolean haveDraft) {
        if (config.mode().isSpeculative() && !haveDraft) {
            throw new IllegalArgumentException("mode " + config.mode().id() + " needs --draft DIR (e.g. models/pair/draft)");
        }
    }

    /** The token ids of a text prompt, unchanged; fails with the command line's message when the text encoded to nothing. */
    public static int[] requireNonEmpty(int[] promptIds) {
        if (promptIds.length == 0) {
            throw new IllegalArgumentException("the prompt is empty: give some text");
        }
        return promptIds;
    }

    static int intOpt(Map<String, String> o, String key, int dflt) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " needs an integer, got '" + v + "'");
        }
    }

    static double doubleOpt(Map<String, String> o, String key, double dflt) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " needs a number, got '" + v + "'");
        }
    }

    /** Comma-separated token ids ({@code 5,17,9}). */
    public static int[] ids(String key, String text) {
        String[] parts = text.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " needs comma-separated token ids, got '" + text + "'");
            }
        }
        return out;
    }
}
