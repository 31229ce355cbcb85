package specbeam.tasks;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** A minimal model pair directory on disk: manifests (not loadable models) and task files. */
public final class TestPairs {
    private TestPairs() {
    }

    /** Writes {@code dir/target}, {@code dir/draft} and three study prompts plus two continuation items. */
    public static Path write(Path dir) throws IOException {
        for (String role : new String[] {"target", "draft"}) {
            Files.createDirectories(dir.resolve(role));
            Files.writeString(dir.resolve(role).resolve("manifest.json"),
                    "{\"format\": \"specbeam-onnx-v1\", \"check\": {\"tolerance\": 0.001}, "
                            + "\"files\": {\"model.onnx\": \"sha256:" + role + "\"}}");
        }
        Path tasks = Files.createDirectories(dir.resolve("target").resolve("tasks"));
        Files.writeString(tasks.resolve(ModelPair.PROMPTS_FILE), """
                {"id": "a", "text": "def f(", "rendered": "def f(", "prompt_ids": [10, 11]}
                {"id": "b", "text": "import", "rendered": "import", "prompt_ids": [20]}

                {"id": "c", "text": "class", "rendered": "class", "prompt_ids": [30, 31, 32]}
                """);
        Files.writeString(tasks.resolve(ModelPair.CONTINUATION_FILE), """
                {"id": "k1", "text": "x", "rendered": "x", "prompt_ids": [40], "reference": "t41 t42 t43 t44 t45 t46", "reference_ids": [41, 42]}
                {"id": "k2", "text": "y", "rendered": "y", "prompt_ids": [50, 51], "reference": "t52 t53 zzz", "reference_ids": [52]}
                """);
        return dir;
    }
}
