package specbeam.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Set;

/**
 * One message of a conversation, as transformers' chat templates read it.
 *
 * @param role             {@code system}, {@code user}, {@code assistant} or {@code tool}
 * @param content          the text (may be empty)
 * @param reasoningContent an assistant's reasoning (Qwen3's {@code reasoning_content}), or {@code null}
 */
public record ChatMessage(String role, String content, String reasoningContent) {
    public static final Set<String> ROLES = Set.of("system", "user", "assistant", "tool");
    private static final Set<String> FIELDS = Set.of("role", "content", "reasoning_content");
    private static final ObjectMapper JSON = new ObjectMapper();

    public ChatMessage {
        if (!ROLES.contains(role)) {
            throw new ChatTemplateException("a message has role '" + role + "': roles are system, user, assistant and tool");
        }
        if (content == null) {
            throw new ChatTemplateException("a message with role '" + role + "' has no content");
        }
    }

    public static ChatMessage of(String role, String content) {
        return new ChatMessage(role, content, null);
    }

    /** {@code [system,] user}: one user message, after the system prompt when there is one. */
    public static List<ChatMessage> prompt(String system, String user) {
        List<ChatMessage> out = new ArrayList<>();
        if (system != null) {
            out.add(of("system", system));
        }
        out.add(of("user", user));
        return out;
    }

    /** A conversation from {@code FILE.json}: an array of {@code {"role": ..., "content": ...}}, or {"messages": [...]}. */
    public static List<ChatMessage> read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(file.toFile());
        } catch (IOException e) {
            String why = e.getMessage() == null ? e.toString() : e.getMessage().split("\n")[0];
            throw new ChatTemplateException("cannot read messages file " + file + ": " + why);
        }
        try {
            return parse(root);
        } catch (ChatTemplateException e) {
            throw new ChatTemplateException(file + ": " + e.getMessage());
        }
    }

    /** The messages of a JSON array (or of an object's {@code messages} array); errors name the message by number. */
    public static List<ChatMessage> parse(JsonNode root) {
        JsonNode list = root != null && root.isObject() && root.has("messages") ? root.get("messages") : root;
        if (list == null || !list.isArray()) {
            throw new ChatTemplateException("expected a JSON array of messages {\"role\": ..., \"content\": ...}"
                    + " (or an object with a \"messages\" array)");
        }
        if (list.isEmpty()) {
            throw new ChatTemplateException("the conversation has no messages");
        }
        List<ChatMessage> out = new ArrayList<>();
        for (int i = 0; i < list.size(); i++) {
            JsonNode m = list.get(i);
            String where = "message " + (i + 1) + " of " + list.size();
            if (!m.isObject()) {
                throw new ChatTemplateException(where + " is not an object {\"role\": ..., \"content\": ...}");
            }
            for (Iterator<String> names = m.fieldNames(); names.hasNext(); ) {
                String name = names.next();
                if (!FIELDS.contains(name)) {
                    throw new ChatTemplateException(where + " has field '" + name
                            + "': the fields are role, content and reasoning_content (tools are not supported)");
                }
            }
            if (!m.path("role").isTextual()) {
                throw new ChatTemplateException(where + " has no \"role\" string");
            }
            if (!m.path("content").isTextual()) {
                throw new ChatTemplateException(where + " needs \"content\" as a string");
            }
            JsonNode reasoning = m.get("reasoning_content");
            if (reasoning != null && !reasoning.isTextual() && !reasoning.isNull()) {
                throw new ChatTemplateException(where + ": reasoning_content must be a string");
            }
            try {
                out.add(new ChatMessage(m.get("role").asText(), m.get("content").asText(),
                        reasoning == null || reasoning.isNull() ? null : reasoning.asText()));
            } catch (ChatTemplateException e) {
                throw new ChatTemplateException(where + ": " + e.getMessage());
            }
        }
        return out;
    }
}
