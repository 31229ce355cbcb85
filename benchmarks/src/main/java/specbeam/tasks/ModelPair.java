package specbeam.tasks;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import specbeam.text.ChatMessage;
import specbeam.text.ChatTemplate;
import specbeam.text.TextTokenizer;

import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;

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

    /**
     * The study prompts. For a target with a chat template they are rendered here, by the engine's renderer (the
     * path {@code generate --chat} and {@code serve} take), from each line's {@code messages}; the line's
     * {@code rendered} and {@code prompt_ids} (models/tasks.py, through transformers) must come out the same, or the
     * suite stops naming the item rather than measure a prompt one side renders differently.
     */
    public List<TaskItem> prompts() {
        Path file = tasksDir().resolve(PROMPTS_FILE);
        List<TaskItem> items = readTasks(file);
        Optional<ChatTemplate> template = ChatTemplate.load(target());
        return template.isEmpty() ? items : renderedInJava(file, items, template.get());
    }

    private List<TaskItem> renderedInJava(Path file, List<TaskItem> items, ChatTemplate template) {
        List<JsonNode> lines = new ArrayList<>();
        try {
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    lines.add(JSON.readTree(line));
                }
            }
        } catch (IOException e) {
            throw new TaskFileException("cannot read " + file + ": " + e.getMessage());
        }
        List<TaskItem> out = new ArrayList<>();
        try (TextTokenizer tokenizer = TextTokenizer.load(target())) {
            for (int i = 0; i < items.size(); i++) {
                TaskItem item = items.get(i);
                JsonNode messages = lines.get(i).get("messages");
                if (messages == null) {
                    throw new TaskFileException(file + ": item '" + item.id() + "' has no messages, which a chat model's "
                            + "study prompts are rendered from: re-run 'python models/tasks.py --model-dir " + target() + "'");
                }
                String text = template.render(ChatMessage.parse(messages), true, Map.of());
                int[] ids = tokenizer.encode(text);
                if (!text.equals(item.rendered()) || !Arrays.equals(ids, item.promptIds())) {
                    throw new TaskFileException(file + ": item '" + item.id() + "' renders differently in Java ("
                            + ids.length + " tokens) than in transformers (" + item.promptIds().length + " tokens, "
                            + "models/tasks.py): the chat template of " + template.source() + " is not rendered alike");
                }
                out.add(new TaskItem(item.id(), item.text(), text, ids, item.reference(), item.referenceIds()));
            }
        }
        return out;
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
