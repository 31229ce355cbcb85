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
import specbeam.suite.PairBatch;
import specbeam.suite.PairedRound;
import specbeam.suite.PointFailedException;
import specbeam.suite.PointRunner;
import specbeam.suite.Profile;
import specbeam.tasks.ModelPair;

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
    private static final String PAIRED_INCLUDE = "^" + Pattern.quote(PairedDecodeBenchmark.class.getName() + ".generate") + "$";

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
        ChainedOptionsBuilder b = builder(INCLUDE, point);
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
        return measurement(point, execute(b, point));
    }

    /**
     * One fork of {@link PairedDecodeBenchmark}: {@code rounds} paired rounds after a warm-up of
     * {@link Profile#pairedWarmupRounds} rounds ({@code -wi} rounds where given); {@code -f} forks per run are
     * honoured. A round is one pass over the prompts per side, one generate call per iteration, so
     * {@code -w}/{@code -r} do not apply.
     */
    @Override
    public PairBatch runPair(GridPoint candidate, int rounds) {
        int calls = callsPerPass(candidate.batch());
        ChainedOptionsBuilder b = builder(PAIRED_INCLUDE, candidate);
        b.mode(org.openjdk.jmh.annotations.Mode.SingleShotTime);
        b.warmupIterations(2 * calls * user.getWarmupIterations().orElse(profile.pairedWarmupRounds(calls)));
        b.measurementIterations(2 * calls * rounds);
        b.warmupBatchSize(1).measurementBatchSize(1);
        if (!user.getForkCount().hasValue()) {
            b.forks(1);
        }
        return pairBatch(candidate, execute(b, candidate), calls);
    }

    private ChainedOptionsBuilder builder(String include, GridPoint point) {
        // the results are read as milliseconds whatever -tu says
        ChainedOptionsBuilder b = new OptionsBuilder().parent(user).include(include).shouldFailOnError(true)
                .timeUnit(java.util.concurrent.TimeUnit.MILLISECONDS);
        point.jmhParams().forEach(b::param);
        b.param("models", models.toString());
        if (!user.getParameter("jitWarmupSeconds").hasValue()) {
            b.param("jitWarmupSeconds", Double.toString(profile.jitWarmupSeconds()));
        }
        b.jvmArgsPrepend(forkJvmArgsPrepend(user).toArray(String[]::new));
        if (!user.verbosity().hasValue()) {
            b.verbosity(VerboseMode.SILENT);
        }
        return b;
    }

    private RunResult execute(ChainedOptionsBuilder b, GridPoint point) {
        Path scratchFile = null;
        if (wantsResultFile()) {
            scratchFile = scratch.resolve("jmh-run-" + System.nanoTime() + ".tmp");
            b.result(scratchFile.toString());
        }
        try {
            RunResult result = single(new Runner(b.build()).run(), point);
            runs.add(result);
            return result;
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

    /** The forks' leading JVM flags: the user's {@code -jvmArgsPrepend}, or {@link JitWarmUp}'s JIT flags. */
    static List<String> forkJvmArgsPrepend(Options user) {
        return new ArrayList<>(user.getJvmArgsPrepend().orElse(
                List.of(JitWarmUp.COMPILE_SOONER, JitWarmUp.COMPILE_IN_CALLER)));
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

    @Override
    public String pairedSettings() {
        int calls = callsPerPass(1);
        int wi = user.getWarmupIterations().orElse(profile.pairedWarmupRounds(calls));
        int forks = user.getForkCount().orElse(1);
        return "baseline and speculative point interleaved call by call in one JVM (" + forks + " fork(s) per run), "
                + "a round = one pass over the study prompts per side, " + wi + " warm-up round(s) per fork ("
                + wi * calls + " calls per side at batch 1)";
    }

    /** Generate calls in one pass over the study prompts at {@code batch} prompts per call. */
    private int callsPerPass(int batch) {
        int prompts = new ModelPair(models).prompts().size();
        return (prompts + batch - 1) / batch;
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
        Side side = new Side(point);
        for (BenchmarkResult fork : run.getBenchmarkResults()) {
            fork.getIterationResults().forEach(it -> side.add(List.of(it)));
        }
        return side.measurement(Double.NaN);
    }

    /**
     * Splits a paired run's iterations into rounds and the two sides' measurements. A round is {@code 2 x calls}
     * consecutive iterations of one fork, in which every prompt batch was decoded once by each side (see
     * {@link PairedRoundState}); its times are each side's mean ms per generate call over the round.
     *
     * @param calls generate calls per pass over the prompts
     * @throws PointFailedException when the iterations do not form such rounds
     */
    static PairBatch pairBatch(GridPoint candidate, RunResult run, int calls) {
        Side baseline = new Side(candidate.baseline());
        Side measured = new Side(candidate);
        List<PairedRound> rounds = new ArrayList<>();
        int forkIndex = 0;
        for (BenchmarkResult fork : run.getBenchmarkResults()) {
            List<IterationResult> its = new ArrayList<>(fork.getIterationResults());
            if (its.size() % (2 * calls) != 0) {
                throw new PointFailedException("a paired run of " + candidate.label() + " returned " + its.size()
                        + " iterations, not whole rounds of " + 2 * calls + ": let the suite set -wi and -i");
            }
            for (int i = 0; i < its.size(); i += 2 * calls) {
                List<IterationResult> round = its.subList(i, i + 2 * calls);
                List<IterationResult> b = new ArrayList<>();
                List<IterationResult> c = new ArrayList<>();
                long[] seen = new long[2 * calls];
                for (IterationResult it : round) {
                    boolean isCandidate = counter(it, "candidate") > 0.5;
                    int batch = (int) Math.round(counter(it, "batchIndex"));
                    if (batch < 0 || batch >= calls || seen[2 * batch + (isCandidate ? 1 : 0)]++ > 0) {
                        throw new PointFailedException("a paired run of " + candidate.label() + " did not decode every "
                                + "prompt once per side in round " + rounds.size() + ": let the suite set -wi and -i");
                    }
                    (isCandidate ? c : b).add(it);
                }
                double bMs = baseline.add(b);
                double cMs = measured.add(c);
                double seconds = round.stream().mapToDouble(JmhPointRunner::seconds).sum();
                double other = round.stream().mapToDouble(it -> counter(it, "otherCpu") * seconds(it)).sum() / seconds;
                double jit = round.stream().mapToDouble(it -> counter(it, "jitMillis")).sum();
                rounds.add(new PairedRound(forkIndex, rounds.size(), bMs, cMs, counter(round.get(0), "loadAvg1m"), other,
                        jit));
            }
            forkIndex++;
        }
        double load = rounds.stream().mapToDouble(PairedRound::loadAvg1m).filter(Double::isFinite).average()
                .orElse(Double.NaN);
        return new PairBatch(baseline.measurement(load), measured.measurement(load), rounds);
    }

    /** A JMH auxiliary counter of one iteration; NaN when absent. */
    private static double counter(IterationResult it, String name) {
        Result r = it.getSecondaryResults().get(name);
        return r == null ? Double.NaN : r.getScore();
    }

    /** Measured seconds of an iteration. */
    private static double seconds(IterationResult it) {
        return it.getPrimaryResult().getScore() * counter(it, "ops") / 1e3;
    }

    /** One side's iterations, gathered into a {@link Measurement}: one entry of ms per call per group added. */
    private static final class Side {
        private final GridPoint point;
        private final List<Double> msPerCall = new ArrayList<>();
        private final Map<String, Double> sums = new HashMap<>();
        private double seconds;

        Side(GridPoint point) {
            this.point = point;
        }

        /** Adds a group of iterations (one, or one side of a round); returns its mean ms per generate call. */
        double add(List<IterationResult> group) {
            double groupSeconds = 0;
            double calls = 0;
            for (IterationResult it : group) {
                it.getSecondaryResults().forEach((name, r) -> sums.merge(name, r.getScore(), Double::sum));
                groupSeconds += seconds(it);
                calls += counter(it, "calls");
            }
            double ms = groupSeconds * 1e3 / calls;
            msPerCall.add(ms);
            seconds += groupSeconds;
            return ms;
        }

        Measurement measurement(double load) {
            return new Measurement(point, msPerCall.stream().mapToDouble(Double::doubleValue).toArray(),
                    CounterTotals.fromMap(sums), seconds, load);
        }
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
