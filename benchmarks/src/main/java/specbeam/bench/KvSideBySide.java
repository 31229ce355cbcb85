package specbeam.bench;

import org.apache.commons.math3.stat.descriptive.rank.Median;
import specbeam.decode.BeamSearchDecoding;
import specbeam.decode.DecodeStats;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.GreedyDecoding;
import specbeam.decode.Mode;
import specbeam.decode.SpeculativeBeamDecoding;
import specbeam.model.ExecutionProvider;
import specbeam.model.KvBackend;
import specbeam.model.OnnxCausalLm;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * The bound KV cache against direct buffers, side by side: both backends of the same model loaded in one JVM,
 * the same prompts, rounds alternating (bound, host, host, bound, ...) so that the machine's drift hits both, and
 * the outputs compared token for token. Prints a table and writes {@code kv-side-by-side.csv} (one row per mode and
 * round) to the output folder.
 *
 * <pre>java -cp benchmarks.jar specbeam.bench.KvSideBySide TARGET DRAFT PROMPT_TOKENS NEW_TOKENS ROUNDS OUT_DIR</pre>
 */
public final class KvSideBySide {
    private static final Median MEDIAN = new Median();

    private KvSideBySide() {
    }

    private static OnnxCausalLm load(Path dir, KvBackend kv) {
        System.setProperty("specbeam.kv", kv.label());
        OnnxCausalLm model = OnnxCausalLm.load(dir, ExecutionProvider.CPU, 2);
        if (model.kvBackend() != kv) {
            throw new IllegalStateException(dir + " loaded with the " + model.kvBackend().label() + " cache, not "
                    + kv.label());
        }
        return model;
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 6) {
            System.err.println("usage: KvSideBySide TARGET DRAFT PROMPT_TOKENS NEW_TOKENS ROUNDS OUT_DIR");
            System.exit(2);
        }
        Path targetDir = Path.of(args[0]);
        Path draftDir = Path.of(args[1]);
        int promptTokens = Integer.parseInt(args[2]);
        int newTokens = Integer.parseInt(args[3]);
        int rounds = Integer.parseInt(args[4]);
        Path out = Path.of(args[5]);
        OnnxCausalLm[] targets = {load(targetDir, KvBackend.BOUND), load(targetDir, KvBackend.HOST)};
        OnnxCausalLm[] drafts = {load(draftDir, KvBackend.BOUND), load(draftDir, KvBackend.HOST)};
        System.clearProperty("specbeam.kv");
        SplittableRandom r = new SplittableRandom(1234);
        int[] prompt = new int[promptTokens];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 3 + r.nextInt(targets[0].manifest().vocabSize() - 3);
        }
        List<int[]> prompts = List.of(prompt);
        String[] modes = {"greedy", "beam_b4", "speculative_beam_b4_k3"};
        GenerationConfig[] configs = {
                GenerationConfig.builder(Mode.GREEDY).maxNewTokens(newTokens).build(),
                GenerationConfig.builder(Mode.BEAM).beamWidth(4).maxNewTokens(newTokens).build(),
                GenerationConfig.builder(Mode.SPECULATIVE_BEAM).beamWidth(4).k(3).maxNewTokens(newTokens).build()};
        List<String> rows = new ArrayList<>();
        rows.add("mode,round,backend,wall_ms,tokens,kv_bytes_through_java_per_token,host_io_bytes_per_token");
        System.out.printf("%-24s %12s %12s %8s %22s %22s%n", "mode", "bound ms", "host ms", "host/bound",
                "through Java B/token", "host I/O B/token");
        for (int m = 0; m < modes.length; m++) {
            double[][] wall = new double[2][rounds];
            DecodeStats[] last = new DecodeStats[2];
            for (int round = -1; round < rounds; round++) {   // round -1 warms both up and is not kept
                for (int k = 0; k < 2; k++) {
                    int b = (round & 1) == 0 ? k : 1 - k;   // alternate which backend goes first
                    GenerationResult res = run(modes[m], targets[b], drafts[b], prompts, configs[m]);
                    if (round >= 0) {
                        wall[b][round] = res.stats().wallNanos / 1e6;
                        last[b] = res.stats();
                        rows.add(String.join(",", modes[m], Integer.toString(round), b == 0 ? "bound" : "host",
                                String.format("%.3f", wall[b][round]), Long.toString(res.stats().tokensGenerated),
                                String.format("%.0f", res.stats().kvBytesThroughJavaPerToken()),
                                String.format("%.0f", res.stats().hostIoBytesPerToken())));
                    }
                    if (round == -1 && b == 1) {
                        GenerationResult bound = run(modes[m], targets[0], drafts[0], prompts, configs[m]);
                        if (!Arrays.equals(bound.best(0).tokens(), res.best(0).tokens())) {
                            throw new IllegalStateException(modes[m] + ": the backends' outputs differ");
                        }
                    }
                }
            }
            double bound = MEDIAN.evaluate(wall[0]);
            double host = MEDIAN.evaluate(wall[1]);
            System.out.printf("%-24s %12.1f %12.1f %8.3f %10.0f / %-10.0f %10.0f / %-10.0f%n", modes[m], bound, host,
                    host / bound, last[0].kvBytesThroughJavaPerToken(), last[1].kvBytesThroughJavaPerToken(),
                    last[0].hostIoBytesPerToken(), last[1].hostIoBytesPerToken());
        }
        Files.createDirectories(out);
        try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("kv-side-by-side.csv")))) {
            rows.forEach(w::println);
        }
        for (OnnxCausalLm model : targets) {
            model.close();
        }
        for (OnnxCausalLm model : drafts) {
            model.close();
        }
    }

    private static GenerationResult run(String mode, OnnxCausalLm target, OnnxCausalLm draft, List<int[]> prompts,
                                        GenerationConfig config) {
        if (mode.startsWith("greedy")) {
            return new GreedyDecoding(target).generate(prompts, config, null);
        }
        if (mode.startsWith("beam")) {
            return new BeamSearchDecoding(target).generate(prompts, config, null);
        }
        return new SpeculativeBeamDecoding(target, draft).generate(prompts, config, null);
    }
}
