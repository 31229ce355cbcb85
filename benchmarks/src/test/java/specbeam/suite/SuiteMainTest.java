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
        assertThat(text).contains("| speculative | 4 | 1 |  | greedy | 100.0 | 50.0 | 2.00x");
        assertThat(text).contains("speculative greedy over greedy, best k | ≥ 1.80x | 2.00x (k=4) | met");
        assertThat(text).contains("faster than HF `generate`: greedy | ≥ 4.00x | 5.00x");
        assertThat(text).contains("_HF baseline **not measured in this run** (not wired in this run): the numbers "
                + "are those of " + out.resolve("hf_baseline.csv") + " (date not recorded)._");
        for (ReportFile.Block b : ReportFile.BLOCKS) {
            assertThat(text).contains(ReportFile.begin(b.name()));
        }
        assertThat(stdout.toString(StandardCharsets.UTF_8)).contains("[1/4] greedy").contains("[4/4] speculative_beam k=3 B=4");
        try (Stream<Path> files = Files.list(out)) {
            assertThat(files).noneMatch(p -> p.toString().endsWith(".tmp"));
        }

        String before = text.replaceAll("(?s)<!-- specbeam:begin run -->.*<!-- specbeam:end run -->", "");
        wiring = new FakeWiring();
        assertThat(run("--quick")).isZero();
        String after = Files.readString(report).replaceAll("(?s)<!-- specbeam:begin run -->.*<!-- specbeam:end run -->", "");
        assertThat(after).as("regenerating is idempotent apart from the run facts").isEqualTo(before);
    }

    @Test
    void aFailingPointIsReportedAndTheOthersAreStillWritten() throws IOException {
        wiring = new FakeWiring("speculative k=4");
        assertThat(run("--quick")).isEqualTo(SuiteMain.FAILED);
        assertThat(Files.readAllLines(out.resolve("benchmark-quick.csv"))).hasSize(4);
        assertThat(Files.readString(out.resolve("REPORT-quick.md"))).contains("**Not measured:** speculative k=4: engine exploded");
    }

    @Test
    void reportOnlyRegeneratesFromTheCsvWithoutMeasuring() throws IOException {
        assertThat(run("--quick")).isZero();
        Path report = out.resolve("REPORT-quick.md");
        Files.writeString(report, Files.readString(report).replace("| speculative | 4 |", "| edited | 4 |"));
        wiring = new FakeWiring();
        assertThat(run("--quick", "--report-only")).as(err()).isZero();
        assertThat(wiring.measured).isEmpty();
        assertThat(Files.readString(report)).contains("| speculative | 4 |").doesNotContain("| edited |");
    }
}
