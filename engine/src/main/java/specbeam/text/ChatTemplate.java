package specbeam.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.graalvm.polyglot.PolyglotException;
import org.graalvm.polyglot.Value;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A model's chat template, rendered the way transformers' {@code apply_chat_template} renders it: the same variables
 * ({@code messages}, {@code add_generation_prompt}, {@code tools} and {@code documents} as none, the tokenizer's named
 * special tokens {@code bos_token}, {@code eos_token}, ...; plus options such as Qwen3's {@code enable_thinking}),
 * {@code raise_exception}, trim_blocks and lstrip_blocks ({@link JinjaRuntime}).
 *
 * <p>Where the template comes from, as transformers reads a model directory: {@code chat_template.jinja} when it
 * exists, else the {@code chat_template} of {@code tokenizer_config.json} (a string, or a list of named templates of
 * which {@code default} is used). The text the template produces is encoded by {@link TextTokenizer#encode}, which
 * matches special tokens in it as special tokens, as {@code apply_chat_template(..., tokenize=True)} does.
 */
public final class ChatTemplate {
    public static final String TEMPLATE_FILE = "chat_template.jinja";
    public static final String CONFIG_FILE = "tokenizer_config.json";
    /** transformers' {@code SPECIAL_TOKENS_ATTRIBUTES}: the named special tokens a template can read. */
    static final List<String> SPECIAL_TOKENS = List.of("bos_token", "eos_token", "unk_token", "sep_token", "pad_token",
            "cls_token", "mask_token");
    private static final ObjectMapper JSON = new ObjectMapper();

    private final String text;
    /** The file the template was read from, named in every error. */
    private final String source;
    /** Named special token to its text, the non-null ones only (as transformers passes them). */
    private final Map<String, String> specialTokens;
    /** The parsed template, made on first use (loading the JavaScript runtime costs about a second). */
    private Value compiled;

    private ChatTemplate(String text, String source, Map<String, String> specialTokens) {
        this.text = text;
        this.source = source;
        this.specialTokens = Map.copyOf(specialTokens);
    }

    /** A template given as text (tests, tools); {@code source} names it in errors. */
    public static ChatTemplate of(String text, String source, Map<String, String> specialTokens) {
        return new ChatTemplate(text, source, specialTokens);
    }

    /**
     * The template of a model directory, or empty when it has none.
     *
     * @throws ChatTemplateException when {@code tokenizer_config.json} or the template file cannot be read
     */
    public static Optional<ChatTemplate> load(Path dir) {
        Path configFile = dir.resolve(CONFIG_FILE);
        JsonNode config = JSON.createObjectNode();
        if (Files.isRegularFile(configFile)) {
            try {
                config = JSON.readTree(configFile.toFile());
            } catch (IOException e) {
                throw new ChatTemplateException(configFile + " is not valid JSON: " + firstLine(e.getMessage()));
            }
        }
        Map<String, String> specials = new LinkedHashMap<>();
        for (String name : SPECIAL_TOKENS) {
            String token = tokenText(config.get(name));
            if (token != null) {
                specials.put(name, token);
            }
        }
        Path templateFile = dir.resolve(TEMPLATE_FILE);
        if (Files.isRegularFile(templateFile)) {
            try {
                return Optional.of(new ChatTemplate(Files.readString(templateFile, StandardCharsets.UTF_8),
                        templateFile.toString(), specials));
            } catch (IOException e) {
                throw new ChatTemplateException("cannot read " + templateFile + ": " + e.getMessage());
            }
        }
        JsonNode template = config.get("chat_template");
        if (template == null || template.isNull()) {
            return Optional.empty();
        }
        if (template.isTextual()) {
            return Optional.of(new ChatTemplate(template.asText(), configFile + " (chat_template)", specials));
        }
        if (template.isArray()) {
            for (JsonNode named : template) {
                if ("default".equals(named.path("name").asText()) && named.path("template").isTextual()) {
                    return Optional.of(new ChatTemplate(named.get("template").asText(),
                            configFile + " (chat_template 'default')", specials));
                }
            }
            throw new ChatTemplateException(configFile + " lists chat templates but none named 'default'");
        }
        throw new ChatTemplateException(configFile + ": chat_template must be a string or a list of {name, template}, got "
                + template.getNodeType().name().toLowerCase());
    }

    /** A special token as tokenizer_config.json writes it: a string, or an AddedToken object with {@code content}. */
    private static String tokenText(JsonNode node) {
        if (node == null || node.isNull()) {
            return null;
        }
        if (node.isTextual()) {
            return node.asText();
        }
        return node.path("content").isTextual() ? node.get("content").asText() : null;
    }

    public String text() {
        return text;
    }

    public String source() {
        return source;
    }

    public Map<String, String> specialTokens() {
        return specialTokens;
    }

    /**
     * The rendered prompt text.
     *
     * @param options further template variables (JSON-representable: strings, numbers, booleans), e.g.
     *                {@code enable_thinking=false}; they cannot replace {@code messages} or {@code add_generation_prompt}
     * @throws ChatTemplateException when the template does not parse, raises, or fails while rendering
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt, Map<String, Object> options) {
        ObjectNode variables = JSON.createObjectNode();
        specialTokens.forEach(variables::put);
        options.forEach((key, value) -> {
            if (key.equals("messages") || key.equals("add_generation_prompt")) {
                throw new IllegalArgumentException("template option '" + key + "' is set by the renderer itself");
            }
            variables.set(key, JSON.valueToTree(value));
        });
        ArrayNode list = variables.putArray("messages");
        for (ChatMessage m : messages) {
            ObjectNode node = list.addObject().put("role", m.role()).put("content", m.content());
            if (m.reasoningContent() != null) {
                node.put("reasoning_content", m.reasoningContent());
            }
        }
        variables.put("add_generation_prompt", addGenerationPrompt);
        if (!variables.has("tools")) {
            variables.putNull("tools");
        }
        if (!variables.has("documents")) {
            variables.putNull("documents");
        }
        JinjaRuntime runtime = JinjaRuntime.get();
        try {
            synchronized (this) {
                if (compiled == null) {
                    compiled = runtime.compile(text);
                }
            }
        } catch (PolyglotException e) {
            throw new ChatTemplateException("the chat template of " + source + " does not parse: " + cause(e));
        }
        try {
            return runtime.render(compiled, variables.toString());
        } catch (PolyglotException e) {
            // raise_exception('...') and a template's own runtime errors (an unknown filter, a bad index) alike
            String message = cause(e).replaceFirst("^Error: ", "");
            throw new ChatTemplateException("the chat template of " + source + " stopped on these messages: " + message);
        }
    }

    private static String cause(PolyglotException e) {
        if (e.isHostException() || e.isInternalError()) {
            throw new IllegalStateException("the template runtime failed: " + e.getMessage(), e);
        }
        return firstLine(String.valueOf(e.getMessage()));
    }

    private static String firstLine(String s) {
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }
}
