package specbeam.bench;

import org.openjdk.jmh.results.BenchmarkResult;
import org.openjdk.jmh.results.IterationResult;
import org.openjdk.jmh.results.Result;
import org.openjdk.jmh.results.RunResult;
import org.openjdk.jmh.results.format.ResultFormatFactory;
import org.openjdk.jmh.results.format.ResultFormatType;
import org.openjdk.jmh.runner.Runner;
import org.openjdk.jmh.runner.RunnerException;
import org.openjdk.jmh.runner.options.ChainedOptionsBuilder;
import org.openjdk.jmh.runner.options.Options;
import org.openjdk.jmh.runner.options.OptionsBuilder;
import org.openjdk.jmh.runner.options.TimeValue;
import org.openjdk.jmh.runner.options.VerboseMode;
import specbeam.report.AtomicFiles;
import specbeam.suite.CounterTotals;
import specbeam.suite.GridPoint;
import specbeam.suite.Measurement;
import specbeam.suite.PointFailedException;
import specbeam.suite.PointRunner;
import specbeam.suite.Profile;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * Runs {@link DecodeBenchmark} through JMH's {@link Runner} for one grid point at a time.
 *
 * <p>The user's JMH options ({@code -f}, {@code -wi}, {@code -i}, {@code -w}, {@code -r}, {@code -v},
 * {@code -jvmArgs}, ...) are the parent of every run and win over the profile's iteration settings; the grid
 * axes are always set here. JMH would overwrite a result file ({@code -rf}/{@code -rff}) on every run, so each
 * run writes to a scratch file and {@link #writeResultFile} writes all runs into one file at the end (JMH's JSON
 * under the results directory when the user asked for no result file).
 */
public final class JmhPointRunner implements PointRunner {
    private static final String INCLUDE = "^" + Pattern.quote(DecodeBenchmark.class.getName() + ".generate") + "$";

    private final Options user;
    private final Profile profile;
    private final Path models;
    private final Path scratch;
    private final List<RunResult> runs = new ArrayList<>();

    /**
     * @param user    JMH options parsed from the command line
     * @param profile iteration settings used where the user gave none
     * @param models  model pair directory, passed to the forks as an absolute path
     * @param scratch directory for JMH's per-run result files (deleted after each run)
     */
    public JmhPointRunner(Options user, Profile profile, Path models, Path scratch) {
        this.user = user;
        this.profile = profile;
        this.models = models.toAbsolutePath().normalize();
        this.scratch = scratch;
    }

    @Override
    public Measurement run(GridPoint point) {
        ChainedOptionsBuilder b = new OptionsBuilder().parent(user).include(INCLUDE).shouldFailOnError(true);
        point.jmhParams().forEach(b::param);
        b.param("models", models.toString());
        if (!user.verbosity().hasValue()) {
            b.verbosity(VerboseMode.SILENT);
        }
        if (profile.warmupIterations() > 0 && !user.getWarmupIterations().hasValue()) {
            b.warmupIterations(profile.warmupIterations());
        }
        if (profile.warmupSeconds() > 0 && !user.getWarmupTime().hasValue()) {
            b.warmupTime(TimeValue.seconds(profile.warmupSeconds()));
        }
        if (profile.measurementIterations() > 0 && !user.getMeasurementIterations().hasValue()) {
            b.measurementIterations(profile.measurementIterations());
        }
        if (profile.measurementSeconds() > 0 && !user.getMeasurementTime().hasValue()) {
            b.measurementTime(TimeValue.seconds(profile.measurementSeconds()));
        }
        Path scratchFile = null;
        if (wantsResultFile()) {
            scratchFile = scratch.resolve("jmh-run-" + System.nanoTime() + ".tmp");
            b.result(scratchFile.toString());
        }
        try {
            RunResult result = single(new Runner(b.build()).run(), point);
            runs.add(result);
            return measurement(point, result);
        } catch (RunnerException e) {
            throw new PointFailedException(rootMessage(e));
        } finally {
            if (scratchFile != null) {
                try {
                    Files.deleteIfExists(scratchFile);
                } catch (IOException ignored) {
                    // a leftover scratch file is harmless (*.tmp is git-ignored)
                }
            }
        }
    }

    @Override
    public String settings() {
        int wi = user.getWarmupIterations().orElse(profile.warmupIterations() > 0
                ? profile.warmupIterations() : DecodeBenchmark.WARMUP_ITERATIONS);
        TimeValue w = user.getWarmupTime().orElse(TimeValue.seconds(profile.warmupSeconds() > 0
                ? profile.warmupSeconds() : DecodeBenchmark.WARMUP_SECONDS));
        int i = user.getMeasurementIterations().orElse(profile.measurementIterations() > 0
                ? profile.measurementIterations() : DecodeBenchmark.MEASUREMENT_ITERATIONS);
        TimeValue r = user.getMeasurementTime().orElse(TimeValue.seconds(profile.measurementSeconds() > 0
                ? profile.measurementSeconds() : DecodeBenchmark.MEASUREMENT_SECONDS));
        int forks = user.getForkCount().orElse(DecodeBenchmark.FORKS);
        return wi + " x " + w + " warm-up, " + i + " x " + r + " measurement, " + forks + " fork(s) per point, average time";
    }

    private boolean wantsResultFile() {
        return user.getResultFormat().hasValue() || user.getResult().hasValue();
    }

    /**
     * Writes every run so far into one JMH result file (one array of all grid points, as JMH itself would write
     * for a single run): JSON at {@code defaultFile}, or the format and file the user chose with
     * {@code -rf}/{@code -rff} (JMH's defaults then: CSV, {@code jmh-result.<format>} beside {@code defaultFile}).
     *
     * @return the file written
     */
    @Override
    public Path writeResultFile(Path defaultFile) throws IOException {
        ResultFormatType type = wantsResultFile()
                ? user.getResultFormat().orElse(ResultFormatType.CSV)
                : ResultFormatType.JSON;
        Path file;
        if (user.getResult().hasValue()) {
            file = Path.of(user.getResult().get());
        } else if (wantsResultFile()) {
            file = defaultFile.resolveSibling("jmh-result." + type.name().toLowerCase(java.util.Locale.ROOT));
        } else {
            file = defaultFile;
        }
        ByteArrayOutputStream bytes = new ByteArrayOutputStream();
        try (PrintStream print = new PrintStream(bytes, true, StandardCharsets.UTF_8)) {
            ResultFormatFactory.getInstance(type, print).writeOut(runs);
        }
        AtomicFiles.write(file, bytes.toString(StandardCharsets.UTF_8));
        return file;
    }

    private static RunResult single(java.util.Collection<RunResult> results, GridPoint point) {
        if (results.size() != 1) {
            throw new PointFailedException("JMH returned " + results.size() + " results for " + point.label()
                    + " (expected 1): is the benchmark list in benchmarks.jar current? rebuild with 'mvn package'");
        }
        return results.iterator().next();
    }

    /** Per measured iteration: ms per generate call; counters summed over all measured iterations. */
    static Measurement measurement(GridPoint point, RunResult run) {
        List<Double> msPerCall = new ArrayList<>();
        Map<String, Double> sums = new HashMap<>();
        double seconds = 0;
        for (BenchmarkResult fork : run.getBenchmarkResults()) {
            for (IterationResult it : fork.getIterationResults()) {
                Map<String, Double> counters = new HashMap<>();
                for (Map.Entry<String, Result> e : it.getSecondaryResults().entrySet()) {
                    counters.put(e.getKey(), e.getValue().getScore());
                    sums.merge(e.getKey(), e.getValue().getScore(), Double::sum);
                }
                double msPerOp = it.getPrimaryResult().getScore();
                double ops = counters.getOrDefault("ops", Double.NaN);
                double calls = counters.getOrDefault("calls", Double.NaN);
                msPerCall.add(msPerOp * ops / calls);
                seconds += msPerOp * ops / 1e3;
            }
        }
        return new Measurement(point, msPerCall.stream().mapToDouble(Double::doubleValue).toArray(),
                CounterTotals.fromMap(sums), seconds, Double.NaN);
    }

    /** The most specific message in a JMH failure (the fork's exception travels as a cause or a suppressed one). */
    static String rootMessage(Throwable t) {
        Throwable deepest = t;
        List<Throwable> queue = new ArrayList<>(List.of(t));
        java.util.Set<Throwable> seen = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        while (!queue.isEmpty()) {
            Throwable x = queue.remove(0);
            if (!seen.add(x)) {
                continue;
            }
            if (x.getMessage() != null && !x.getMessage().isBlank() && x != t) {
                deepest = x;
            }
            if (x.getCause() != null) {
                queue.add(x.getCause());
            }
            queue.addAll(List.of(x.getSuppressed()));
        }
        String message = deepest.getMessage() == null ? deepest.getClass().getSimpleName() : deepest.getMessage();
        return message.lines().findFirst().orElse(message);
    }
}
