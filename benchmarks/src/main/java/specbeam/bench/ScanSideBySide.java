package specbeam.bench;

import org.apache.commons.math3.stat.descriptive.rank.Median;
import specbeam.decode.BeamSearchDecoding;
import specbeam.decode.DecodeStats;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.Mode;
import specbeam.decode.RowScans;
import specbeam.decode.SpeculativeBeamDecoding;
import specbeam.decode.SpeculativeDecoding;
import specbeam.model.ExecutionProvider;
import specbeam.model.OnnxCausalLm;
import specbeam.report.RunMetadata;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;

/**
 * The scan of a forward's logits on one core against several ({@link RowScans}), side by side in one JVM on one
 * model: rounds alternate which goes first, outputs are compared token for token and score for score. The target
 * is its own draft, so every proposal is accepted and a verification reads every row it computed (a speculative
 * k = 19 chain: 20 rows, 3 million logits at a 152k vocabulary). Per mode it prints the time per verification,
 * the share of it outside ONNX Runtime's run of the target ({@code DecodeStats.verifyNanos}), and the logits'
 * share of the decode phase; writes {@code scan-side-by-side.csv} (one row per mode, round and scan) to OUT_DIR.
 *
 * <pre>java -cp benchmarks.jar specbeam.bench.ScanSideBySide TARGET PROMPT_TOKENS NEW_TOKENS ROUNDS OUT_DIR</pre>
 */
public final class ScanSideBySide {
    private static final String[] SCANS = {"one core", "parallel"};

    private static final Median MEDIAN = new Median();

    private ScanSideBySide() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 5) {
            System.err.println("usage: ScanSideBySide TARGET PROMPT_TOKENS NEW_TOKENS ROUNDS OUT_DIR");
            System.exit(2);
        }
        Path targetDir = Path.of(args[0]);
        int promptTokens = Integer.parseInt(args[1]);
        int newTokens = Integer.parseInt(args[2]);
        int rounds = Integer.parseInt(args[3]);
        Path out = Path.of(args[4]);
        Instant start = Instant.now();
        double loadBefore = RunMetadata.readLoadAverage();
        boolean defaultParallel = RowScans.parallel();   // this JVM's choice without the side-by-side
        try (OnnxCausalLm model = OnnxCausalLm.load(targetDir, ExecutionProvider.CPU, 2)) {
            SplittableRandom r = new SplittableRandom(23);
            int[] prompt = new int[promptTokens];
            for (int i = 0; i < prompt.length; i++) {
                prompt[i] = 1 + r.nextInt(model.manifest().vocabSize() - 1);
            }
            List<int[]> prompts = List.of(prompt);
            int[] noEos = {0};
            String[] modes = {"speculative_k19", "speculative_beam_b4_k4", "beam_b4"};
            GenerationConfig[] configs = {
                    GenerationConfig.builder(Mode.SPECULATIVE).k(19).maxNewTokens(newTokens).eosTokenIds(noEos).build(),
                    GenerationConfig.builder(Mode.SPECULATIVE_BEAM).beamWidth(4).k(4).maxNewTokens(newTokens)
                            .eosTokenIds(noEos).build(),
                    GenerationConfig.builder(Mode.BEAM).beamWidth(4).maxNewTokens(newTokens).eosTokenIds(noEos).build()};
            List<String> rows = new ArrayList<>();
            rows.add("mode,round,scan,wall_ms,decode_ms,verify_forwards,verify_nodes,verify_ms,verify_ort_ms,"
                    + "logits_ms,tokens");
            System.out.printf("%s, %s, vocabulary %d, prompt %d, %d new tokens, %d rounds, load %.2f%n", targetDir,
                    start, model.manifest().vocabSize(), promptTokens, newTokens, rounds, loadBefore);
            System.out.printf("ONNX Runtime threads %s; the default scan here: %s%n",
                    specbeam.model.OrtThreads.current().label(), defaultParallel ? "parallel" : "one core");
            System.out.printf("%-24s %6s %21s %21s %21s %10s%n", "mode", "nodes", "ms per verification",
                    "outside ORT", "logits / decode", "wall 1/par");
            for (int m = 0; m < modes.length; m++) {
                DecodeStats[] sum = {new DecodeStats(), new DecodeStats()};
                double[][] wall = new double[2][rounds];
                for (int round = -1; round < rounds; round++) {   // round -1 warms both up and is not kept
                    GenerationResult[] res = new GenerationResult[2];
                    for (int j = 0; j < 2; j++) {
                        int s = (round & 1) == 0 ? j : 1 - j;   // alternate which scan goes first
                        RowScans.setParallel(s == 1);
                        res[s] = run(modes[m], model, prompts, configs[m]);
                        DecodeStats st = res[s].stats();
                        if (round >= 0) {
                            sum[s].add(st);
                            wall[s][round] = st.wallNanos / 1e6;
                            rows.add(String.format(Locale.ROOT, "%s,%d,%s,%.3f,%.3f,%d,%d,%.3f,%.3f,%.3f,%d", modes[m],
                                    round, SCANS[s], st.wallNanos / 1e6, (st.wallNanos - st.prefillNanos) / 1e6,
                                    st.verifyForwards, st.verifyNodes, st.verifyNanos / 1e6, st.verifyOrtNanos / 1e6,
                                    st.logitsNanos / 1e6, st.tokensGenerated));
                        }
                    }
                    for (int p = 0; p < res[0].sequences().size(); p++) {
                        for (int q = 0; q < res[0].sequences().get(p).size(); q++) {
                            var a = res[0].sequences().get(p).get(q);
                            var b = res[1].sequences().get(p).get(q);
                            if (!Arrays.equals(a.tokens(), b.tokens()) || a.score() != b.score()) {
                                throw new IllegalStateException(modes[m] + ": the scans' outputs differ");
                            }
                        }
                    }
                }
                String[] cells = new String[3];
                for (int s = 0; s < 2; s++) {
                    DecodeStats st = sum[s];
                    double decode = st.wallNanos - st.prefillNanos;
                    cells[0] = (s == 0 ? "" : cells[0] + " / ") + (st.verifyForwards == 0 ? "-"
                            : String.format(Locale.ROOT, "%.1f", st.verifyNanos / 1e6 / st.verifyForwards));
                    cells[1] = (s == 0 ? "" : cells[1] + " / ") + (st.verifyForwards == 0 ? "-"
                            : String.format(Locale.ROOT, "%.1f%%", 100 * st.verifyOutsideOrtShare()));
                    cells[2] = (s == 0 ? "" : cells[2] + " / ")
                            + String.format(Locale.ROOT, "%.1f%%", 100 * st.logitsNanos / decode);
                }
                double nodes = sum[0].verifyForwards == 0 ? 0 : (double) sum[0].verifyNodes / sum[0].verifyForwards;
                System.out.printf(Locale.ROOT, "%-24s %6.1f %21s %21s %21s %10.3f%n", modes[m], nodes, cells[0],
                        cells[1], cells[2], MEDIAN.evaluate(wall[0]) / MEDIAN.evaluate(wall[1]));
            }
            System.out.printf("load after %.2f%n", RunMetadata.readLoadAverage());
            Files.createDirectories(out);
            try (PrintWriter w = new PrintWriter(Files.newBufferedWriter(out.resolve("scan-side-by-side.csv")))) {
                rows.forEach(w::println);
            }
        } finally {
            RowScans.setParallel(defaultParallel);
        }
    }

    private static GenerationResult run(String mode, OnnxCausalLm model, List<int[]> prompts, GenerationConfig config) {
        if (mode.startsWith("beam")) {
            return new BeamSearchDecoding(model).generate(prompts, config, null);
        }
        if (mode.startsWith("speculative_beam")) {
            return new SpeculativeBeamDecoding(model, model).generate(prompts, config, null);
        }
        return new SpeculativeDecoding(model, model).generate(prompts, config, null);
    }
}
