package specbeam.suite;

import specbeam.model.ExecutionProvider;
import specbeam.quality.QualityEvaluator;
import specbeam.quality.QualityResult;
import specbeam.quality.TextGenerator;
import specbeam.report.ComparisonRow;
import specbeam.report.CsvFiles;
import specbeam.report.ReportFile;
import specbeam.report.ReportTables;
import specbeam.report.ResultRow;
import specbeam.report.ResultRows;
import specbeam.report.RunMetadata;
import specbeam.report.RunSummary;
import specbeam.report.SampleStats;
import specbeam.tasks.ModelPair;
import specbeam.tasks.TaskItem;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * One run of the suite, in three phases: (1) measure every grid point (JMH, one run per point, progress on
 * stdout); (2) quality of every measured point, outside the timed path; (3) CSV files and the report, each
 * written atomically, so an interrupted run leaves the previous files intact.
 */
public final class Suite {
    private final SuiteOptions options;
    private final Grid.Plan plan;
    private final ModelPair pair;
    private final PointRunner runner;
    private final Wiring wiring;
    private final PrintStream out;
    private final String command;
    private String hfNote;   // provenance line under the HF table, or null

    public Suite(SuiteOptions options, Grid.Plan plan, ModelPair pair, PointRunner runner, Wiring wiring,
                 PrintStream out, String command) {
        this.options = options;
        this.plan = plan;
        this.pair = pair;
        this.runner = runner;
        this.wiring = wiring;
        this.out = out;
        this.command = command;
    }

    /** @return 0 when every point was measured, 1 when some failed (the others are still written) */
    public int run() throws IOException {
        Instant start = Instant.now();
        long t0 = System.nanoTime();
        List<GridPoint> points = plan.points();
        out.printf(Locale.ROOT, "specbeam: %d grid points (%s profile), models %s%n", points.size(),
                options.profile().name().toLowerCase(Locale.ROOT), pair.dir());
        plan.notes().forEach(n -> out.println("  note: " + n));
        double load = RunMetadata.readLoadAverage();
        int cores = Runtime.getRuntime().availableProcessors();
        if (load > 0.5 * cores) {
            out.printf(Locale.ROOT, "  warning: load average %.1f on %d cores: other processes compete for the CPU, "
                    + "timings will be slower and noisier than on an idle machine%n", load, cores);
        }

        // 1. Measure.
        List<Measurement> measured = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        for (int i = 0; i < points.size(); i++) {
            GridPoint p = points.get(i);
            out.printf(Locale.ROOT, "[%d/%d] %-40s ", i + 1, points.size(), p.label());
            out.flush();
            long pointStart = System.nanoTime();
            double pointLoad = RunMetadata.readLoadAverage();
            try {
                Measurement m = runner.run(p).withLoadAverage(pointLoad);
                measured.add(m);
                out.println(summary(m) + String.format(Locale.ROOT, "  (%.0f s, load %.1f, %s elapsed)",
                        (System.nanoTime() - pointStart) / 1e9, pointLoad, minutes(System.nanoTime() - t0)));
            } catch (PointFailedException e) {
                failures.add(p.label() + ": " + e.getMessage());
                out.println("FAILED: " + e.getMessage());
            }
        }

        if (measured.isEmpty()) {
            out.println("nothing was measured: " + options.csv() + " and " + options.reportFile() + " left unchanged");
            failures.forEach(f -> out.println("  not measured: " + f));
            return 1;
        }

        // 2. Quality, once per configuration, outside the timed path.
        Map<GridPoint, QualityResult> quality = quality(measured, failures);

        // 3. Hugging Face generate on the same prompts, minutes after the grid.
        String hfSkipped = wiring.measuresHfBaseline() ? HfBaseline.skipReason(options) : "not wired in this run";
        if (hfSkipped == null) {
            hfSkipped = HfBaseline.measure(options, pair, points, out);
        } else {
            out.println("[hf] HF generate not measured in this run (" + hfSkipped + "): the report shows "
                    + (options.hfBaseline() == null ? "no baseline" : options.hfBaseline()));
        }
        hfNote = options.hfBaseline() == null ? null
                : HfBaseline.provenance(options.hfBaseline(), hfSkipped == null, hfSkipped);

        // 4. Write.
        RunMetadata meta = RunMetadata.collect(start, wiring.onnxRuntimeVersion(), wiring.modelFiles(pair.target()),
                anySpeculative(points) ? wiring.modelFiles(pair.draft()) : Map.of(), runner.settings());
        List<ResultRow> rows = ResultRows.build(measured, quality, meta);
        List<ComparisonRow> hf = readHfBaseline();
        RunSummary summary = new RunSummary(options.profile().name().toLowerCase(Locale.ROOT), command,
                (System.nanoTime() - t0) / 1e9, failures, plan.notes());
        writeOutputs(rows, hf, summary, true);
        Path jmhFile = runner.writeResultFile(options.out());
        if (jmhFile != null) {
            out.println("JMH results: " + jmhFile);
        }
        out.printf(Locale.ROOT, "done in %s: %d of %d points measured%n", minutes(System.nanoTime() - t0),
                measured.size(), points.size());
        failures.forEach(f -> out.println("  not measured: " + f));
        return failures.isEmpty() ? 0 : 1;
    }

    /** Regenerates the report from the CSV of an earlier run (the "run" block is left as it is). */
    public static void regenerateReport(SuiteOptions options, PrintStream out) throws IOException {
        if (!Files.isRegularFile(options.csv())) {
            throw new UsageException(options.csv() + " does not exist: run the grid first (or pass --out)");
        }
        List<ResultRow> rows = CsvFiles.readResults(options.csv());
        Suite s = new Suite(options, new Grid.Plan(List.of(), List.of()), null, null, null, out, "");
        s.writeOutputs(rows, s.readHfBaseline(), new RunSummary("", "", 0, List.of(), List.of()), false);
    }

    private Map<GridPoint, QualityResult> quality(List<Measurement> measured, List<String> failures) {
        Map<GridPoint, QualityResult> results = new LinkedHashMap<>();
        if (measured.isEmpty()) {
            return results;
        }
        List<TaskItem> prompts = pair.prompts();
        List<TaskItem> continuation = pair.continuation();
        continuation = evenlySpaced(continuation, options.profile().qualityItems());
        Set<ExecutionProvider> providers = new LinkedHashSet<>();
        measured.forEach(m -> providers.add(m.point().provider()));
        boolean withDraft = anySpeculative(measured.stream().map(Measurement::point).toList());
        int done = 0;
        for (ExecutionProvider provider : providers) {
            try (TextGenerator generator = wiring.openGenerator(pair, provider, withDraft)) {
                QualityEvaluator evaluator = new QualityEvaluator(generator, prompts, continuation, pair.nearTieTolerance());
                for (Measurement m : measured) {
                    if (m.point().provider() != provider) {
                        continue;
                    }
                    done++;
                    out.printf(Locale.ROOT, "[quality %d/%d] %s (%d prompts)%n", done, measured.size(), m.point().label(),
                            prompts.size() + continuation.size());
                    try {
                        results.put(m.point(), evaluator.evaluate(m.point()));
                    } catch (RuntimeException e) {
                        failures.add("quality of " + m.point().label() + ": " + e.getMessage());
                        out.println("  quality FAILED: " + e.getMessage());
                    }
                }
            }
        }
        return results;
    }

    private List<ComparisonRow> readHfBaseline() {
        Path file = options.hfBaseline();
        if (file == null) {
            return List.of();
        }
        try {
            return CsvFiles.readComparison(file);
        } catch (IOException | RuntimeException e) {
            out.println("warning: ignoring " + file + ": " + e.getMessage());
            return List.of();
        }
    }

    private void writeOutputs(List<ResultRow> rows, List<ComparisonRow> hf, RunSummary summary, boolean withRunBlock)
            throws IOException {
        Map<String, String> blocks = new ReportTables(rows, hf, summary).blocks();
        if (hfNote != null) {
            blocks.computeIfPresent("hf", (name, table) -> table + "\n" + hfNote + "\n");
        }
        if (!withRunBlock) {
            blocks.remove("run");
        }
        Path reportFile = options.reportFile();
        String existing = Files.isRegularFile(reportFile)
                ? Files.readString(reportFile, StandardCharsets.UTF_8)
                : ReportFile.skeleton();
        String report = ReportFile.update(existing, blocks);
        if (withRunBlock) {
            CsvFiles.writeResults(options.csv(), rows);
            List<ComparisonRow> comparison = new ArrayList<>(rows.stream().map(ComparisonRow::of).toList());
            comparison.addAll(hf);
            CsvFiles.writeComparison(options.comparisonCsv(), comparison);
            out.println("results: " + options.csv() + ", " + options.comparisonCsv());
        }
        specbeam.report.AtomicFiles.write(reportFile, report);
        out.println("report: " + reportFile);
    }

    /** At most {@code count} items spread evenly over the list (the task's items are cut across files in order). */
    static <T> List<T> evenlySpaced(List<T> items, int count) {
        if (items.size() <= count) {
            return items;
        }
        List<T> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.add(items.get((int) ((long) i * items.size() / count)));
        }
        return out;
    }

    static boolean anySpeculative(List<GridPoint> points) {
        return points.stream().anyMatch(p -> p.mode().isSpeculative());
    }

    /** One progress line's worth of results. */
    static String summary(Measurement m) {
        SampleStats s = SampleStats.of(m.msPerCall());
        CounterTotals c = m.counters();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%8.1f ms/gen ± %4.1f%%  %6.0f tok/s",
                s.mean(), 100 * s.relError(), m.tokensPerSecond()));
        if (m.point().mode().isSpeculative()) {
            sb.append(String.format(Locale.ROOT, "  acceptance %.2f  steps/fwd %.2f", c.acceptanceRate(),
                    c.stepsPerTargetForward()));
        }
        return sb.toString();
    }

    private static String minutes(long nanos) {
        long s = Math.round(nanos / 1e9);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
