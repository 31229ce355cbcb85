package specbeam.tasks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A target/draft model pair as the benchmark uses it: {@code <dir>/target} and {@code <dir>/draft}, each a
 * specbeam model directory (models/FORMAT.md), and the target's task files under {@code <dir>/target/tasks}.
 */
public record ModelPair(Path dir) {
    public static final Path DEFAULT_DIR = Path.of("models", "pair");
    public static final String PROMPTS_FILE = "prompts.jsonl";
    public static final String CONTINUATION_FILE = "continuation.jsonl";
    /** FORMAT.md's {@code check.tolerance} when a manifest has none. */
    public static final double DEFAULT_NEAR_TIE_TOLERANCE = 1e-4;

    private static final ObjectMapper JSON = new ObjectMapper();

    public Path target() {
        return dir.resolve("target");
    }

    public Path draft() {
        return dir.resolve("draft");
    }

    /** {@code <dir>/target/tasks} (FORMAT.md: tasks belong to a model directory), else {@code <dir>/tasks}. */
    public Path tasksDir() {
        Path own = target().resolve("tasks");
        Path shared = dir.resolve("tasks");
        return Files.isDirectory(own) || !Files.isDirectory(shared) ? own : shared;
    }

    /**
     * Checks that the files the suite needs exist, before anything is measured.
     *
     * @param needsDraft whether a speculative mode is in the grid
     * @throws TaskFileException naming the missing file and how to produce it
     */
    public ModelPair check(boolean needsDraft) {
        if (!Files.isDirectory(dir)) {
            throw new TaskFileException("model pair directory " + dir + " does not exist: pass --models <dir> "
                    + "with target/ and draft/ inside (the bundled pair is models/pair)");
        }
        requireManifest(target(), "target");
        if (needsDraft) {
            requireManifest(draft(), "draft");
        }
        for (String file : List.of(PROMPTS_FILE, CONTINUATION_FILE)) {
            if (!Files.isRegularFile(tasksDir().resolve(file))) {
                throw new TaskFileException(tasksDir().resolve(file) + " is missing: write the tasks with "
                        + "'python models/tasks.py --model-dir " + target() + "'");
            }
        }
        return this;
    }

    private static void requireManifest(Path modelDir, String role) {
        if (!Files.isRegularFile(modelDir.resolve("manifest.json"))) {
            throw new TaskFileException("the " + role + " model " + modelDir + " has no manifest.json: "
                    + "the model pair directory must hold target/ and draft/ written by models/export.py");
        }
    }

    public List<TaskItem> prompts() {
        return readTasks(tasksDir().resolve(PROMPTS_FILE));
    }

    public List<TaskItem> continuation() {
        return readTasks(tasksDir().resolve(CONTINUATION_FILE));
    }

    /** The tolerance below which a decision gap counts as a floating-point near-tie (target manifest's check.tolerance). */
    public double nearTieTolerance() {
        try {
            JsonNode tolerance = JSON.readTree(target().resolve("manifest.json").toFile()).path("check").path("tolerance");
            return tolerance.isNumber() ? tolerance.asDouble() : DEFAULT_NEAR_TIE_TOLERANCE;
        } catch (IOException e) {
            return DEFAULT_NEAR_TIE_TOLERANCE;
        }
    }

    /** Reads a JSON-lines task file; blank lines are skipped. */
    public static List<TaskItem> readTasks(Path file) {
        List<TaskItem> items = new ArrayList<>();
        try (BufferedReader in = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
            String line;
            int number = 0;
            while ((line = in.readLine()) != null) {
                number++;
                if (line.isBlank()) {
                    continue;
                }
                TaskItem item;
                try {
                    item = JSON.readValue(line, TaskItem.class);
                } catch (JsonProcessingException e) {
                    throw new TaskFileException(file + ":" + number + " is not a task line (" + e.getOriginalMessage()
                            + "); see models/FORMAT.md, \"Tasks\"");
                }
                if (item.promptIds() == null || item.promptIds().length == 0) {
                    throw new TaskFileException(file + ":" + number + " has no prompt_ids; see models/FORMAT.md, \"Tasks\"");
                }
                items.add(item);
            }
        } catch (IOException e) {
            throw new TaskFileException("cannot read " + file + ": " + e.getMessage());
        }
        if (items.isEmpty()) {
            throw new TaskFileException(file + " holds no tasks");
        }
        return items;
    }
}
