package specbeam.suite;

import specbeam.model.ExecutionProvider;
import specbeam.projection.CostCurve;
import specbeam.quality.QualityEvaluator;
import specbeam.quality.QualityResult;
import specbeam.quality.TextGenerator;
import specbeam.report.ComparisonRow;
import specbeam.report.CsvFiles;
import specbeam.report.PairedRatio;
import specbeam.report.ProjectionSection;
import specbeam.report.ReportFile;
import specbeam.report.ReportTables;
import specbeam.report.ResultRow;
import specbeam.report.ResultRows;
import specbeam.report.RoundRow;
import specbeam.report.RunMetadata;
import specbeam.report.RunSummary;
import specbeam.report.SampleStats;
import specbeam.report.SideBySideRow;
import specbeam.report.ThroughputSection;
import specbeam.report.plot.Plots;
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
 * One run of the suite, in three phases: (1) measure every grid point with JMH, progress on stdout: each
 * speculative point in paired rounds with its baseline ({@link RoundScheduler}), so that its speedup compares
 * times taken side by side, and the target-only points that no speculative point pairs with in one run each;
 * (2) quality of every measured point, outside the timed path; (3) CSV files and the report, each written
 * atomically, so an interrupted run leaves the previous files intact.
 */
public final class Suite {
    private final SuiteOptions options;
    private final Grid.Plan plan;
    private final ModelPair pair;
    private final PointRunner runner;
    private final Wiring wiring;
    private final PrintStream out;
    private final String command;
    private final Pairing pairing;
    private String hfNote;   // provenance line under the HF table, or null
    private String hfCarriedFrom;   // when the HF numbers shown were measured, if not in this run; null if they were

    public Suite(SuiteOptions options, Grid.Plan plan, ModelPair pair, PointRunner runner, Wiring wiring,
                 PrintStream out, String command, Pairing pairing) {
        this.options = options;
        this.pairing = pairing;
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

        // 1. Measure: each speculative point in paired rounds with its baseline (which is measured only there),
        //    the other target-only points alone.
        Set<GridPoint> paired = new LinkedHashSet<>();
        points.stream().filter(p -> pairsWithBaseline(p, points)).forEach(p -> paired.add(p.baseline()));
        RoundScheduler scheduler = new RoundScheduler(runner, pairing);
        Map<GridPoint, List<Measurement>> baselineSides = new LinkedHashMap<>();
        Map<GridPoint, Measurement> byPoint = new LinkedHashMap<>();
        List<PairedMeasurement> pairs = new ArrayList<>();
        List<String> failures = new ArrayList<>();
        List<GridPoint> units = points.stream().filter(p -> !paired.contains(p)).toList();
        for (int i = 0; i < units.size(); i++) {
            GridPoint p = units.get(i);
            boolean pair = pairsWithBaseline(p, points);
            String label = pair ? p.label() + " vs " + p.baseline().label() : p.label();
            out.printf(Locale.ROOT, "[%d/%d] %-40s ", i + 1, units.size(), label);
            out.flush();
            long pointStart = System.nanoTime();
            double pointLoad = RunMetadata.readLoadAverage();
            try {
                String line;
                if (pair) {
                    PairedMeasurement pm = scheduler.measure(p);
                    pairs.add(pm);
                    baselineSides.computeIfAbsent(p.baseline(), b -> new ArrayList<>()).add(pm.baseline());
                    byPoint.put(p, pm.candidate());
                    line = summary(pm, cores);
                } else {
                    Measurement m = runner.run(p).withLoadAverage(pointLoad);
                    byPoint.put(p, m);
                    line = summary(m);
                }
                out.println(line + String.format(Locale.ROOT, "  (%.0f s, load %.1f, %s elapsed)",
                        (System.nanoTime() - pointStart) / 1e9, pointLoad, minutes(System.nanoTime() - t0)));
            } catch (PointFailedException e) {
                failures.add(label + ": " + e.getMessage());
                out.println("FAILED: " + e.getMessage());
            }
        }
        baselineSides.forEach((b, sides) -> byPoint.put(b, Measurement.merge(sides)));
        List<Measurement> measured = points.stream().filter(byPoint::containsKey).map(byPoint::get).toList();

        if (measured.isEmpty()) {
            out.println("nothing was measured: " + options.csv() + " and " + options.reportFile() + " left unchanged");
            failures.forEach(f -> out.println("  not measured: " + f));
            return 1;
        }

        // 2. Quality, once per configuration, outside the timed path.
        Map<GridPoint, QualityResult> quality = quality(measured, failures);

        // 3. Hugging Face generate on the same prompts, alternating call by call with specbeam.
        String hfSkipped = wiring.measuresHfBaseline() ? HfBaseline.skipReason(options) : "not wired in this run";
        if (hfSkipped == null) {
            hfSkipped = HfSideBySide.measure(options, pair, points, wiring, out);
            if (hfSkipped != null) {
                out.println("[hf] " + hfSkipped + ": the report shows "
                        + (options.hfBaseline() == null ? "no baseline" : options.hfBaseline()));
            }
        } else {
            out.println("[hf] HF generate not measured in this run (" + hfSkipped + "): the report shows "
                    + (options.hfBaseline() == null ? "no baseline" : options.hfBaseline()));
        }
        hfNote = options.hfBaseline() == null ? null
                : HfBaseline.provenance(options.hfBaseline(), hfSkipped == null, hfSkipped);
        hfCarriedFrom = hfSkipped == null ? null : HfBaseline.measuredAt(options.hfBaseline());

        // 4. Write.
        List<String> parts = new ArrayList<>();
        if (pairs.size() < measured.size() - baselineSides.size()) {
            parts.add((pairs.isEmpty() ? "" : "target-only points without a speculative one: ") + runner.settings());
        }
        if (!pairs.isEmpty()) {
            parts.add("speculative points in paired rounds with their baseline: " + runner.pairedSettings() + ", "
                    + pairing.firstRounds() + " rounds in the first fork, then more " + pairing.describe());
        }
        String settings = String.join("; ", parts);
        RunMetadata meta = RunMetadata.collect(start, wiring.onnxRuntimeVersion(), wiring.modelFiles(pair.target()),
                anySpeculative(points) ? wiring.modelFiles(pair.draft()) : Map.of(), settings);
        Map<GridPoint, PairedMeasurement> speedups = new LinkedHashMap<>();
        pairs.forEach(pm -> speedups.put(pm.point(), pm));
        List<ResultRow> rows = ResultRows.build(measured, speedups, quality, meta);
        List<ComparisonRow> hf = readHfBaseline();
        RunSummary summary = new RunSummary(options.profile().name().toLowerCase(Locale.ROOT), command,
                (System.nanoTime() - t0) / 1e9, failures, plan.notes());
        // Written first, and even when empty, so that it always belongs to the results written next.
        CsvFiles.writeRounds(options.roundsCsv(), RoundRow.of(pairs, cores));
        out.println("rounds: " + options.roundsCsv());
        writeOutputs(rows, hf, summary, true);
        Path jmhFile = runner.writeResultFile(options.jmhResultFile());
        if (jmhFile != null) {
            out.println("JMH results: " + jmhFile);
        }
        out.printf(Locale.ROOT, "done in %s: %d of %d points measured%n", minutes(System.nanoTime() - t0),
                measured.size(), points.size());
        failures.forEach(f -> out.println("  not measured: " + f));
        List<PairedMeasurement> imprecise = pairs.stream().filter(pm -> !pm.speedup().isWithin(pairing.precision())).toList();
        if (!imprecise.isEmpty()) {
            double busiest = imprecise.stream().mapToDouble(PairedMeasurement::maxOtherCpu).filter(Double::isFinite)
                    .max().orElse(Double.NaN);
            out.printf(Locale.ROOT, "  note: %d of %d speedups did not get within ±%.0f%% in %.0f s%s: their intervals "
                            + "are wider (see the report); rerun on a quieter machine or raise --budget%n",
                    imprecise.size(), pairs.size(), 100 * pairing.precision(), pairing.budgetSeconds(),
                    Double.isFinite(busiest) ? String.format(Locale.ROOT,
                            " (other processes used up to %.1f of %d cores during their rounds)", busiest, cores) : "");
        }
        return failures.isEmpty() ? 0 : 1;
    }

    /** Regenerates the report from the CSV of an earlier run (the "run" block is left as it is). */
    public static void regenerateReport(SuiteOptions options, PrintStream out) throws IOException {
        if (!Files.isRegularFile(options.csv())) {
            throw new UsageException(options.csv() + " does not exist: run the grid first (or pass --out)");
        }
        List<ResultRow> rows = CsvFiles.readResults(options.csv());
        Suite s = new Suite(options, new Grid.Plan(List.of(), List.of()), null, null, null, out, "", null);
        s.hfNote = options.hfBaseline() == null ? null
                : HfBaseline.provenance(options.hfBaseline(), false, "report regenerated with --report-only");
        s.hfCarriedFrom = HfBaseline.measuredAt(options.hfBaseline());
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
        // a batch decodes the same tokens as one prompt at a time: its quality is that of its batch-1 point
        List<Measurement> evaluated = measured.stream()
                .filter(m -> m.point().batch() == 1 || !hasSingle(measured, m.point())).toList();
        int done = 0;
        for (ExecutionProvider provider : providers) {
            try (TextGenerator generator = wiring.openGenerator(pair, provider, withDraft)) {
                QualityEvaluator evaluator = new QualityEvaluator(generator, prompts, continuation, pair.nearTieTolerance());
                for (Measurement m : evaluated) {
                    if (m.point().provider() != provider) {
                        continue;
                    }
                    done++;
                    out.printf(Locale.ROOT, "[quality %d/%d] %s (%d prompts)%n", done, evaluated.size(), m.point().label(),
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
        return readIfThere(options.hfBaseline(), CsvFiles::readComparison);
    }

    /** {@code <out>/hf_side_by_side.csv} (else the default results directory's), or none. */
    private List<SideBySideRow> readSideBySide() {
        return readIfThere(options.sideBySide(), CsvFiles::readSideBySide);
    }

    /** A CSV's rows; none when {@code file} is null, and a warning when it cannot be read. */
    private <T> List<T> readIfThere(Path file, CsvReader<T> reader) {
        if (file == null) {
            return List.of();
        }
        try {
            return reader.read(file);
        } catch (IOException | RuntimeException e) {
            out.println("warning: ignoring " + file + ": " + e.getMessage());
            return List.of();
        }
    }

    private interface CsvReader<T> {
        List<T> read(Path file) throws IOException;
    }

    private void writeOutputs(List<ResultRow> rows, List<ComparisonRow> hf, RunSummary summary, boolean withRunBlock)
            throws IOException {
        // the latency tables and plots cover the run's smallest batch; the throughput block every batch size
        List<ResultRow> latency = Plots.latencyRows(rows);
        List<SideBySideRow> sideBySide = readSideBySide();
        Map<String, String> blocks = new ReportTables(latency, hf, summary, sideBySide, hfCarriedFrom).blocks();
        blocks.put("run", new ReportTables(rows, hf, summary, sideBySide, hfCarriedFrom).run());
        blocks.put("throughput", ThroughputSection.render(rows));
        CostCurve curve = CostCurve.load(options.costCurve());
        blocks.put("projection", ProjectionSection.render(rows, curve));
        Path reportDir = options.reportFile().toAbsolutePath().getParent();
        for (Plots.Plot plot : Plots.write(rows, curve, options.plotsDir())) {
            String link = reportDir.relativize(plot.png().toAbsolutePath()).toString().replace('\\', '/');
            blocks.merge(plot.block(), "", (text, none) -> "![" + plot.caption() + "](" + link + ")\n\n" + text);
        }
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
        out.println("plots: " + options.plotsDir());
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

    /** Whether a point is measured in paired rounds: a speculative point whose baseline is in the grid too. */
    static boolean pairsWithBaseline(GridPoint p, List<GridPoint> points) {
        return p.mode().isSpeculative() && points.contains(p.baseline());
    }

    /** Whether the same configuration was measured one prompt at a time as well. */
    private static boolean hasSingle(List<Measurement> measured, GridPoint p) {
        GridPoint single = p.withBatch(1);
        return measured.stream().anyMatch(m -> m.point().equals(single));
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

    /** One progress line's worth of a paired point: the speedup, its interval and the rounds behind it. */
    static String summary(PairedMeasurement pm, int cores) {
        PairedRatio r = pm.speedup();
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT,
                "%.2fx [%.2f, %.2f] (±%.1f%%, %s), %d rounds in %d fork(s), %s;  %.1f ms/gen vs %.1f (baseline)",
                r.speedup(), r.low(), r.high(), 100 * r.relHalfWidth(), r.verdict(), r.n(), pm.forks(), pm.stop(),
                SampleStats.of(pm.candidate().msPerCall()).mean(), SampleStats.of(pm.baseline().msPerCall()).mean()));
        long loaded = pm.roundsUnderLoad(cores);
        if (loaded > 0) {
            sb.append(String.format(Locale.ROOT, ", %d round(s) under load (other processes up to %.1f cores)",
                    loaded, pm.maxOtherCpu()));
        }
        return sb.toString();
    }

    private static String minutes(long nanos) {
        long s = Math.round(nanos / 1e9);
        return String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }
}
