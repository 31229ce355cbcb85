package specbeam.suite;

import specbeam.tasks.ModelPair;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The suite's own command-line options; everything else is handed to JMH.
 *
 * @param quick      run {@link Profile#QUICK} instead of {@link Profile#FULL}
 * @param out        results directory
 * @param report     report to regenerate, or {@code null} for the default
 * @param models     model pair directory
 * @param list       print the grid and exit
 * @param help       print the usage and exit
 * @param reportOnly regenerate the report from the CSV already in {@code out}, measuring nothing
 * @param jmhArgs    the remaining arguments, for JMH's own parser
 * @param noHf       do not run models/hf_baseline.py after the grid (the report keeps the committed baseline)
 */
public record SuiteOptions(boolean quick, Path out, Path report, Path models, boolean list, boolean help,
                           boolean reportOnly, List<String> jmhArgs, boolean noHf) {
    public static final Path DEFAULT_OUT = Path.of("results");
    public static final Path DEFAULT_REPORT = Path.of("REPORT.md");
    public static final String HF_BASELINE = "hf_baseline.csv";

    public static final String USAGE = """
            Usage: java -jar benchmarks.jar [suite options] [JMH options]

            Runs the decoding grid (mode x k x beam width) with JMH, one JMH run per grid point, then computes
            output quality once per configuration, writes CSV files and regenerates the tables of REPORT.md.

            Suite options:
              --quick          4-point grid with short iterations (under 2 minutes on 2 cores); writes
                               <out>/benchmark-quick.csv and, unless --report is given, <out>/REPORT-quick.md
              --out DIR        results directory (default: results); the CSV is <out>/benchmark.csv, both
                               engines' shared columns go to <out>/comparison.csv
              --report FILE    report whose marked blocks are regenerated (default: REPORT.md)
              --models DIR     model pair directory with target/ and draft/ (default: models/pair)
              --report-only    regenerate the report from the CSV already in <out>, without measuring
              --no-hf          do not time Hugging Face generate after the grid; by default
                               models/hf_baseline.py runs when python3 ($SPECBEAM_PYTHON) has torch and
                               transformers (not with --quick), writing <out>/hf_baseline.csv
              --list           print the grid points and exit
              --help           print this text and exit

            JMH options work as usual, e.g. -f 2 (forks), -wi 3 -w 2s (warm-up), -i 10 -r 2s (measurement),
            -rf json -rff results/jmh.json (one result file for the whole grid), -v NORMAL (JMH's own output),
            -jvmArgs "-Xmx2g". Grid axes are JMH parameters:
              -p mode=speculative,speculative_beam   keep the grid's points of these modes
              -p k=2,4  -p beamWidth=4  -p adaptive=true
                                                     replace these values on every point that uses them
              -p provider=cpu,cuda  -p batch=1,4  -p maxNewTokens=32
                                                     run every point with each value
            Points that differ only in an axis their mode ignores (greedy with beamWidth 4) are measured once,
            and every speculative point's target-only baseline is added, so speedups compare two measurements
            of the same run.

            Examples:
              java -jar benchmarks.jar                         full grid (about 15 minutes on 2 cores)
              java -jar benchmarks.jar --quick --out /tmp/sb   smoke run, leaves results/ and REPORT.md alone
              java -jar benchmarks.jar -p mode=speculative -p k=2,3,4,5 -i 10
            """;

    /** Parses the suite's options and keeps the rest, in order, for JMH. */
    public static SuiteOptions parse(String[] args) {
        boolean quick = false;
        boolean list = false;
        boolean help = false;
        boolean reportOnly = false;
        boolean noHf = false;
        Path out = DEFAULT_OUT;
        Path report = null;
        Path models = ModelPair.DEFAULT_DIR;
        List<String> jmh = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String name = a.contains("=") && a.startsWith("--") ? a.substring(0, a.indexOf('=')) : a;
            switch (name) {
                case "--quick" -> quick = true;
                case "--list" -> list = true;
                case "--help", "-h" -> help = true;
                case "--report-only" -> reportOnly = true;
                case "--no-hf" -> noHf = true;
                case "--out", "--report", "--models" -> {
                    String value;
                    if (a.contains("=")) {
                        value = a.substring(a.indexOf('=') + 1);
                    } else if (i + 1 < args.length) {
                        value = args[++i];
                    } else {
                        throw new UsageException(name + " needs a value, e.g. " + name + " " + example(name));
                    }
                    if (value.isBlank()) {
                        throw new UsageException(name + " needs a non-empty value, e.g. " + name + " " + example(name));
                    }
                    Path p = Path.of(value);
                    switch (name) {
                        case "--out" -> out = p;
                        case "--report" -> report = p;
                        default -> models = p;
                    }
                }
                default -> {
                    if (a.startsWith("--")) {
                        throw new UsageException("unknown option " + a + " (suite options: --quick, --out, --report, "
                                + "--models, --report-only, --no-hf, --list, --help; JMH options start with one dash)");
                    }
                    jmh.add(a);
                }
            }
        }
        return new SuiteOptions(quick, out, report, models, list, help, reportOnly, List.copyOf(jmh), noHf);
    }

    private static String example(String option) {
        return switch (option) {
            case "--out" -> "results";
            case "--report" -> "REPORT.md";
            default -> "models/pair";
        };
    }

    public Profile profile() {
        return quick ? Profile.QUICK : Profile.FULL;
    }

    public Path csv() {
        return out.resolve(quick ? "benchmark-quick.csv" : "benchmark.csv");
    }

    public Path comparisonCsv() {
        return out.resolve(quick ? "comparison-quick.csv" : "comparison.csv");
    }

    public Path reportFile() {
        if (report != null) {
            return report;
        }
        return quick ? out.resolve("REPORT-quick.md") : DEFAULT_REPORT;
    }

    /** {@code <out>/hf_baseline.csv}, else {@code results/hf_baseline.csv}, else {@code null}. */
    public Path hfBaseline() {
        for (Path p : List.of(out.resolve(HF_BASELINE), DEFAULT_OUT.resolve(HF_BASELINE))) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }
}
