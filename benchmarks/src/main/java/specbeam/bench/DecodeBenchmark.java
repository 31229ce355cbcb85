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
import specbeam.Engine;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.model.KvBackend;
import specbeam.suite.GridPoint;
import specbeam.tasks.ModelPair;
import specbeam.tasks.TaskItem;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Time to decode one prompt (or one batch of prompts) with one decoding configuration.
 *
 * <p>One operation is one {@code Engine.generate} call on the next {@code batch} prompts of
 * {@code <models>/target/tasks/prompts.jsonl}, taken round-robin, producing exactly {@code maxNewTokens} new
 * tokens per prompt (end-of-sequence is ignored until then, as in {@code models/hf_baseline.py}): every
 * operation does the same amount of decoding work whichever prompt it gets, so JMH's ms/op is the latency of
 * one generation. The round-robin index is advanced in the benchmark body, not in a fixture.
 *
 * <p>Pitfalls this class avoids: model loading and ONNX Runtime session creation happen once in
 * {@code @Setup(Level.Trial)}, never in the measured loop; no {@code Level.Invocation} fixture (its
 * timestamps would be inside every operation); the result is returned, so JMH consumes it; the engine's
 * counters ride along as {@code @AuxCounters} instead of being printed or timed in the decoding loop.
 *
 * <p>JMH cannot exclude parameter combinations. A combination that is not a canonical grid point (greedy
 * with {@code beamWidth=4}, {@code k} on a mode without a draft) fails its trial with a message instead of
 * being measured as if it meant something; {@code java -jar benchmarks.jar} builds a grid of canonical
 * points only and runs JMH once per point.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = DecodeBenchmark.FORKS, jvmArgsPrepend = {JitWarmUp.COMPILE_SOONER, JitWarmUp.COMPILE_IN_CALLER})
@Warmup(iterations = DecodeBenchmark.WARMUP_ITERATIONS, time = DecodeBenchmark.WARMUP_SECONDS)
@Measurement(iterations = DecodeBenchmark.MEASUREMENT_ITERATIONS, time = DecodeBenchmark.MEASUREMENT_SECONDS)
public class DecodeBenchmark extends DecodePointParams {
    // Sized so that the default grid (25 points, one fork each, ~21 s per point) and its quality pass stay
    // within 20 minutes on 2 cores; 7 iterations give a 99.9% interval of about +-2.3 standard deviations.
    public static final int FORKS = 1;
    public static final int WARMUP_ITERATIONS = 2;
    public static final int WARMUP_SECONDS = 2;
    public static final int MEASUREMENT_ITERATIONS = 7;
    public static final int MEASUREMENT_SECONDS = 2;

    /** greedy, beam, sampling, speculative, speculative_beam, speculative_sampling. */
    @Param("greedy")
    public String mode;

    /** Draft length / tree depth; 0 for modes without a draft. */
    @Param("0")
    public int k;

    private Engine engine;
    private boolean boundKv; // the target's KV cache is bound to ONNX Runtime (named in the CSV's kv_cache)
    private GenerationConfig config;
    private List<List<int[]>> batches; // [calls][batch] prompt token ids
    private int next; // index into batches of the next operation

    @Setup(Level.Trial)
    public void open() {
        GridPoint point = point(mode, k);
        if (!point.isCanonical()) {
            throw new IllegalArgumentException("not a meaningful grid point: " + point + " is the same as "
                    + point.canonical().label() + " (k is only used by speculative modes, beamWidth only by beam "
                    + "modes): pass -p k=0 / -p beamWidth=1 for such modes, or let 'java -jar benchmarks.jar' build the grid");
        }
        ModelPair pair = pair(point.mode().isSpeculative());
        config = point.config();
        engine = openEngine(pair, point, point.mode().isSpeculative());
        boundKv = KvBackend.BOUND.label().equals(engine.kvCacheUsed());
        batches = partition(pair.prompts(), batch);
        JitWarmUp.run(() -> batches.forEach(prompts -> engine.generate(prompts, config)), jitWarmupSeconds);
    }

    @Benchmark
    public GenerationResult generate(DecodeCounters counters) {
        GenerationResult result = engine.generate(batches.get(next), config);
        next = (next + 1) % batches.size();
        counters.add(result.stats(), boundKv);
        counters.ops++;
        return result;
    }

    @TearDown(Level.Trial)
    public void close() {
        if (engine != null) {
            engine.close();
        }
    }

    /**
     * Batches of exactly {@code batch} prompts, taking the prompts round-robin: with 5 prompts and batch 4 the
     * batches are [0 1 2 3], [4 0 1 2], [3 4 0 1], [2 3 4 0], [1 2 3 4]. Every call decodes the same number of rows
     * (a short last batch would make "batch 4" a mix of batch 4 and batch 1), and over a cycle every prompt is
     * decoded equally often.
     */
    static List<List<int[]>> partition(List<TaskItem> items, int batch) {
        int n = items.size();
        int calls = n / gcd(n, batch);   // lcm(n, batch) / batch
        List<List<int[]>> out = new ArrayList<>();
        for (int c = 0; c < calls; c++) {
            List<int[]> group = new ArrayList<>();
            for (int j = 0; j < batch; j++) {
                group.add(items.get((c * batch + j) % n).promptIds());
            }
            out.add(group);
        }
        return out;
    }

    /**
     * The first {@code ceil(n / batch)} calls of {@link #partition}: a pass in which every prompt is decoded at
     * least once and every call holds exactly {@code batch} prompts (what one paired round decodes per side).
     */
    static List<List<int[]>> onePass(List<TaskItem> items, int batch) {
        int calls = (items.size() + batch - 1) / batch;
        return new ArrayList<>(partition(items, batch).subList(0, calls));
    }

    private static int gcd(int a, int b) {
        return b == 0 ? a : gcd(b, a % b);
    }
}
