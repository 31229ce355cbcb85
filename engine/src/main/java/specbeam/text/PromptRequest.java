package specbeam.text;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * What a user asked to be the prompt, before rendering: a text or a conversation, an optional system prompt, and
 * whether to use the model's chat template. Shared by {@code generate} and {@code serve}, so both render the same
 * prompt and refuse the same mistakes with the same messages.
 *
 * @param text     a prompt text (one user message when the template is used), or {@code null}
 * @param messages a conversation ({@code --messages FILE.json}), or {@code null}; exactly one of the two is given
 * @param system   a system prompt put before the conversation, or {@code null}
 * @param chat     {@code TRUE} to require the template ({@code --chat}), {@code FALSE} for the raw text
 *                 ({@code --raw}), {@code null} to use the template when the model has one
 * @param options  further template variables ({@code enable_thinking}); only with the template
 */
public record PromptRequest(String text, List<ChatMessage> messages, String system, Boolean chat,
                            Map<String, Object> options) {

    public PromptRequest {
        if ((text == null) == (messages == null)) {
            throw new IllegalArgumentException("give exactly one of a prompt text or a conversation (messages)");
        }
        messages = messages == null ? null : List.copyOf(messages);
        options = Map.copyOf(options);
    }

    /** The prompt after the template, or the text itself when the template is not used. */
    public record Rendered(String text, boolean chat, String templateSource) {
    }

    /**
     * Renders with {@code template} (the model's, if it has one); {@code model} names the model in errors.
     *
     * @throws ChatTemplateException for a template asked for but missing, chat-only options without the template,
     *                               or a template that refuses or fails
     */
    public Rendered render(Optional<ChatTemplate> template, String model) {
        boolean useTemplate = chat == null ? template.isPresent() : chat;
        if (useTemplate && template.isEmpty()) {
            throw new ChatTemplateException(model + " has no chat template (neither " + ChatTemplate.TEMPLATE_FILE
                    + " nor a chat_template in " + ChatTemplate.CONFIG_FILE + "): drop --chat, or give the text raw");
        }
        if (!useTemplate) {
            String why = chat == null ? model + " has no chat template" : "--raw turns the chat template off";
            if (messages != null) {
                throw new ChatTemplateException("a conversation (--messages) needs the chat template, but " + why);
            }
            if (system != null) {
                throw new ChatTemplateException("--system needs the chat template, but " + why);
            }
            if (!options.isEmpty()) {
                throw new ChatTemplateException(String.join(", ", options.keySet())
                        + " is a chat template option, but " + why);
            }
            return new Rendered(text, false, null);
        }
        List<ChatMessage> conversation = new ArrayList<>();
        if (system != null) {
            if (messages != null && messages.get(0).role().equals("system")) {
                throw new ChatTemplateException("the conversation already starts with a system message: drop --system");
            }
            conversation.add(ChatMessage.of("system", system));
        }
        conversation.addAll(messages != null ? messages : List.of(ChatMessage.of("user", text)));
        ChatTemplate t = template.get();
        return new Rendered(t.render(conversation, true, options), true, t.source());
    }
}
