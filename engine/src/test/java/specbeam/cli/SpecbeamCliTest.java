package specbeam.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import specbeam.TestModels;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;

class SpecbeamCliTest {
    private record Run(int code, String out, String err) {
    }

    private static Run run(String... args) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = SpecbeamCli.run(args, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8));
        return new Run(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    private static final String LLAMA = TestModels.tiny("llama").toString();

    @Test
    void jsonOutputHasSequencesWithThePromptAndStats() throws Exception {
        Run r = run("generate", "--target", LLAMA, "--draft", LLAMA, "--mode", "speculative_beam", "--beam-width", "3",
                "--k", "3", "--max-new-tokens", "8", "--num-return-sequences", "2", "--prompt-ids", "5,17,9", "--json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode json = new ObjectMapper().readTree(r.out());
        assertThat(json.get("sequences")).hasSize(2);
        assertThat(json.get("sequences").get(0).get(0).asInt()).isEqualTo(5);
        assertThat(json.get("sequences").get(0).size()).isBetween(4, 11);
        assertThat(json.get("stats").get("target_forwards").asLong()).isPositive();
        assertThat(json.get("stats").get("provider").asText()).isEqualTo("cpu");
    }

    @Test
    void textOutputShowsTheTraceForSpeculativeModes() {
        Run r = run("generate", "--target", LLAMA, "--draft", LLAMA, "--mode", "speculative", "--k", "3",
                "--max-new-tokens", "8", "--prompt", "def fibonacci(n):");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).contains("trace").contains("✓").contains("stats: tokens=8");
    }

    private static final String QWEN = TestModels.tiny("qwen2").toString();

    @Test
    void showPromptPrintsTheRenderedChatAndItsIdsWithoutGenerating() throws Exception {
        Run r = run("generate", "--target", QWEN, "--prompt", "Hi", "--system", "Be brief.", "--show-prompt");
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).startsWith("rendered prompt (chat template of ")
                .contains("<|im_start|>system\nBe brief.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n")
                .contains("token ids: ").doesNotContain("stats:");
        Run json = run("generate", "--target", QWEN, "--prompt", "Hi", "--raw", "--show-prompt", "--json");
        JsonNode node = new ObjectMapper().readTree(json.out());
        assertThat(node.get("rendered").asText()).isEqualTo("Hi");
        assertThat(node.get("chat").asBoolean()).isFalse();
        Run chat = run("generate", "--target", QWEN, "--mode", "greedy", "--max-new-tokens", "4", "--prompt", "Hi", "--json");
        Run raw = run("generate", "--target", QWEN, "--mode", "greedy", "--max-new-tokens", "4", "--prompt", "Hi", "--raw", "--json");
        assertThat(chat.code()).as(chat.err()).isZero();
        int chatPrompt = new ObjectMapper().readTree(chat.out()).get("sequences").get(0).size();
        int rawPrompt = new ObjectMapper().readTree(raw.out()).get("sequences").get(0).size();
        assertThat(chatPrompt).as("the template adds its turn markers to the prompt").isGreaterThan(rawPrompt);
    }

    @Test
    void userMistakesExitWithTwoAndOneLineWithoutStackTrace() {
        String[][] cases = {
                {"generate", "--target", LLAMA, "--mode", "beam", "--beam-width", "0", "--prompt-ids", "5"},
                {"generate", "--target", LLAMA, "--mode", "speculative", "--prompt-ids", "5"},
                {"generate", "--target", "/nonexistent/model", "--mode", "greedy", "--prompt-ids", "5"},
                {"generate", "--target", LLAMA, "--mode", "greedy", "--prompt", ""},
                {"generate", "--target", LLAMA, "--mode", "greedy", "--prompt-ids", "5", "--provider", "tpu"},
                {"generate", "--target", LLAMA, "--mode", "speculative", "--draft", LLAMA, "--k", "0", "--prompt-ids", "5"},
                {"generate", "--target", LLAMA, "--mode", "greedy", "--max-new-tokens", "0", "--prompt-ids", "5"},
                {"generate", "--target", LLAMA, "--mode", "nonsense", "--prompt-ids", "5"},
                {"generate", "--target", LLAMA, "--mode", "greedy", "--prompt-ids", "5,x"},
                {"generate", "--target", LLAMA, "--mode", "greedy", "--prompt-ids", "5", "--bogus", "1"},
                {"generate", "--target", LLAMA, "--mode", "greedy", "--prompt", "hi", "--chat"},
                {"generate", "--target", LLAMA, "--mode", "greedy", "--prompt", "hi", "--system", "s"},
                {"generate", "--target", QWEN, "--mode", "greedy", "--prompt", "hi", "--chat", "--raw"},
                {"generate", "--target", QWEN, "--mode", "greedy", "--prompt-ids", "5", "--system", "s"},
                {"generate", "--target", QWEN, "--mode", "greedy", "--messages", "/nonexistent/m.json"},
                {"generate", "--target", QWEN, "--prompt-ids", "5", "--show-prompt"},
                {"generate", "--target", QWEN, "--prompt", "hi", "--enable-thinking", "maybe", "--show-prompt"},
        };
        for (String[] args : cases) {
            Run r = run(args);
            assertThat(r.code()).as(String.join(" ", args)).isEqualTo(2);
            assertThat(r.err()).startsWith("specbeam: error: ").doesNotContain("Exception").doesNotContain("\tat ");
        }
    }

    @Test
    void checkGoldensPassesOnTheCommittedGoldensAndFailsOnATamperedOne(@org.junit.jupiter.api.io.TempDir java.nio.file.Path tmp)
            throws Exception {
        Run ok = run("check-goldens", "--target", LLAMA, "--draft", LLAMA);
        assertThat(ok.code()).as(ok.err()).isZero();
        assertThat(ok.out()).containsPattern("(?m)^goldens: \\d+ passed, 0 failed$").contains("[speculative adaptive k=3,");

        ObjectMapper json = new ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode goldens =
                (com.fasterxml.jackson.databind.node.ObjectNode) json.readTree(TestModels.tiny("llama").resolve("goldens.json").toFile());
        com.fasterxml.jackson.databind.node.ObjectNode first = (com.fasterxml.jackson.databind.node.ObjectNode) goldens.get("cases").get(0);
        com.fasterxml.jackson.databind.node.ArrayNode seq = (com.fasterxml.jackson.databind.node.ArrayNode) first.get("sequences").get(0);
        int last = seq.size() - 1;
        seq.set(last, seq.get(last).asInt() == 7 ? 8 : 7);   // HF "said" another last token
        java.nio.file.Path tampered = tmp.resolve("goldens.json");
        json.writeValue(tampered.toFile(), goldens);
        Run bad = run("check-goldens", "--target", LLAMA, "--goldens", tampered.toString());
        assertThat(bad.code()).isEqualTo(1);
        assertThat(bad.out()).contains("different " + first.get("id").asText()).contains("goldens: ").contains(" passed, 1 failed");

        Run missing = run("check-goldens", "--target", LLAMA, "--goldens", tmp.resolve("none.json").toString());
        assertThat(missing.code()).isEqualTo(2);
        assertThat(missing.err()).startsWith("specbeam: error: cannot read goldens");
    }
}
