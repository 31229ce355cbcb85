package specbeam.text;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import specbeam.TestModels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading, rendering and refusing: the template sources, the variables transformers passes, and bad input. */
class ChatTemplateTest {

    @Test
    void rendersTheTinyQwenChatml() {
        ChatTemplate t = ChatTemplate.load(TestModels.tiny("qwen2")).orElseThrow();
        String text = t.render(ChatMessage.prompt("Be brief.", "Hi"), true, Map.of());
        assertThat(text).isEqualTo("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
                + "<|im_start|>assistant\n");
        assertThat(t.render(List.of(ChatMessage.of("user", "Hi")), false, Map.of()))
                .isEqualTo("<|im_start|>user\nHi<|im_end|>\n");
    }

    @Test
    void aModelWithoutTemplateHasNone() {
        assertThat(ChatTemplate.load(TestModels.tiny("llama"))).isEmpty();
    }

    @Test
    void theJinjaFileWinsOverTheConfigAndSpecialTokensArePassed(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"bos_token": {"content": "<s>", "lstrip": false}, "eos_token": "</s>", "pad_token": null,
                 "chat_template": "config"}""");
        Files.writeString(dir.resolve("chat_template.jinja"),
                "{{ bos_token }}{% for m in messages %}[{{ m.role }}:{{ m.content | trim }}]{% endfor %}{{ eos_token }}"
                        + "{{ pad_token is defined }}{{ tools is none }}");
        ChatTemplate t = ChatTemplate.load(dir).orElseThrow();
        assertThat(t.source()).endsWith("chat_template.jinja");
        assertThat(t.render(List.of(ChatMessage.of("user", " x ")), true, Map.of())).isEqualTo("<s>[user:x]</s>falsetrue");
    }

    @Test
    void namedTemplatesUseDefault(@TempDir Path dir) throws IOException {
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "D"}]}""");
        assertThat(ChatTemplate.load(dir).orElseThrow().render(List.of(ChatMessage.of("user", "x")), true, Map.of()))
                .isEqualTo("D");
        Files.writeString(dir.resolve("tokenizer_config.json"), """
                {"chat_template": [{"name": "tool_use", "template": "T"}]}""");
        assertThatThrownBy(() -> ChatTemplate.load(dir)).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("none named 'default'");
    }

    @Test
    void aMalformedTemplateIsOneClearError() {
        ChatTemplate t = ChatTemplate.of("{% for m in messages %}{{ m.content }", "bad.jinja", Map.of());
        assertThatThrownBy(() -> t.render(List.of(ChatMessage.of("user", "x")), true, Map.of()))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessageStartingWith("the chat template of bad.jinja does not parse: ");
    }

    @Test
    void raiseExceptionBecomesTheTemplatesOwnMessage() {
        ChatTemplate t = ChatTemplate.of("{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}"
                + "{% endif %}ok", "gemma.jinja", Map.of());
        assertThat(t.render(List.of(ChatMessage.of("user", "x")), true, Map.of())).isEqualTo("ok");
        assertThatThrownBy(() -> t.render(ChatMessage.prompt("s", "x"), true, Map.of()))
                .isInstanceOf(ChatTemplateException.class)
                .hasMessage("the chat template of gemma.jinja stopped on these messages: System role not supported");
    }

    @Test
    void badMessagesAreRefusedWithTheirNumber(@TempDir Path dir) throws IOException {
        Path file = dir.resolve("m.json");
        Files.writeString(file, "[{\"role\": \"user\", \"content\": \"a\"}, {\"role\": \"bot\", \"content\": \"b\"}]");
        assertThatThrownBy(() -> ChatMessage.read(file)).isInstanceOf(ChatTemplateException.class)
                .hasMessageContaining("m.json: message 2 of 2").hasMessageContaining("role 'bot'");
        Files.writeString(file, "{\"messages\": [{\"role\": \"user\", \"content\": 3}]}");
        assertThatThrownBy(() -> ChatMessage.read(file)).hasMessageContaining("message 1 of 1 needs \"content\" as a string");
        Files.writeString(file, "[{\"role\": \"user\", \"content\": \"a\", \"tool_calls\": []}]");
        assertThatThrownBy(() -> ChatMessage.read(file)).hasMessageContaining("has field 'tool_calls'");
        Files.writeString(file, "[]");
        assertThatThrownBy(() -> ChatMessage.read(file)).hasMessageContaining("no messages");
        Files.writeString(file, "{not json");
        assertThatThrownBy(() -> ChatMessage.read(file)).isInstanceOf(ChatTemplateException.class)
                .hasMessageStartingWith("cannot read messages file " + file);
        assertThatThrownBy(() -> ChatMessage.read(dir.resolve("absent.json"))).isInstanceOf(ChatTemplateException.class);
    }

    @Test
    void promptRequestsRefuseWhatCannotBeRendered() {
        Optional<ChatTemplate> none = Optional.empty();
        Optional<ChatTemplate> chatml = ChatTemplate.load(TestModels.tiny("qwen2"));
        assertThat(new PromptRequest("hi", null, null, null, Map.of()).render(none, "m").text()).isEqualTo("hi");
        assertThat(new PromptRequest("hi", null, null, null, Map.of()).render(chatml, "m").chat()).isTrue();
        assertThat(new PromptRequest("hi", null, null, false, Map.of()).render(chatml, "m").text()).isEqualTo("hi");
        assertThatThrownBy(() -> new PromptRequest("hi", null, null, true, Map.of()).render(none, "models/x"))
                .isInstanceOf(ChatTemplateException.class).hasMessageStartingWith("models/x has no chat template");
        assertThatThrownBy(() -> new PromptRequest("hi", null, "sys", null, Map.of()).render(none, "m"))
                .hasMessageContaining("--system needs the chat template");
        assertThatThrownBy(() -> new PromptRequest("hi", null, null, false, Map.of("enable_thinking", false)).render(chatml, "m"))
                .hasMessageContaining("enable_thinking is a chat template option, but --raw turns the chat template off");
        assertThatThrownBy(() -> new PromptRequest(null, ChatMessage.prompt("a", "b"), "sys", null, Map.of()).render(chatml, "m"))
                .hasMessageContaining("already starts with a system message");
    }
}
