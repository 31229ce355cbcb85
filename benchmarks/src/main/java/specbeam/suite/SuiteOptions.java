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
 * @param scale      run {@link Profile#SCALE} on the widened pair (models/widen.py), into results/scale/
 * @param out        results directory
 * @param report     report to regenerate, or {@code null} for the default
 * @param models     model pair directory
 * @param list       print the grid and exit
 * @param help       print the usage and exit
 * @param reportOnly regenerate the report from the CSV already in {@code out}, measuring nothing
 * @param jmhArgs    the remaining arguments, for JMH's own parser
 * @param precision  paired rounds: stop at a speedup interval of ±this share (0.05 = ±5%), or {@code null} for
 *                   the profile's
 * @param budget     paired rounds: seconds per speculative point at most, or {@code null} for the profile's
 * @param costCurve  forward-cost curve for the projection to other hardware, or {@code null} for the bundled one
 * @param noHf       do not run models/hf_baseline.py after the grid (the report keeps the committed baseline)
 */
public record SuiteOptions(boolean quick, boolean scale, Path out, Path report, Path models, boolean list, boolean help,
                           boolean reportOnly, List<String> jmhArgs, Double precision, Double budget, Path costCurve,
                           boolean noHf) {
    public static final Path DEFAULT_OUT = Path.of("results");
    public static final Path SCALE_OUT = DEFAULT_OUT.resolve("scale");
    public static final Path SCALE_MODELS = Path.of("models", "pair-wide");
    public static final Path DEFAULT_REPORT = Path.of("REPORT.md");
    public static final String HF_BASELINE = "hf_baseline.csv";

    public static final String USAGE = """
            Usage: java -jar benchmarks.jar [suite options] [JMH options]

            Runs the decoding grid (mode x k x beam width, and batch 1/4/8 for throughput) with JMH, one JMH run
            per grid point, then computes output quality once per configuration, writes CSV files, JMH's own JSON
            (<out>/jmh-result.json), plots (<out>/plots/) and regenerates the tables of REPORT.md.

            Suite options:
              --quick          4-point grid with short iterations (under 2 minutes on 2 cores); writes
                               <out>/benchmark-quick.csv and, unless --report is given, <out>/REPORT-quick.md
              --scale          the scale profile: the batch-1 grid without sampling on the widened pair
                               (models/pair-wide, a 135M-parameter target with the bundled target's outputs:
                               build it with python3 models/widen.py), into results/scale/ and its REPORT.md
              --out DIR        results directory (default: results); the CSV is <out>/benchmark.csv, both
                               engines' shared columns go to <out>/comparison.csv
              --report FILE    report whose marked blocks are regenerated (default: REPORT.md)
              --models DIR     model pair directory with target/ and draft/ (default: models/pair)
              --report-only    regenerate the report from the CSV already in <out>, without measuring
              --precision PCT  speculative points run paired rounds against their baseline until the speedup's
                               99.9% interval is within +-PCT% (default 5) ...
              --budget SEC     ... or SEC seconds went into the point (default 75, --quick 10)
              --cost-curve FILE  forward-time curve (rows x tokens -> ms) for the report's projection to
                               other hardware (default: the bundled H200 curve; format in
                               benchmarks/cost-curves/README.md)
              --no-hf          do not time Hugging Face generate after the grid; by default, when
                               python3 ($SPECBEAM_PYTHON) has torch and transformers (not with --quick),
                               models/hf_baseline.py --serve and this engine alternate call by call,
                               writing <out>/hf_side_by_side.csv and <out>/hf_baseline.csv
              --list           print the grid points and exit
              --help           print this text and exit

            JMH options work as usual, e.g. -f 2 (forks), -wi 3 -w 2s (warm-up), -i 10 -r 2s (measurement),
            -rf csv -rff results/jmh.csv (JMH's result file in another format or place), -v NORMAL (JMH's own output),
            -jvmArgs "-Xmx2g". Grid axes are JMH parameters:
              -p mode=speculative,speculative_beam   keep the grid's points of these modes
              -p k=2,4  -p beamWidth=4  -p adaptive=true
                                                     replace these values on every point that uses them
              -p provider=cpu,cuda  -p batch=1,4  -p maxNewTokens=32
                                                     run every point with each value
            Points that differ only in an axis their mode ignores (greedy with beamWidth 4) are measured once,
            and every speculative point's target-only baseline is added. A speculative point and its baseline
            are measured in paired rounds (baseline, candidate, candidate, baseline, ... in one JVM) and the
            speedup is the geometric mean of the rounds' ratios. One side of a round is one pass over the
            study prompts; -i sets the rounds of a point's first fork, -wi the warm-up passes per side. Every
            round, with the machine's load during it, goes to <out>/rounds.csv.

            Examples:
              java -jar benchmarks.jar                         full grid (about 20 minutes on 2 cores)
              java -jar benchmarks.jar -p batch=1              the same without the throughput points
              java -jar benchmarks.jar --quick --out /tmp/sb   smoke run, leaves results/ and REPORT.md alone
              java -jar benchmarks.jar -p mode=speculative -p k=2,3,4,5 -i 10
            """;

    /** Parses the suite's options and keeps the rest, in order, for JMH. */
    public static SuiteOptions parse(String[] args) {
        boolean quick = false;
        boolean scale = false;
        boolean list = false;
        boolean help = false;
        boolean reportOnly = false;
        boolean noHf = false;
        Path out = null;
        Path report = null;
        Path models = null;
        Double precision = null;
        Double budget = null;
        Path costCurve = null;
        List<String> jmh = new ArrayList<>();
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String name = a.contains("=") && a.startsWith("--") ? a.substring(0, a.indexOf('=')) : a;
            switch (name) {
                case "--quick" -> quick = true;
                case "--scale" -> scale = true;
                case "--list" -> list = true;
                case "--help", "-h" -> help = true;
                case "--report-only" -> reportOnly = true;
                case "--no-hf" -> noHf = true;
                case "--precision", "--budget" -> {
                    String value = a.contains("=") ? a.substring(a.indexOf('=') + 1) : i + 1 < args.length ? args[++i] : null;
                    double v = positiveNumber(name, value);
                    if (name.equals("--precision")) {
                        if (v >= 100) {
                            throw new UsageException("--precision is a percentage below 100, got " + value
                                    + ", e.g. --precision 5");
                        }
                        precision = v / 100;
                    } else {
                        budget = v;
                    }
                }
                case "--out", "--report", "--models", "--cost-curve" -> {
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
                        case "--cost-curve" -> costCurve = p;
                        default -> models = p;
                    }
                }
                default -> {
                    if (a.startsWith("--")) {
                        throw new UsageException("unknown option " + a + " (suite options: --quick, --scale, --out, --report, "
                                + "--models, --cost-curve, --precision, --budget, --report-only, --no-hf, --list, --help; JMH options start "
                                + "with one dash)");
                    }
                    jmh.add(a);
                }
            }
        }
        if (quick && scale) {
            throw new UsageException("--quick and --scale are two profiles: give one of them");
        }
        if (scale && models == null && !help && !list && !Files.isDirectory(SCALE_MODELS)) {
            throw new UsageException(SCALE_MODELS + " not found: --scale runs on the widened pair; build it with "
                    + "`python3 models/widen.py` (or give --models DIR)");
        }
        out = out != null ? out : scale ? SCALE_OUT : DEFAULT_OUT;
        models = models != null ? models : scale ? SCALE_MODELS : ModelPair.DEFAULT_DIR;
        return new SuiteOptions(quick, scale, out, report, models, list, help, reportOnly, List.copyOf(jmh), precision,
                budget, costCurve, noHf);
    }

    private static double positiveNumber(String option, String value) {
        String example = option + (option.equals("--precision") ? " 5" : " 60");
        if (value == null || value.isBlank()) {
            throw new UsageException(option + " needs a value, e.g. " + example);
        }
        try {
            double v = Double.parseDouble(value.strip());
            if (v > 0 && Double.isFinite(v)) {
                return v;
            }
        } catch (NumberFormatException e) {
            // reported below
        }
        throw new UsageException(option + " needs a positive number, got '" + value + "', e.g. " + example);
    }

    /** The profile's paired-round settings with the user's --precision and --budget applied. */
    public Pairing pairing() {
        Pairing p = profile().pairing();
        if (precision != null) {
            p = p.withPrecision(precision);
        }
        if (budget != null) {
            p = p.withBudgetSeconds(budget);
        }
        return p;
    }

    private static String example(String option) {
        return switch (option) {
            case "--out" -> "results";
            case "--report" -> "REPORT.md";
            case "--cost-curve" -> "my_gpu.json";
            default -> "models/pair";
        };
    }

    public Profile profile() {
        return quick ? Profile.QUICK : scale ? Profile.SCALE : Profile.FULL;
    }

    public Path csv() {
        return out.resolve(quick ? "benchmark-quick.csv" : "benchmark.csv");
    }

    /** Every paired round of the run's speculative points, with the load during it. */
    public Path roundsCsv() {
        return out.resolve(quick ? "rounds-quick.csv" : "rounds.csv");
    }

    public Path comparisonCsv() {
        return out.resolve(quick ? "comparison-quick.csv" : "comparison.csv");
    }

    /** JMH's own result file of the whole grid. */
    public Path jmhResultFile() {
        return out.resolve(quick ? "jmh-result-quick.json" : "jmh-result.json");
    }

    /** Where the plots go (PNG and SVG). */
    public Path plotsDir() {
        return out.resolve(quick ? "plots-quick" : "plots");
    }

    public Path reportFile() {
        if (report != null) {
            return report;
        }
        return quick ? out.resolve("REPORT-quick.md") : scale ? out.resolve("REPORT.md") : DEFAULT_REPORT;
    }

    /** {@code <out>/hf_baseline.csv}, else {@code results/hf_baseline.csv}, else {@code null}. */
    public Path hfBaseline() {
        return firstFile(HF_BASELINE);
    }

    /** {@code <out>/hf_side_by_side.csv}, else {@code results/hf_side_by_side.csv}, else {@code null}. */
    public Path sideBySide() {
        return firstFile(HfSideBySide.FILE);
    }

    private Path firstFile(String name) {
        for (Path p : List.of(out.resolve(name), DEFAULT_OUT.resolve(name))) {
            if (Files.isRegularFile(p)) {
                return p;
            }
        }
        return null;
    }
}
