package specbeam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import specbeam.Engine;
import specbeam.EngineOptions;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.SpeculationTrace;
import specbeam.model.ExecutionProvider;
import specbeam.model.ModelLoadException;
import specbeam.serve.SpecbeamServer;
import specbeam.text.ChatMessage;
import specbeam.text.ChatTemplate;
import specbeam.text.PromptRequest;
import specbeam.text.TextTokenizer;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.stream.Collectors;

/**
 * {@code java -cp benchmarks.jar specbeam.cli.SpecbeamCli generate --target DIR [--draft DIR] --mode MODE ...}:
 * runs one strategy and prints the text, the stats line and, for speculative modes, a ✓/✗ trace of what the
 * draft proposed and the target kept; {@code --json} prints one JSON object instead.
 * {@code serve --target DIR [--draft DIR] [--port 8080]} serves the same generation as an HTTP API and a demo page
 * ({@link SpecbeamServer}). {@code check-goldens --target DIR [--draft DIR]} compares the engine with the
 * Hugging Face goldens of a model ({@link CheckGoldens}).
 */
public final class SpecbeamCli {
    private static final String USAGE = """
            usage: java -cp benchmarks.jar specbeam.cli.SpecbeamCli generate --target DIR [--draft DIR]
                     --mode greedy|beam|sampling|speculative|speculative_beam|speculative_sampling
                     [--beam-width B] [--k K] [--tree-branching W] [--tree-budget N] [--adaptive]
                     [--max-new-tokens N] [--min-new-tokens N] [--length-penalty X]
                     [--early-stopping true|false|never] [--num-return-sequences R]
                     [--temperature T] [--top-k K] [--top-p P] [--seed S] [--eos-ids 2,7]
                     [--prompt "text" | --messages FILE.json | --prompt-ids 5,17,9 | --task FILE.jsonl]
                     [--chat | --raw] [--system TEXT] [--enable-thinking true|false] [--show-prompt]
                     [--provider cpu|cuda] [--threads N] [--json]
                   java -cp benchmarks.jar specbeam.cli.SpecbeamCli serve --target DIR [--draft DIR]
                     [--port 8080] [--host 127.0.0.1] [--max-new-tokens-cap 256] [--queue 4]
                     [--chat | --raw] [--system TEXT] [--enable-thinking true|false]   (defaults for requests)
                     [--provider cpu|cuda] [--threads N]
                   java -cp benchmarks.jar specbeam.cli.SpecbeamCli check-goldens --target DIR [--draft DIR]
                     [--goldens FILE] [--k K] [--provider cpu|cuda] [--threads N]
            """;

    private SpecbeamCli() {
    }

    public static void main(String[] args) {
        System.exit(run(args, System.out, System.err));
    }

    /** Runs the command; returns the exit status (0 ok, 2 user error, 1 internal failure). */
    public static int run(String[] args, PrintStream out, PrintStream err) {
        try {
            if (args.length == 0 || args[0].equals("--help") || args[0].equals("-h")) {
                out.print(USAGE);
                return args.length == 0 ? 2 : 0;
            }
            switch (args[0]) {
                case "generate" -> generate(parse(args, GENERATE_OPTIONS), out);
                case "serve" -> serve(parse(args, SERVE_OPTIONS), out);
                case "check-goldens" -> {
                    return CheckGoldens.run(parse(args, CheckGoldens.OPTIONS), out);
                }
                default -> throw new IllegalArgumentException("unknown command '" + args[0]
                        + "': the commands are 'generate', 'serve' and 'check-goldens'");
            }
            return 0;
        } catch (IllegalArgumentException | ModelLoadException e) {
            err.println("specbeam: error: " + e.getMessage());
            return 2;
        }
    }

    private static final List<String> FLAGS = List.of("--json", "--adaptive", "--chat", "--raw", "--show-prompt");

    static Map<String, String> parse(String[] args, List<String> known) {
        Map<String, String> opts = new HashMap<>();
        for (int i = 1; i < args.length; i++) {
            String a = args[i];
            if (!a.startsWith("--")) {
                throw new IllegalArgumentException("unexpected argument '" + a + "'\n" + USAGE);
            }
            if (FLAGS.contains(a)) {
                opts.put(a, "true");
            } else if (i + 1 < args.length) {
                opts.put(a, args[++i]);
            } else {
                throw new IllegalArgumentException("option " + a + " needs a value");
            }
        }
        for (String key : opts.keySet()) {
            if (!known.contains(key)) {
                throw new IllegalArgumentException("unknown option " + key + "\n" + USAGE);
            }
        }
        if (!opts.containsKey("--target")) {
            throw new IllegalArgumentException("--target DIR is required (e.g. models/pair/target)");
        }
        return opts;
    }

    private static final List<String> GENERATE_OPTIONS = List.of("--target", "--draft", "--mode", "--beam-width", "--k",
            "--tree-branching", "--tree-budget", "--adaptive", "--max-new-tokens", "--min-new-tokens",
            "--length-penalty", "--early-stopping", "--num-return-sequences", "--temperature", "--top-k", "--top-p",
            "--seed", "--eos-ids", "--prompt-ids", "--prompt", "--task", "--messages", "--chat", "--raw", "--system",
            "--enable-thinking", "--show-prompt", "--provider", "--threads", "--json");

    private static final List<String> SERVE_OPTIONS = List.of("--target", "--draft", "--port", "--host",
            "--max-new-tokens-cap", "--queue", "--provider", "--threads", "--chat", "--raw", "--system",
            "--enable-thinking");

    static EngineOptions engineOptions(Map<String, String> o) {
        return new EngineOptions(Path.of(o.get("--target")),
                o.containsKey("--draft") ? Path.of(o.get("--draft")) : null,
                ExecutionProvider.parse(o.getOrDefault("--provider", "cpu")),
                GenerateOptions.intOpt(o, "--threads", EngineOptions.defaultThreads()));
    }

    /** Serves until the process is stopped (Ctrl-C); the shutdown hook stops the server before closing the engine. */
    private static void serve(Map<String, String> o, PrintStream out) {
        SpecbeamServer.Settings settings = new SpecbeamServer.Settings(
                o.getOrDefault("--host", SpecbeamServer.Settings.DEFAULT_HOST),
                GenerateOptions.intOpt(o, "--port", SpecbeamServer.Settings.DEFAULT_PORT),
                GenerateOptions.intOpt(o, "--max-new-tokens-cap", SpecbeamServer.Settings.DEFAULT_MAX_NEW_TOKENS_CAP),
                GenerateOptions.intOpt(o, "--queue", SpecbeamServer.Settings.DEFAULT_QUEUE_CAPACITY));
        EngineOptions options = engineOptions(o);
        Engine engine = Engine.open(options);
        SpecbeamServer server;
        try {
            Map<String, String> chatDefaults = new HashMap<>();
            for (String key : GenerateOptions.CHAT_OPTIONS) {
                if (o.containsKey(key)) {
                    chatDefaults.put(key, o.get(key));
                }
            }
            server = SpecbeamServer.start(engine, settings, studyPrompts(options.target()), chatDefaults);
        } catch (RuntimeException e) {
            engine.close();
            throw e;
        }
        CountDownLatch stopped = new CountDownLatch(1);
        Runtime.getRuntime().addShutdownHook(new Thread(() -> {
            server.close();
            engine.close();
            stopped.countDown();
        }));
        out.println("specbeam: serving " + options.target() + (options.draft() != null ? " with draft " + options.draft() : "")
                + " on " + server.url() + " (Ctrl-C stops)");
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * The texts of {@code DIR/tasks/prompts.jsonl} (written by models/tasks.py), the page's example prompts: as written,
     * before any chat template (the page renders them with the model's template, like any prompt it sends).
     */
    private static List<String> studyPrompts(Path target) {
        Path file = target.resolve("tasks").resolve("prompts.jsonl");
        if (!Files.isRegularFile(file)) {
            return List.of();
        }
        try {
            ObjectMapper mapper = new ObjectMapper();
            List<String> texts = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank() && mapper.readTree(line).hasNonNull("text")) {
                    texts.add(mapper.readTree(line).get("text").asText());
                }
            }
            return texts;
        } catch (IOException | RuntimeException e) {
            return List.of();   // example prompts are a convenience: the page works without them
        }
    }

    private static void generate(Map<String, String> o, PrintStream out) {
        int sources = 0;
        for (String key : List.of("--prompt", "--messages", "--prompt-ids", "--task")) {
            sources += o.containsKey(key) ? 1 : 0;
        }
        if (sources != 1) {
            throw new IllegalArgumentException("give exactly one of --prompt \"text\", --messages FILE.json, "
                    + "--prompt-ids 5,17,9 or --task FILE.jsonl");
        }
        PromptRequest promptRequest = promptRequest(o);
        if (o.containsKey("--show-prompt")) {
            if (promptRequest == null) {
                throw new IllegalArgumentException("--show-prompt shows how --prompt or --messages is rendered; "
                        + "token ids are shown as they are");
            }
            showPrompt(Path.of(o.get("--target")), promptRequest, o.containsKey("--json"), out);
            return;
        }
        GenerationConfig config = GenerateOptions.config(o);
        GenerateOptions.requireDraftFor(config, o.containsKey("--draft"));
        try (Engine engine = Engine.open(engineOptions(o))) {
            List<int[]> prompts = promptRequest != null
                    ? List.of(GenerateOptions.requireNonEmpty(engine.renderPrompt(promptRequest).ids()))
                    : prompts(o);
            List<String> traceLines = new ArrayList<>();
            SpeculationTrace trace = config.mode().isSpeculative() && !o.containsKey("--json")
                    ? (prompt, proposed, accepted, emitted) -> traceLines.add(traceLine(engine, prompt, proposed, accepted, emitted))
                    : null;
            GenerationResult result = engine.generate(prompts, config, trace);
            if (o.containsKey("--json")) {
                out.println(GenerationJson.of(result, engine.tokenizer(), engine.providerUsed(), engine.kvCacheUsed()));
            } else {
                for (int i = 0; i < prompts.size(); i++) {
                    for (GeneratedSequence s : result.sequences().get(i)) {
                        out.println("[prompt " + i + ", score " + String.format("%.4f", s.score()) + ", " + s.finishReason().name().toLowerCase() + "]");
                        out.println(engine.tokenizer().decode(s.tokens()));
                        out.println();
                    }
                }
                if (!traceLines.isEmpty()) {
                    out.println("trace (draft proposal: ✓ kept by the target, ✗ rejected; → what the target emitted)");
                    traceLines.forEach(out::println);
                }
                out.println("stats: " + result.stats().summary());
            }
        }
    }

    private static String traceLine(Engine engine, int prompt, int[] proposed, int accepted, int[] emitted) {
        StringBuilder sb = new StringBuilder("  [" + prompt + "] ");
        for (int i = 0; i < proposed.length; i++) {
            sb.append(quote(engine.tokenizer().tokenText(proposed[i]))).append(i < accepted ? "✓ " : "✗ ");
        }
        sb.append("→");
        for (int t : emitted) {
            sb.append(' ').append(quote(engine.tokenizer().tokenText(t)));
        }
        return sb.toString();
    }

    private static String quote(String s) {
        return "'" + s.replace("\n", "\\n").replace("\t", "\\t") + "'";
    }

    /** The text prompt or conversation to render, or {@code null} for --prompt-ids and --task (already token ids). */
    private static PromptRequest promptRequest(Map<String, String> o) {
        if (o.containsKey("--prompt-ids") || o.containsKey("--task")) {
            GenerateOptions.refuseChatOptions(o, o.containsKey("--task") ? "--task" : "--prompt-ids");
            return null;
        }
        List<ChatMessage> messages = o.containsKey("--messages") ? ChatMessage.read(Path.of(o.get("--messages"))) : null;
        return GenerateOptions.promptRequest(o.get("--prompt"), messages, o);
    }

    /**
     * {@code --show-prompt}: the rendered text, then its token ids; nothing is generated and the models are not loaded
     * (only the tokenizer and the template).
     */
    private static void showPrompt(Path target, PromptRequest request, boolean json, PrintStream out) {
        PromptRequest.Rendered rendered = request.render(ChatTemplate.load(target), target.toString());
        int[] ids;
        try (TextTokenizer tokenizer = TextTokenizer.load(target)) {
            ids = tokenizer.encode(rendered.text());
        }
        if (json) {
            ObjectNode node = new ObjectMapper().createObjectNode();
            node.put("rendered", rendered.text());
            node.put("chat", rendered.chat());
            node.put("template", rendered.templateSource());
            ArrayNode array = node.putArray("ids");
            for (int id : ids) {
                array.add(id);
            }
            out.println(node);
            return;
        }
        out.println(rendered.chat()
                ? "rendered prompt (chat template of " + rendered.templateSource() + "), " + ids.length + " tokens:"
                : "raw prompt (no chat template), " + ids.length + " tokens:");
        out.println(rendered.text());
        out.println("token ids: " + Arrays.stream(ids).mapToObj(String::valueOf).collect(Collectors.joining(",")));
    }

    private static List<int[]> prompts(Map<String, String> o) {
        if (o.containsKey("--prompt-ids")) {
            return List.of(GenerateOptions.ids("--prompt-ids", o.get("--prompt-ids")));
        }
        Path file = Path.of(o.get("--task"));
        try {
            ObjectMapper mapper = new ObjectMapper();
            List<int[]> out = new ArrayList<>();
            for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
                if (!line.isBlank()) {
                    out.add(mapper.readTree(line).get("prompt_ids").traverse(mapper).readValueAs(int[].class));
                }
            }
            return out;
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException("cannot read task file " + file + " (JSONL with prompt_ids per line): " + e.getMessage());
        }
    }
}
