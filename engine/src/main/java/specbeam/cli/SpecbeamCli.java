package specbeam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import specbeam.Engine;
import specbeam.EngineOptions;
import specbeam.decode.DecodeStats;
import specbeam.decode.EarlyStopping;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.Mode;
import specbeam.decode.SpeculationTrace;
import specbeam.model.ExecutionProvider;
import specbeam.model.ModelLoadException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code java -cp benchmarks.jar specbeam.cli.SpecbeamCli generate --target DIR [--draft DIR] --mode MODE ...}:
 * runs one strategy and prints the text, the stats line and, for speculative modes, a ✓/✗ trace of what the
 * draft proposed and the target kept; {@code --json} prints one JSON object instead.
 */
public final class SpecbeamCli {
    private static final String USAGE = """
            usage: java -cp benchmarks.jar specbeam.cli.SpecbeamCli generate --target DIR [--draft DIR]
                     --mode greedy|beam|sampling|speculative|speculative_beam|speculative_sampling
                     [--beam-width B] [--k K] [--tree-branching W] [--tree-budget N] [--adaptive]
                     [--max-new-tokens N] [--min-new-tokens N] [--length-penalty X]
                     [--early-stopping true|false|never] [--num-return-sequences R]
                     [--temperature T] [--top-k K] [--top-p P] [--seed S] [--eos-ids 2,7]
                     [--prompt-ids 5,17,9 | --prompt "text" | --task FILE.jsonl]
                     [--provider cpu|cuda] [--threads N] [--json]
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
            if (!args[0].equals("generate")) {
                throw new IllegalArgumentException("unknown command '" + args[0] + "': the command is 'generate'");
            }
            Map<String, String> opts = parse(args);
            generate(opts, out);
            return 0;
        } catch (IllegalArgumentException | ModelLoadException e) {
            err.println("specbeam: error: " + e.getMessage());
            return 2;
        }
    }

    private static final List<String> FLAGS = List.of("--json", "--adaptive");

    private static Map<String, String> parse(String[] args) {
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
            if (!KNOWN.contains(key)) {
                throw new IllegalArgumentException("unknown option " + key + "\n" + USAGE);
            }
        }
        if (!opts.containsKey("--target")) {
            throw new IllegalArgumentException("--target DIR is required (e.g. models/pair/target)");
        }
        if (!opts.containsKey("--mode")) {
            throw new IllegalArgumentException("--mode is required: greedy, beam, sampling, speculative, speculative_beam or speculative_sampling");
        }
        return opts;
    }

    private static final List<String> KNOWN = List.of("--target", "--draft", "--mode", "--beam-width", "--k",
            "--tree-branching", "--tree-budget", "--adaptive", "--max-new-tokens", "--min-new-tokens",
            "--length-penalty", "--early-stopping", "--num-return-sequences", "--temperature", "--top-k", "--top-p",
            "--seed", "--eos-ids", "--prompt-ids", "--prompt", "--task", "--provider", "--threads", "--json");

    private static int intOpt(Map<String, String> o, String key, int dflt) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Integer.parseInt(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " needs an integer, got '" + v + "'");
        }
    }

    private static double doubleOpt(Map<String, String> o, String key, double dflt) {
        String v = o.get(key);
        if (v == null) {
            return dflt;
        }
        try {
            return Double.parseDouble(v.trim());
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(key + " needs a number, got '" + v + "'");
        }
    }

    private static int[] ids(String key, String text) {
        String[] parts = text.split(",");
        int[] out = new int[parts.length];
        for (int i = 0; i < parts.length; i++) {
            try {
                out[i] = Integer.parseInt(parts[i].trim());
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(key + " needs comma-separated token ids, got '" + text + "'");
            }
        }
        return out;
    }

    private static GenerationConfig config(Map<String, String> o) {
        Mode mode = Mode.parse(o.get("--mode"));
        GenerationConfig.Builder b = GenerationConfig.builder(mode)
                .maxNewTokens(intOpt(o, "--max-new-tokens", GenerationConfig.DEFAULT_MAX_NEW_TOKENS))
                .minNewTokens(intOpt(o, "--min-new-tokens", 0))
                .beamWidth(intOpt(o, "--beam-width", mode.isBeam() ? GenerationConfig.DEFAULT_BEAM_WIDTH : 1))
                .numReturnSequences(intOpt(o, "--num-return-sequences", 1))
                .lengthPenalty(doubleOpt(o, "--length-penalty", 1.0))
                .earlyStopping(EarlyStopping.parse(o.getOrDefault("--early-stopping", "false")))
                .temperature(doubleOpt(o, "--temperature", 1.0))
                .topK(intOpt(o, "--top-k", 0))
                .topP(doubleOpt(o, "--top-p", 1.0))
                .seed(intOpt(o, "--seed", 42))
                .k(intOpt(o, "--k", GenerationConfig.DEFAULT_K))
                .treeBranching(intOpt(o, "--tree-branching", GenerationConfig.DEFAULT_TREE_BRANCHING))
                .adaptive(o.containsKey("--adaptive"));
        if (o.containsKey("--tree-budget")) {
            b.treeBudget(intOpt(o, "--tree-budget", 0));
        }
        if (o.containsKey("--eos-ids")) {
            b.eosTokenIds(ids("--eos-ids", o.get("--eos-ids")));
        }
        return b.build();
    }

    private static void generate(Map<String, String> o, PrintStream out) {
        GenerationConfig config = config(o);
        if (config.mode().isSpeculative() && !o.containsKey("--draft")) {
            throw new IllegalArgumentException("mode " + config.mode().id() + " needs --draft DIR (e.g. models/pair/draft)");
        }
        int sources = (o.containsKey("--prompt") ? 1 : 0) + (o.containsKey("--prompt-ids") ? 1 : 0) + (o.containsKey("--task") ? 1 : 0);
        if (sources != 1) {
            throw new IllegalArgumentException("give exactly one of --prompt \"text\", --prompt-ids 5,17,9 or --task FILE.jsonl");
        }
        EngineOptions options = new EngineOptions(Path.of(o.get("--target")),
                o.containsKey("--draft") ? Path.of(o.get("--draft")) : null,
                ExecutionProvider.parse(o.getOrDefault("--provider", "cpu")),
                intOpt(o, "--threads", EngineOptions.defaultThreads()));
        try (Engine engine = Engine.open(options)) {
            List<int[]> prompts = prompts(o, engine);
            List<String> traceLines = new ArrayList<>();
            SpeculationTrace trace = config.mode().isSpeculative() && !o.containsKey("--json")
                    ? (prompt, proposed, accepted, emitted) -> traceLines.add(traceLine(engine, prompt, proposed, accepted, emitted))
                    : null;
            GenerationResult result = engine.generate(prompts, config, trace);
            if (o.containsKey("--json")) {
                out.println(json(result, engine));
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

    private static List<int[]> prompts(Map<String, String> o, Engine engine) {
        if (o.containsKey("--prompt-ids")) {
            return List.of(ids("--prompt-ids", o.get("--prompt-ids")));
        }
        if (o.containsKey("--prompt")) {
            int[] ids = engine.tokenizer().encode(o.get("--prompt"));
            if (ids.length == 0) {
                throw new IllegalArgumentException("the prompt is empty: give some text");
            }
            return List.of(ids);
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

    private static String json(GenerationResult result, Engine engine) {
        ObjectMapper mapper = new ObjectMapper();
        ObjectNode root = mapper.createObjectNode();
        ArrayNode seqs = root.putArray("sequences");
        ArrayNode scores = root.putArray("sequence_scores");
        ArrayNode texts = root.putArray("texts");
        for (List<GeneratedSequence> perPrompt : result.sequences()) {
            for (GeneratedSequence s : perPrompt) {
                ArrayNode a = seqs.addArray();
                for (int t : s.tokens()) {
                    a.add(t);
                }
                scores.add(s.score());
                texts.add(engine.tokenizer().decode(s.generated()));
            }
        }
        DecodeStats st = result.stats();
        ObjectNode stats = root.putObject("stats");
        stats.put("tokens_generated", st.tokensGenerated);
        stats.put("steps", st.steps);
        stats.put("target_forwards", st.targetForwards);
        stats.put("draft_forwards", st.draftForwards);
        stats.put("draft_tokens_proposed", st.draftProposed);
        stats.put("draft_tokens_accepted", st.draftAccepted);
        stats.put("acceptance_rate", Double.isNaN(st.acceptanceRate()) ? null : st.acceptanceRate());
        stats.put("steps_per_target_forward", Double.isNaN(st.stepsPerTargetForward()) ? null : st.stepsPerTargetForward());
        ArrayNode hist = stats.putArray("steps_histogram");
        for (long h : st.stepsHistogram) {
            hist.add(h);
        }
        stats.put("rounds_full_accept", st.roundsFullAccept);
        stats.put("rounds_partial_accept", st.roundsPartialAccept);
        stats.put("rounds_zero_accept", st.roundsZeroAccept);
        stats.put("wall_ms", st.wallNanos / 1e6);
        stats.put("ort_ms", (st.targetOrtNanos + st.draftOrtNanos) / 1e6);
        stats.put("ort_share", st.ortShare());
        stats.put("kv_bytes_copied", st.kvBytesCopied);
        stats.put("kv_bytes_moved", st.kvBytesMoved);
        stats.put("padded_positions", st.paddedPositions);
        stats.put("provider", engine.providerUsed().id());
        return root.toString();
    }
}
