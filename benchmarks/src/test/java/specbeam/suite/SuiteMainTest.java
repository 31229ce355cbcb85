package specbeam.suite;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import specbeam.report.ReportFile;
import specbeam.tasks.TestPairs;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The command line: bad input gives one readable line and a non-zero status, and writes nothing. */
class SuiteMainTest {
    @TempDir
    Path dir;
    private Path pair;
    private Path out;
    private final ByteArrayOutputStream stdout = new ByteArrayOutputStream();
    private final ByteArrayOutputStream stderr = new ByteArrayOutputStream();
    private FakeWiring wiring = new FakeWiring();

    @BeforeEach
    void setUp() throws IOException {
        pair = TestPairs.write(dir.resolve("pair"));
        out = dir.resolve("results");
    }

    private int run(String... args) {
        List<String> all = new ArrayList<>(List.of("--models", pair.toString(), "--out", out.toString()));
        all.addAll(List.of(args));
        return SuiteMain.run(all.toArray(String[]::new), new PrintStream(stdout, true, StandardCharsets.UTF_8),
                new PrintStream(stderr, true, StandardCharsets.UTF_8), wiring);
    }

    private String err() {
        return stderr.toString(StandardCharsets.UTF_8);
    }

    private void assertRejected(int status, String message) {
        assertThat(status).isEqualTo(SuiteMain.USAGE);
        assertThat(err()).contains(message);
        assertThat(err().lines().count()).as("one line: %s", err()).isEqualTo(1);
        assertThat(err()).doesNotContain("Exception").doesNotContain("\tat ");
        assertThat(wiring.measured).isEmpty();
        assertThat(Files.exists(out.resolve("benchmark.csv"))).as("benchmark.csv written").isFalse();
        assertThat(Files.exists(out.resolve("benchmark-quick.csv"))).as("benchmark-quick.csv written").isFalse();
    }

    @Test
    void badPrecisionAndBudgetAreRejected() {
        assertRejected(run("--precision", "0"), "--precision needs a positive number, got '0'");
        stderr.reset();
        assertRejected(run("--precision", "150"), "--precision is a percentage below 100");
        stderr.reset();
        assertRejected(run("--budget", "soon"), "--budget needs a positive number, got 'soon', e.g. --budget 60");
        stderr.reset();
        assertRejected(run("--budget"), "--budget needs a value, e.g. --budget 60");
    }

    @Test
    void helpPrintsTheUsage() {
        assertThat(run("--help")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("--quick").contains("-p mode=");
    }

    @Test
    void unknownModeIsRejected() {
        assertRejected(run("--quick", "-p", "mode=nucleus"), "unknown mode 'nucleus'");
    }

    @Test
    void kBelowOneIsRejected() {
        assertRejected(run("--quick", "-p", "k=0"), "k >= 1");
    }

    @Test
    void missingModelsDirectoryIsRejected() {
        assertRejected(run("--quick", "--models", dir.resolve("no-such-pair").toString()), "does not exist");
    }

    @Test
    void unwritableResultsDirectoryIsRejected() throws IOException {
        Path file = Files.writeString(dir.resolve("plain-file"), "x");
        out = file.resolve("results");
        assertRejected(run("--quick"), "not writable");
    }

    @Test
    void unknownSuiteOptionAndBadJmhOptionAreRejected() {
        assertRejected(run("--fast"), "unknown option --fast");
        stderr.reset();
        assertRejected(run("-wi", "many"), "bad JMH option");
        stderr.reset();
        assertRejected(run("--out"), "--out needs a value");
    }

    @Test
    void brokenReportMarkersAreRejectedBeforeMeasuring() throws IOException {
        Path report = Files.writeString(dir.resolve("REPORT.md"), "text\n" + ReportFile.begin("speed") + "\n");
        assertRejected(run("--quick", "--report", report.toString()), "markers are broken");
        assertThat(Files.readString(report)).isEqualTo("text\n" + ReportFile.begin("speed") + "\n");
    }

    @Test
    void listPrintsTheGridWithoutMeasuring() {
        assertThat(run("--quick", "--list")).isZero();
        assertThat(stdout.toString(StandardCharsets.UTF_8).lines())
                .containsExactly("greedy", "speculative k=4", "beam B=4", "speculative_beam k=3 B=4");
        assertThat(wiring.measured).isEmpty();
    }

    @Test
    void quickRunWritesCsvComparisonAndReportKeepingHandWrittenText() throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("hf_baseline.csv"),
                "engine,mode,k,beam_width,batch,provider,max_new_tokens,latency_ms_mean,latency_ms_ci999,"
                        + "tokens_per_s,acceptance_rate,target_forwards_per_token,n\n"
                        + "hf,greedy,,1,1,cpu,64,500,10,128,,1.0,5\n");
        Path report = out.resolve("REPORT-quick.md");
        Files.writeString(report, "# Hand-written title\n\nMy analysis.\n\n" + ReportFile.begin("speedup") + "\nold\n"
                + ReportFile.end("speedup") + "\n\nClosing words.\n");

        assertThat(run("--quick")).as(err()).isZero();

        List<String> csv = Files.readAllLines(out.resolve("benchmark-quick.csv"));
        assertThat(csv).hasSize(5);
        assertThat(csv.get(2)).startsWith("specbeam,speculative,4,1,1,cpu,64,50.0,");
        assertThat(Files.readAllLines(out.resolve("comparison-quick.csv"))).hasSize(6).last().asString().startsWith("hf,greedy");
        String text = Files.readString(report);
        assertThat(text).startsWith("# Hand-written title\n\nMy analysis.\n\n").contains("\nClosing words.\n");
        assertThat(text).contains("| speculative | 4 | 1 |  | greedy | 100.0 | 50.0 | 2.00x | [2.00, 2.00] ±0.0% | 3 |");
        assertThat(text).contains("speculative greedy over greedy, best k | 4, 8 | ≥ 2.30x | 2.00x (k=4) | **missed**");
        assertThat(text).contains("faster than HF `generate`: greedy | 9 | ≥ 6.00x | 5.00x (greedy; HF committed at an "
                + "unrecorded date, not measured in this run) | not measured |");
        assertThat(text).contains("_HF baseline **not measured in this run** (not wired in this run): the numbers "
                + "are those of " + out.resolve("hf_baseline.csv") + " (date not recorded)._");
        for (ReportFile.Block b : ReportFile.BLOCKS) {
            assertThat(text).contains(ReportFile.begin(b.name()));
        }
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("[1/2] speculative k=4 vs greedy")
                .contains("[2/2] speculative_beam k=3 B=4 vs beam B=4");
        // Each speculative point ran paired rounds with its baseline, alternating which side goes first.
        assertThat(wiring.measured.subList(0, 6)).extracting(GridPoint::label).containsExactly(
                "greedy", "speculative k=4", "speculative k=4", "greedy", "greedy", "speculative k=4");
        List<String> rounds = Files.readAllLines(out.resolve("rounds-quick.csv"));
        assertThat(rounds.get(0)).isEqualTo("mode,k,beam_width,adaptive,batch,provider,max_new_tokens,baseline,fork,round,"
                + "baseline_ms,candidate_ms,ratio,load_avg_1m,other_cpu_cores,under_load,jit_ms");
        assertThat(rounds).hasSize(1 + 3 + 3);
        assertThat(rounds.get(1)).startsWith("speculative,4,1,false,1,cpu,64,greedy,0,0,100.0,50.0,2.0,");
        assertThat(rounds.get(2)).startsWith("speculative,4,1,false,1,cpu,64,greedy,0,1,100.0,50.0,2.0,");
        assertThat(csv.get(2)).contains(",2.0,2.0,3,1,faster,0,,");
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files).noneMatch(p -> p.toString().endsWith(".tmp"));
        }

        String before = withoutRunFacts(text);
        wiring = new FakeWiring();
        assertThat(run("--quick")).isZero();
        String after = withoutRunFacts(Files.readString(report));
        assertThat(after).as("regenerating is idempotent apart from the run facts").isEqualTo(before);
    }

    @Test
    void aRunWithoutHfMarksEveryHfRowNotMeasuredWithTheCommittedDateAndNeverMet() throws IOException {
        Files.createDirectories(out);
        String meta = ",2026-11-28T08:34:22Z,1.76-2.14,2.13.0+cpu,5.18.0\n";
        Files.writeString(out.resolve("hf_baseline.csv"),
                "engine,mode,k,beam_width,batch,provider,max_new_tokens,latency_ms_mean,latency_ms_ci999,tokens_per_s,"
                        + "acceptance_rate,target_forwards_per_token,n,measured_at,loadavg,torch,transformers\n"
                        + "hf,greedy,0,1,1,torch-cpu,64,900,10,70,,1.0,30" + meta);
        Files.writeString(out.resolve("hf_side_by_side.csv"),
                "hf_mode,k,beam_width,specbeam_point,pairs,hf_ms_mean,specbeam_ms_mean,speedup,speedup_low,speedup_high,"
                        + "measured_at,loadavg,torch,transformers\n"
                        + "greedy,0,1,greedy,30,900,100,9.0,8.5,9.5" + meta
                        + "beam,0,4,beam B=4,30,1000,120,8.3,8.0,8.6" + meta);

        assertThat(run("--quick")).as(err()).isZero();

        String text = Files.readString(out.resolve("REPORT-quick.md"));
        String targets = text.substring(text.indexOf(ReportFile.begin("targets")), text.indexOf(ReportFile.end("targets")));
        List<String> hfRows = targets.lines().filter(l -> l.contains("HF `generate`")).toList();
        assertThat(hfRows).hasSize(2).allSatisfy(row -> assertThat(row)
                .contains("committed 2026-11-28T08:34:22Z, not measured in this run").endsWith("| not measured |")
                .doesNotContain("| met |"));
        String hf = text.substring(text.indexOf(ReportFile.begin("hf")), text.indexOf(ReportFile.end("hf")));
        List<String> tableRows = hf.lines().filter(l -> l.startsWith("| greedy") || l.startsWith("| beam")).toList();
        assertThat(tableRows).hasSize(3).allSatisfy(row -> assertThat(row)
                .contains("committed 2026-11-28T08:34:22Z, not measured in this run"));
    }

    /**
     * The report without what differs between two runs of the same results: the run block, and the machine's live
     * 1-minute load average in the speed table's last column (read when each point starts).
     */
    private static String withoutRunFacts(String report) {
        String text = report.replaceAll("(?s)<!-- specbeam:begin run -->.*<!-- specbeam:end run -->", "");
        java.util.regex.Matcher speed = java.util.regex.Pattern
                .compile("(?s)<!-- specbeam:begin speed -->.*<!-- specbeam:end speed -->").matcher(text);
        assertThat(speed.find()).isTrue();
        String loadsMasked = speed.group().replaceAll("(?m)\\| [0-9.]+ \\|$", "| (load) |");
        return text.substring(0, speed.start()) + loadsMasked + text.substring(speed.end());
    }

    @Test
    void quickRunDrawsThePlotsAndProjectsWithTheBundledCurve() throws IOException {
        assertThat(run("--quick")).as(err()).isZero();

        Path plots = out.resolve("plots-quick");
        for (String name : List.of("speedup_vs_k", "steps_and_acceptance_vs_k", "latency_vs_quality", "projected_speedup")) {
            assertThat(plots.resolve(name + ".png")).isNotEmptyFile();
            assertThat(javax.imageio.ImageIO.read(plots.resolve(name + ".png").toFile())).as(name).isNotNull();
            assertThat(plots.resolve(name + ".svg")).isNotEmptyFile();
        }
        String report = Files.readString(out.resolve("REPORT-quick.md"));
        assertThat(report).contains("](plots-quick/speedup_vs_k.png)").contains("](plots-quick/projected_speedup.png)");
        assertThat(report).contains(ReportFile.begin("projection")).contains("## Projection to other hardware")
                .contains("Forward costs from `benchmarks/cost-curves/h200.json`: NVIDIA H200")
                .contains("| speculative k=4 | 2.00x | 3.00 | 5.00 | 4.00 | 1.00 |");
        assertThat(report).contains(ReportFile.begin("throughput"))
                .contains("No configuration was measured at more than one batch size");
    }

    @Test
    void throughputPointsAreMeasuredButTheirQualityIsTheBatchOnePoints() throws IOException {
        assertThat(run("--quick", "-p", "mode=greedy", "-p", "batch=1,4")).as(err()).isZero();
        assertThat(wiring.measured).extracting(GridPoint::label).containsExactly("greedy", "greedy batch=4");
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("[quality 1/1] greedy (");
        assertThat(out.resolve("plots-quick/throughput_vs_batch.png")).isNotEmptyFile();
        assertThat(Files.readString(out.resolve("REPORT-quick.md"))).contains("| greedy | 4 | 100.0 ± ");
    }

    @Test
    void aMissingCostCurveIsRejectedBeforeMeasuring() {
        Path missing = dir.resolve("my_gpu.json");
        assertRejected(run("--quick", "--cost-curve", missing.toString()), "cost curve " + missing + " does not exist");
    }

    @Test
    void aMalformedCostCurveIsRejectedBeforeMeasuringAndByReportOnly() throws IOException {
        Path bad = dir.resolve("bad.json");
        Files.writeString(bad, "{\"device\": \"x\", \"ms\": {\"llama/r1/q1\": 3}}");
        assertRejected(run("--quick", "--cost-curve", bad.toString()), "cost curve " + bad + " is malformed");
        stderr.reset();
        assertRejected(run("--quick", "--report-only", "--cost-curve", bad.toString()), "is malformed");
    }

    @Test
    void anotherCostCurveIsUsedWhenGiven() throws IOException {
        Path curve = dir.resolve("my_gpu.json");
        Files.writeString(curve, specbeam.projection.SyntheticCurve.JSON);
        assertThat(run("--quick", "--cost-curve", curve.toString())).as(err()).isZero();
        assertThat(Files.readString(out.resolve("REPORT-quick.md"))).contains("Forward costs from `" + curve
                + "`: Synthetic GPU");
    }

    @Test
    void aFailingPointIsReportedAndTheOthersAreStillWritten() throws IOException {
        wiring = new FakeWiring("speculative k=4");
        assertThat(run("--quick")).isEqualTo(SuiteMain.FAILED);
        // greedy was only to be measured in the failed point's rounds
        assertThat(Files.readAllLines(out.resolve("benchmark-quick.csv"))).hasSize(3);
        assertThat(Files.readString(out.resolve("REPORT-quick.md")))
                .contains("**Not measured:** speculative k=4 vs greedy: engine exploded");
    }

    @Test
    void targetOnlyPointsAreMeasuredAloneAndLeaveNoRounds() throws IOException {
        assertThat(run("--quick", "-p", "mode=greedy,beam")).as(err()).isZero();
        assertThat(wiring.measured).extracting(GridPoint::label).containsExactly("greedy", "beam B=4");
        assertThat(Files.readAllLines(out.resolve("rounds-quick.csv"))).hasSize(1).first().asString()
                .startsWith("mode,k,beam_width,");
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("[1/2] greedy").contains("[2/2] beam B=4");
    }

    @Test
    void reportOnlyRegeneratesFromTheCsvWithoutMeasuring() throws IOException {
        Files.createDirectories(out);
        Files.writeString(out.resolve("hf_baseline.csv"),
                "engine,mode,k,beam_width,batch,provider,max_new_tokens,latency_ms_mean,latency_ms_ci999,"
                        + "tokens_per_s,acceptance_rate,target_forwards_per_token,n\n"
                        + "hf,greedy,,1,1,cpu,64,500,10,128,,1.0,5\n");
        assertThat(run("--quick")).isZero();
        Path report = out.resolve("REPORT-quick.md");
        Files.writeString(report, Files.readString(report).replace("| speculative | 4 |", "| edited | 4 |"));
        wiring = new FakeWiring();
        assertThat(run("--quick", "--report-only")).as(err()).isZero();
        assertThat(wiring.measured).isEmpty();
        assertThat(Files.readString(report)).contains("| speculative | 4 |").doesNotContain("| edited |")
                .as("the HF table still says where its numbers come from")
                .contains("_HF baseline **not measured in this run** (report regenerated with --report-only)");
    }
}
