package specbeam.bench;

import specbeam.EngineOptions;
import specbeam.model.ExecutionProvider;
import specbeam.model.LmState;
import specbeam.model.ModelLoadException;
import specbeam.model.OnnxCausalLm;
import specbeam.model.OrtThreads;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;

/**
 * The engine's time inside ONNX Runtime for the forwards decoding is made of, measured without the decoding
 * around them: what {@code models/forward_time.py} measures from Python for the same graph, so the two can be
 * compared (README, "Thread pool"; a regression in the Java path shows up as a ratio above 1).
 *
 * <pre>
 * java -cp benchmarks.jar specbeam.bench.ForwardProbe [--models models/pair] [--threads N] [--prefix 64]
 *      [--k 4] [--rounds 300]
 * </pre>
 *
 * <p>Scenarios, each over a {@code prefix}-token prompt in a cache of capacity {@code prefix + 96}:
 * {@code target}: one-token target forwards back to back (greedy's pattern); {@code speculative}: {@code k}
 * one-token draft forwards then one {@code k + 1}-token target forward (speculative greedy's pattern, target and
 * draft alternating). Each forward's logits are scanned for their argmax, as decoding would. Prints one JSON
 * object: median and quartiles, in ms, of each kind of forward, with the thread configuration.
 */
public final class ForwardProbe {

    private ForwardProbe() {
    }

    public static void main(String[] args) {
        try {
            probe(args);
        } catch (NumberFormatException e) {
            System.err.println("specbeam: error: --threads, --prefix, --k and --rounds take whole numbers ("
                    + e.getMessage() + ")");
            System.exit(2);
        } catch (IllegalArgumentException | ModelLoadException e) {
            System.err.println("specbeam: error: " + e.getMessage());
            System.exit(2);
        }
    }

    private static void probe(String[] args) {
        Map<String, String> opt = new LinkedHashMap<>(Map.of("--models", "models/pair", "--prefix", "64",
                "--k", "4", "--rounds", "300", "--threads", Integer.toString(EngineOptions.defaultThreads())));
        for (int i = 0; i < args.length; i += 2) {
            if (!opt.containsKey(args[i]) || i + 1 >= args.length) {
                System.err.println("specbeam: error: usage: ForwardProbe [--models DIR] [--threads N] [--prefix N] "
                        + "[--k K] [--rounds N] (got '" + args[i] + "')");
                System.exit(2);
            }
            opt.put(args[i], args[i + 1]);
        }
        Path pair = Path.of(opt.get("--models"));
        int threads = Integer.parseInt(opt.get("--threads"));
        int prefix = Integer.parseInt(opt.get("--prefix"));
        int k = Integer.parseInt(opt.get("--k"));
        int rounds = Integer.parseInt(opt.get("--rounds"));
        if (threads < 1 || prefix < 1 || k < 1 || rounds < 4) {
            throw new IllegalArgumentException("--threads, --prefix and --k must be >= 1 and --rounds >= 4");
        }
        OrtThreads config = OrtThreads.current();
        Map<String, Object> out = new LinkedHashMap<>();
        out.put("threads", threads);
        out.put("config", '"' + config.label() + '"');
        try (OnnxCausalLm target = OnnxCausalLm.load(pair.resolve("target"), ExecutionProvider.CPU, threads);
             OnnxCausalLm draft = OnnxCausalLm.load(pair.resolve("draft"), ExecutionProvider.CPU,
                     config.forDraft(threads))) {
            out.put("target_1", summary(targetOnly(target, prefix, rounds)));
            double[][] spec = speculative(target, draft, prefix, k, rounds);
            out.put("spec_target_" + (k + 1), summary(spec[0]));
            out.put("spec_draft_1", summary(spec[1]));
            out.put("spec_round_wall", summary(spec[2]));
        }
        StringBuilder json = new StringBuilder("{");
        out.forEach((key, v) -> json.append(json.length() > 1 ? ", " : "").append('"').append(key).append("\": ")
                .append(v));
        System.out.println(json.append('}'));
    }

    /** ms of each one-token target forward, after a warm-up of a quarter of the rounds. */
    private static double[] targetOnly(OnnxCausalLm target, int prefix, int rounds) {
        LastNanos timer = new LastNanos();
        try (LmState state = prefilled(target, prefix, timer)) {
            int warm = rounds / 4;
            double[] ms = new double[rounds];
            int token = 1;
            for (int r = -warm; r < rounds; r++) {
                token = argmax(state.forward(0, new int[][] {{token}}, null), 0);
                state.discardPending(0);
                if (r >= 0) {
                    ms[r] = timer.last / 1e6;
                }
            }
            return ms;
        }
    }

    /** {target (k+1)-token forward ms, draft one-token forward ms, round wall ms} per round. */
    private static double[][] speculative(OnnxCausalLm target, OnnxCausalLm draft, int prefix, int k, int rounds) {
        LastNanos targetTimer = new LastNanos();
        LastNanos draftTimer = new LastNanos();
        try (LmState t = prefilled(target, prefix, targetTimer); LmState d = prefilled(draft, prefix, draftTimer)) {
            int warm = rounds / 4;
            double[][] ms = new double[3][rounds];
            double[] draftMs = new double[rounds * k];
            for (int r = -warm; r < rounds; r++) {
                long start = System.nanoTime();
                int[] chain = new int[k + 1];
                chain[0] = 1;
                for (int j = 0; j < k; j++) {
                    chain[j + 1] = argmax(d.forward(0, new int[][] {{chain[j]}}, null), 0);
                    if (r >= 0) {
                        draftMs[r * k + j] = draftTimer.last / 1e6;
                    }
                }
                LmState.Logits logits = t.forward(0, new int[][] {chain}, null);
                for (int j = 0; j <= k; j++) {
                    argmax(logits, j);
                }
                t.discardPending(0);
                d.discardPending(0);
                if (r >= 0) {
                    ms[0][r] = targetTimer.last / 1e6;
                    ms[2][r] = (System.nanoTime() - start) / 1e6;
                }
            }
            ms[1] = draftMs;
            return ms;
        }
    }

    private static LmState prefilled(OnnxCausalLm model, int prefix, LastNanos timer) {
        LmState state = model.newState(1, prefix + 96, timer);
        int[] prompt = new int[prefix];
        for (int i = 0; i < prefix; i++) {
            prompt[i] = 1 + (i * 7919) % (model.manifest().vocabSize() - 1);
        }
        state.forwardPrompt(0, new int[][] {prompt});
        int[] path = new int[prefix];
        Arrays.setAll(path, i -> i);
        state.commit(0, path);
        return state;
    }

    private static int argmax(LmState.Logits logits, int node) {
        int best = 0;
        for (int v = 1; v < logits.vocab(); v++) {
            if (logits.get(0, node, v) > logits.get(0, node, best)) {
                best = v;
            }
        }
        return best;
    }

    private static String summary(double[] ms) {
        double[] s = ms.clone();
        Arrays.sort(s);
        return String.format(Locale.ROOT, "{\"median\": %.4f, \"p25\": %.4f, \"p75\": %.4f, \"n\": %d}",
                s[s.length / 2], s[s.length / 4], s[3 * s.length / 4], s.length);
    }

    private static final class LastNanos implements OnnxCausalLm.OrtTimer {
        long last;

        @Override
        public void ortNanos(long nanos, int tokensFed) {
            last = nanos;
        }

        @Override
        public void kvBytes(long bytes) {
        }
    }
}
