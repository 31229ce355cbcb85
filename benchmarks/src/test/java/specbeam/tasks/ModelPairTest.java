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
