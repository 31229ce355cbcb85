package specbeam.bench;

import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;
import specbeam.Engine;
import specbeam.EngineOptions;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.suite.GridPoint;
import specbeam.tasks.ModelPair;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * A speculative point and its target-only baseline in paired rounds: iterations alternate between the two
 * (baseline, candidate, then candidate, baseline, ...; see {@link PairedRoundState}), so two consecutive
 * iterations form a round whose ratio is immune to whatever slowed the machine for longer than a round.
 *
 * <p>Why one JVM for both sides: the baseline's and the candidate's iterations then share one JIT state
 * (compiled during the same warm-up, which alternates too), one engine — the same ONNX Runtime session for the
 * target, the same thread pool and memory — and the same fork-level luck (heap layout, CPU frequency), so
 * nothing but the decoding strategy differs between the two halves of a round. Measuring them in separate
 * forks minutes apart, as {@link DecodeBenchmark} per point would, lets the load of other processes land on
 * one side of the ratio only.
 *
 * <p>One iteration is one operation ({@code SingleShotTime}), and one operation is one pass over all the study
 * prompts ({@code batch} prompts per {@code Engine.generate} call): every iteration of either side decodes the
 * same prompts, so a round compares equal work and the prompts' different costs do not add to the spread of the
 * ratios, and a round is as short as it can be (the shorter a round, the less load can change within it). The
 * parameters are those of {@link DecodeBenchmark} and name the candidate; {@code java -jar benchmarks.jar} sets
 * the iteration counts (warm-up and measurement iterations must be even: they go in pairs).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(1)
@Warmup(iterations = 2)
@Measurement(iterations = 12)
public class PairedDecodeBenchmark {

    /** The speculative mode: speculative, speculative_beam, speculative_sampling. */
    @Param("speculative")
    public String mode;

    @Param("4")
    public int k;

    @Param("1")
    public int beamWidth;

    @Param("false")
    public boolean adaptive;

    @Param("cpu")
    public String provider;

    @Param("1")
    public int batch;

    @Param("64")
    public int maxNewTokens;

    /** Model pair directory holding target/ and draft/. */
    @Param("models/pair")
    public String models;

    /** ONNX Runtime intra-op threads; 0 = one per available core. */
    @Param("0")
    public int threads;

    private Engine engine;
    private GenerationConfig candidate;
    private GenerationConfig baseline;
    private List<List<int[]>> batches; // [calls][batch] prompt token ids: one operation decodes all of them

    @Setup(Level.Trial)
    public void open() {
        GridPoint point = GridPoint.fromParams(Map.of("mode", mode, "k", Integer.toString(k),
                "beamWidth", Integer.toString(beamWidth), "adaptive", Boolean.toString(adaptive),
                "provider", provider, "batch", Integer.toString(batch), "maxNewTokens", Integer.toString(maxNewTokens)))
                .validate();
        if (!point.mode().isSpeculative() || !point.isCanonical()) {
            throw new IllegalArgumentException("a paired run needs a canonical speculative point (its baseline is "
                    + "derived from it), got " + point.label() + ": use DecodeBenchmark for target-only modes");
        }
        ModelPair pair = new ModelPair(Path.of(models)).check(true);
        candidate = point.config();
        baseline = point.baseline().config();
        // One engine holds the target and the draft; its target-only strategies never touch the draft.
        engine = Engine.open(new EngineOptions(pair.target(), pair.draft(), point.provider(),
                threads > 0 ? threads : EngineOptions.defaultThreads()));
        batches = DecodeBenchmark.partition(pair.prompts(), batch);
    }

    @Benchmark
    public void pass(PairedRoundState round, DecodeCounters counters, Blackhole bh) {
        GenerationConfig config = round.isCandidate() ? candidate : baseline;
        for (List<int[]> prompts : batches) {
            GenerationResult result = engine.generate(prompts, config);
            counters.add(result.stats());
            bh.consume(result);
        }
        counters.ops++;
    }

    @TearDown(Level.Trial)
    public void close() {
        if (engine != null) {
            engine.close();
        }
    }
}
