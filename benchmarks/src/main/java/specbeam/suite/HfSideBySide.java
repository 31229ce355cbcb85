package specbeam.suite;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.apache.commons.math3.stat.StatUtils;
import specbeam.bench.JitWarmUp;
import specbeam.decode.GenerationConfig;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;
import specbeam.quality.TextGenerator;
import specbeam.report.CsvFiles;
import specbeam.report.PairedRatio;
import specbeam.report.SideBySideRow;
import specbeam.tasks.ModelPair;
import specbeam.tasks.TaskItem;

import java.io.BufferedReader;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStreamWriter;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * Hugging Face {@code generate} and specbeam timed in alternation, call by call: HF on prompt i, then specbeam on
 * prompt i (or the other way round, alternating), a short pause between calls so that neither side's worker threads
 * are still spinning when the other starts. This machine's speed drifts by tens of percent within minutes, so two
 * timings taken minutes apart (the grid, then HF) compare the drift as much as the engines; alternating call by
 * call puts both sides of every ratio under the same conditions, and the speedup is the geometric mean of the
 * pairs' ratios with its 99.9% interval, as for the paired grid points.
 *
 * <p>HF runs in one {@code models/hf_baseline.py --serve} process that loads the models once and answers one
 * generate call per request; it writes {@code hf_baseline.csv} from its timed calls at the end. specbeam runs in
 * this JVM on an engine of its own, after a warm-up until the JIT is quiet ({@link JitWarmUp}).
 */
final class HfSideBySide {
    static final String FILE = "hf_side_by_side.csv";
    /** Timed passes over the prompts per mode (after one untimed pass). */
    static final int PASSES = 6;
    /** Pause between two calls, ms: ONNX Runtime's and torch's workers stop spinning in well under this. */
    static final long PAUSE_MS = 30;
    /** The longest JIT warm-up of specbeam's side, s. */
    static final double WARMUP_SECONDS = 45;

    private static final ObjectMapper JSON = new ObjectMapper();

    private HfSideBySide() {
    }

    /** An HF mode and the specbeam point timed against it. */
    record Match(String hfMode, int k, int beamWidth, GridPoint ours) {
        String label() {
            return hfMode + (hfMode.equals("beam") ? " B=" + beamWidth : "") + (k > 0 ? " k=" + k : "");
        }
    }

    /** One generate call on one side: its wall time in ms. */
    interface Side {
        double generateMs(Match match, int prompt, boolean record) throws IOException;
    }

    /**
     * The grid's points that have an HF counterpart (batch 1, CPU): greedy, beam search with each B, and
     * speculative decoding with a fixed k against assisted generation with the same k.
     */
    static List<Match> matches(List<GridPoint> points) {
        List<Match> out = new ArrayList<>();
        for (GridPoint p : points) {
            if (p.batch() != 1 || p.provider() != ExecutionProvider.CPU) {
                continue;
            }
            Match m = switch (p.mode()) {
                case GREEDY -> new Match("greedy", 0, 1, p);
                case BEAM -> new Match("beam", 0, p.beamWidth(), p);
                case SPECULATIVE -> p.adaptive() ? null : new Match("assisted", p.k(), 1, p);
                default -> null;
            };
            if (m != null && out.stream().noneMatch(x -> x.label().equals(m.label()))) {
                out.add(m);
            }
        }
        return out;
    }

    /**
     * Times every match: one untimed pass, then {@code passes} passes over {@code prompts} prompts, each prompt
     * timed on both sides back to back (HF first on even prompt + pass, specbeam first otherwise).
     */
    static List<Pairs> interleave(List<Match> matches, int prompts, int passes, Side hf, Side ours, long pauseMs,
                                  PrintStream out) throws IOException, InterruptedException {
        List<Pairs> results = new ArrayList<>();
        for (Match m : matches) {
            double[] hfMs = new double[prompts * passes];
            double[] ourMs = new double[prompts * passes];
            for (int pass = -1; pass < passes; pass++) {
                boolean record = pass >= 0;
                for (int i = 0; i < prompts; i++) {
                    boolean hfFirst = ((i + pass) & 1) == 0;
                    double a = (hfFirst ? hf : ours).generateMs(m, i, record);
                    Thread.sleep(pauseMs);
                    double b = (hfFirst ? ours : hf).generateMs(m, i, record);
                    Thread.sleep(pauseMs);
                    if (record) {
                        hfMs[pass * prompts + i] = hfFirst ? a : b;
                        ourMs[pass * prompts + i] = hfFirst ? b : a;
                    }
                }
            }
            Pairs p = new Pairs(m, hfMs, ourMs);
            PairedRatio r = p.ratio();
            out.printf(Locale.ROOT, "[hf] %-14s vs %-22s HF %.1f ms, specbeam %.1f ms: %.2fx [%.2f, %.2f] (%d pairs)%n",
                    m.label(), m.ours().label(), StatUtils.mean(hfMs), StatUtils.mean(ourMs), r.speedup(), r.low(),
                    r.high(), r.n());
            results.add(p);
        }
        return results;
    }

    /** The timed pairs of one match. */
    record Pairs(Match match, double[] hfMs, double[] oursMs) {
        PairedRatio ratio() {
            return PairedRatio.of(hfMs, oursMs);
        }

        SideBySideRow row(Map<String, String> meta) {
            PairedRatio r = ratio();
            return new SideBySideRow(match.hfMode(), match.k(), match.beamWidth(), match.ours().label(), r.n(),
                    StatUtils.mean(hfMs), StatUtils.mean(oursMs), r.speedup(), finite(r.low()), finite(r.high()),
                    meta.getOrDefault("measured_at", ""), meta.getOrDefault("loadavg", ""),
                    meta.getOrDefault("torch", ""), meta.getOrDefault("transformers", ""));
        }
    }

    /**
     * Runs the comparison for the grid's points, writing {@code <out>/hf_side_by_side.csv} and (from HF's timed
     * calls) {@code <out>/hf_baseline.csv}; nothing is written when it fails.
     *
     * @return {@code null} on success, else what went wrong
     */
    static String measure(SuiteOptions options, ModelPair pair, List<GridPoint> points, Wiring wiring, PrintStream out) {
        List<Match> matches = matches(points);
        if (matches.isEmpty()) {
            return "no grid point at batch 1 on the CPU has an HF counterpart (greedy, beam, speculative)";
        }
        List<int[]> prompts = pair.prompts().stream().map(TaskItem::promptIds).toList();
        int maxNew = matches.get(0).ours().maxNewTokens();
        boolean withDraft = matches.stream().anyMatch(m -> m.ours().mode().isSpeculative());
        List<String> cmd = List.of(HfBaseline.python(), HfBaseline.SCRIPT.toString(), "--serve",
                "--target", pair.target().toString(), "--draft", pair.draft().toString(),
                "--max-new-tokens", Integer.toString(maxNew),
                "--out", options.out().resolve(SuiteOptions.HF_BASELINE).toString());
        out.println("[hf] " + String.join(" ", cmd) + " (HF and specbeam alternate call by call)");
        Process process;
        try {
            process = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.INHERIT).start();
        } catch (IOException e) {
            return "cannot run " + HfBaseline.python() + ": " + e.getMessage();
        }
        try (HfServer hf = new HfServer(process);
             TextGenerator engine = wiring.openGenerator(pair, ExecutionProvider.CPU, withDraft)) {
            hf.ready();
            if (hf.prompts != prompts.size()) {
                return "hf_baseline.py read " + hf.prompts + " prompts, this suite " + prompts.size()
                        + ": both must read " + pair.target().resolve("tasks") + "/prompts.jsonl";
            }
            Side ours = (m, i, record) -> {
                GenerationConfig config = m.ours().config();
                long t0 = System.nanoTime();
                engine.generate(List.of(prompts.get(i)), config);
                return (System.nanoTime() - t0) / 1e6;
            };
            double warm = JitWarmUp.run(() -> {
                for (Match m : matches) {
                    for (int[] p : prompts) {
                        engine.generate(List.of(p), m.ours().config());
                    }
                }
            }, WARMUP_SECONDS);
            out.printf(Locale.ROOT, "[hf] specbeam warmed up for %.0f s; %d modes, %d passes of %d prompts each%n",
                    warm, matches.size(), PASSES, prompts.size());
            // what this JVM burns while HF runs (spinning or compiling threads) would slow HF's side: measured
            com.sun.management.OperatingSystemMXBean os = (com.sun.management.OperatingSystemMXBean)
                    java.lang.management.ManagementFactory.getOperatingSystemMXBean();
            double[] hfWallAndCpu = new double[2];
            Side timedHf = (m, i, record) -> {
                long cpu0 = os.getProcessCpuTime();
                double ms = hf.generateMs(m, i, record);
                hfWallAndCpu[0] += ms;
                hfWallAndCpu[1] += (os.getProcessCpuTime() - cpu0) / 1e6;
                return ms;
            };
            List<Pairs> pairs = interleave(matches, prompts.size(), PASSES, timedHf, ours, PAUSE_MS, out);
            out.printf(Locale.ROOT, "[hf] this JVM used %.3f cores while HF generated (its CPU time over HF's wall "
                    + "time)%n", hfWallAndCpu[1] / Math.max(hfWallAndCpu[0], 1e-9));
            Path wrote = hf.finish();
            if (wrote == null) {
                return "hf_baseline.py --serve wrote no CSV";
            }
            // date, load before and after, versions: as HF's CSV recorded them
            Map<String, String> rowMeta = HfBaseline.firstRowMeta(wrote);
            CsvFiles.writeSideBySide(options.out().resolve(FILE), pairs.stream().map(p -> p.row(rowMeta)).toList());
            out.println("[hf] wrote " + wrote + " and " + options.out().resolve(FILE));
            return null;
        } catch (IOException | RuntimeException e) {
            return "HF side by side failed: " + e.getMessage();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return "interrupted";
        }
    }

    /** The {@code --serve} process: one JSON request per line in, one answer per line out. */
    static final class HfServer implements Side, AutoCloseable {
        private final Process process;
        private final BufferedReader in;
        private final BufferedWriter toHf;
        /** Prompts the process read (from its ready line). */
        int prompts = -1;

        HfServer(Process process) {
            this.process = process;
            this.in = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            this.toHf = new BufferedWriter(new OutputStreamWriter(process.getOutputStream(), StandardCharsets.UTF_8));
        }

        /** Waits for the ready line and reads how many prompts the process has. */
        void ready() throws IOException {
            JsonNode r = answer();
            if (!r.path("ready").asBoolean()) {
                throw new IOException("unexpected first line from hf_baseline.py: " + r);
            }
            prompts = r.path("prompts").asInt(-1);
        }

        @Override
        public double generateMs(Match m, int prompt, boolean record) throws IOException {
            JsonNode r = request(Map.of("mode", m.hfMode(), "k", m.k(), "beam_width", m.beamWidth(),
                    "prompt", prompt, "record", record));
            if (r.has("error")) {
                throw new IOException("hf_baseline.py: " + r.get("error").asText());
            }
            return r.path("ms").asDouble();
        }

        /** Asks the process to write its CSV and end; the path written, or null. */
        Path finish() throws IOException {
            JsonNode r = request(Map.of("finish", true));
            return r.path("wrote").isTextual() ? Path.of(r.get("wrote").asText()) : null;
        }

        private JsonNode request(Map<String, Object> body) throws IOException {
            toHf.write(JSON.writeValueAsString(body));
            toHf.newLine();
            toHf.flush();
            return answer();
        }

        private JsonNode answer() throws IOException {
            String line = in.readLine();
            if (line == null) {
                throw new IOException("hf_baseline.py --serve ended early (exit status "
                        + (process.isAlive() ? "unknown" : process.exitValue()) + "; its error is above)");
            }
            return JSON.readTree(line);
        }

        @Override
        public void close() {
            try {
                toHf.close();
                if (!process.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)) {
                    process.destroyForcibly();
                }
            } catch (IOException ignored) {
                process.destroyForcibly();
            } catch (InterruptedException e) {
                process.destroyForcibly();
                Thread.currentThread().interrupt();
            }
        }
    }

    private static Double finite(double x) {
        return Double.isFinite(x) ? x : null;
    }
}
