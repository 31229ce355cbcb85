package specbeam.tasks;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ModelPairTest {
    @TempDir
    Path dir;

    @Test
    void readsTasksSkippingBlankLines() throws IOException {
        ModelPair pair = new ModelPair(TestPairs.write(dir)).check(true);
        assertThat(pair.prompts()).extracting(TaskItem::id).containsExactly("a", "b", "c");
        assertThat(pair.prompts().get(0).promptIds()).containsExactly(10, 11);
        assertThat(pair.continuation()).allMatch(TaskItem::hasReference);
        assertThat(pair.nearTieTolerance()).isEqualTo(0.001);
    }

    /** The tiny Qwen2 has a chat template: its study prompts come from the Java renderer, equal to tasks.py's. */
    @Test
    void aChatModelsPromptsAreRenderedInJavaAndMustMatchTransformers() throws IOException {
        Path qwen = Path.of(System.getProperty("specbeam.root", "..")).resolve("models/tiny/qwen2");
        Path target = Files.createDirectories(dir.resolve("target"));
        for (String file : new String[] {"manifest.json", "tokenizer.json", "tokenizer_config.json"}) {
            Files.copy(qwen.resolve(file), target.resolve(file));
        }
        Path tasks = Files.createDirectories(target.resolve("tasks"));
        Path prompts = tasks.resolve(ModelPair.PROMPTS_FILE);
        Files.copy(qwen.resolve("tasks").resolve(ModelPair.PROMPTS_FILE), prompts);
        ModelPair pair = new ModelPair(dir);
        java.util.List<TaskItem> fromFile = ModelPair.readTasks(prompts);
        java.util.List<TaskItem> rendered = pair.prompts();
        assertThat(rendered).hasSize(5);
        for (int i = 0; i < rendered.size(); i++) {
            assertThat(rendered.get(i).rendered()).startsWith("<|im_start|>user\n").isEqualTo(fromFile.get(i).rendered());
            assertThat(rendered.get(i).promptIds()).containsExactly(fromFile.get(i).promptIds());
        }
        String text = Files.readString(prompts);
        Files.writeString(prompts, text.replaceFirst("\"content\": \"def fibonacci\\(n\\):\"", "\"content\": \"def fib(n):\""));
        assertThatThrownBy(pair::prompts).isInstanceOf(TaskFileException.class)
                .hasMessageContaining("item 'fibonacci' renders differently in Java");
        Files.writeString(prompts, text.replaceAll(", \"messages\": \\[[^\\]]*\\]", ""));
        assertThatThrownBy(pair::prompts).isInstanceOf(TaskFileException.class)
                .hasMessageContaining("has no messages").hasMessageContaining("models/tasks.py");
    }

    @Test
    void missingPiecesAreNamedWithTheCommandThatMakesThem() throws IOException {
        assertThatThrownBy(() -> new ModelPair(dir.resolve("nope")).check(false))
                .isInstanceOf(TaskFileException.class).hasMessageContaining("does not exist").hasMessageContaining("--models");
        TestPairs.write(dir);
        Files.delete(dir.resolve("draft/manifest.json"));
        new ModelPair(dir).check(false);
        assertThatThrownBy(() -> new ModelPair(dir).check(true)).hasMessageContaining("draft");
        Files.delete(dir.resolve("target/tasks/continuation.jsonl"));
        assertThatThrownBy(() -> new ModelPair(dir).check(false)).hasMessageContaining("models/tasks.py");
    }

    @Test
    void aBrokenTaskLineIsReportedWithItsLineNumber() throws IOException {
        TestPairs.write(dir);
        Path file = dir.resolve("target/tasks/prompts.jsonl");
        Files.writeString(file, "{\"id\": \"a\", \"prompt_ids\": [1]}\n{not json\n");
        assertThatThrownBy(() -> ModelPair.readTasks(file)).isInstanceOf(TaskFileException.class)
                .hasMessageContaining("prompts.jsonl:2");
    }
}
