package specbeam.suite;

import org.openjdk.jmh.runner.options.CommandLineOptionException;
import org.openjdk.jmh.runner.options.CommandLineOptions;
import specbeam.model.ModelLoadException;
import specbeam.projection.CostCurve;
import specbeam.projection.CostCurveException;
import specbeam.report.ReportFile;
import specbeam.report.ReportFormatException;
import specbeam.tasks.ModelPair;
import specbeam.tasks.TaskFileException;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.FileSystemException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code java -jar benchmarks.jar}: the benchmark grid, its CSV files and the report.
 *
 * <p>Everything the user can get wrong (options, grid values, missing models or tasks, an unwritable results
 * directory, broken report markers) is checked before the first measurement and reported as one line with
 * exit status 2; nothing is written then.
 */
public final class SuiteMain {
    static final int OK = 0;
    static final int FAILED = 1;
    static final int USAGE = 2;

    private SuiteMain() {
    }

    public static void main(String[] args) {
        System.setProperty("java.awt.headless", "true");   // plots are drawn without a display
        System.exit(run(args, System.out, System.err, new DefaultWiring()));
    }

    static int run(String[] args, PrintStream out, PrintStream err, Wiring wiring) {
        try {
            SuiteOptions options = SuiteOptions.parse(args);
            if (options.help()) {
                out.print(SuiteOptions.USAGE);
                return OK;
            }
            if (options.reportOnly()) {
                checkReport(options.reportFile());
                CostCurve.load(options.costCurve());
                Suite.regenerateReport(options, out);
                return OK;
            }
            CommandLineOptions jmh = parseJmh(options.jmhArgs());
            Grid.Plan plan = plan(options.profile(), jmh);
            if (options.list()) {
                plan.points().forEach(p -> out.println(p.label()));
                plan.notes().forEach(n -> out.println("note: " + n));
                return OK;
            }
            CostCurve.load(options.costCurve());   // a bad curve fails now, not after the measurements
            ModelPair pair = new ModelPair(options.models()).check(Suite.anySpeculative(plan.points()));
            Path scratch = prepareOutputs(options);
            PointRunner runner = wiring.pointRunner(jmh, options.profile(), options.models(), scratch);
            Pairing pairing = options.pairing();
            if (jmh.getMeasurementIterations().hasValue()) {
                pairing = pairing.withFirstRounds(Math.max(2, jmh.getMeasurementIterations().get()));
            }
            return new Suite(options, plan, pair, runner, wiring, out, ("java -jar benchmarks.jar " + String.join(" ", args)).strip(),
                    pairing).run();
        } catch (UsageException | TaskFileException | CostCurveException e) {
            err.println("specbeam: " + e.getMessage());
            return USAGE;
        } catch (ReportFormatException e) {
            err.println("specbeam: the report's markers are broken (" + e.getMessage() + "); fix them by hand "
                    + "or pass --report <new file>");
            return USAGE;
        } catch (ModelLoadException e) {
            err.println("specbeam: " + e.getMessage());
            return FAILED;
        } catch (IOException e) {
            err.println("specbeam: cannot write results: " + e.getMessage());
            return FAILED;
        }
    }

    private static CommandLineOptions parseJmh(List<String> args) {
        try {
            CommandLineOptions jmh = new CommandLineOptions(args.toArray(String[]::new));
            if (jmh.shouldHelp() || jmh.shouldList() || jmh.shouldListWithParams() || jmh.shouldListProfilers()
                    || jmh.shouldListResultFormats()) {
                throw new UsageException("JMH's -h/-l/-lp/-lprof/-lrf are not available through the suite: use --help "
                        + "and --list, or 'java -cp benchmarks.jar org.openjdk.jmh.Main -h'");
            }
            if (!jmh.getIncludes().isEmpty()) {
                throw new UsageException("unexpected argument(s) " + jmh.getIncludes() + ": the suite runs one benchmark; "
                        + "select grid points with -p (see --help)");
            }
            return jmh;
        } catch (CommandLineOptionException e) {
            throw new UsageException("bad JMH option: " + e.getMessage());
        }
    }

    private static Grid.Plan plan(Profile profile, CommandLineOptions jmh) {
        Map<String, Collection<String>> params = new LinkedHashMap<>();
        for (Axis axis : Axis.values()) {
            org.openjdk.jmh.util.Optional<Collection<String>> values = jmh.getParameter(axis.param());
            if (values.hasValue()) {
                params.put(axis.param(), values.get());
            }
        }
        try {
            Grid.Plan plan = Grid.plan(profile, Grid.overrides(params));
            if (plan.points().isEmpty()) {
                throw new UsageException("the grid is empty: check the -p values");
            }
            return plan;
        } catch (IllegalArgumentException e) {
            throw new UsageException(e.getMessage());
        }
    }

    /** Creates the results directory and proves it writable; checks the report's markers. Returns a scratch dir. */
    private static Path prepareOutputs(SuiteOptions options) {
        Path out = options.out();
        try {
            Files.createDirectories(out);
            Path probe = Files.createTempFile(out, ".specbeam-write-check", ".tmp");
            Files.delete(probe);
        } catch (IOException | SecurityException e) {
            throw new UsageException("results directory " + out + " is not writable (" + describe(e)
                    + "): pass --out <writable dir>");
        }
        checkReport(options.reportFile());
        Path parent = options.reportFile().toAbsolutePath().getParent();
        if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
            throw new UsageException("cannot write the report " + options.reportFile() + ": its directory does not "
                    + "exist or is not writable; pass --report <file>");
        }
        return out;
    }

    private static void checkReport(Path report) {
        if (Files.isDirectory(report)) {
            throw new UsageException("the report " + report + " is a directory: pass --report <file>");
        }
        if (Files.isRegularFile(report)) {
            try {
                ReportFile.check(Files.readString(report, StandardCharsets.UTF_8));
            } catch (IOException e) {
                throw new UsageException("cannot read the report " + report + ": " + describe(e));
            }
        }
    }

    /** An I/O problem in words, without exception class names. */
    private static String describe(Exception e) {
        if (e instanceof AccessDeniedException) {
            return "permission denied";
        }
        if (e instanceof NoSuchFileException) {
            return "no such file or directory";
        }
        if (e instanceof FileAlreadyExistsException) {
            return "a file is in the way";
        }
        if (e instanceof FileSystemException f && f.getReason() != null) {
            return f.getReason();
        }
        return e.getMessage() != null ? e.getMessage() : "I/O error";
    }
}
