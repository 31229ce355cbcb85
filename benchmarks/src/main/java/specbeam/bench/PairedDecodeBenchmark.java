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

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * A speculative point and its target-only baseline in paired rounds: each prompt batch is decoded by the
 * baseline and by the candidate back to back, one generate call per iteration ({@code SingleShotTime}), and a
 * round is one such pass over all the study prompts (see {@link PairedRoundState} for the schedule). A round's
 * two halves therefore decode the same prompts, interleaved call by call, so load from other processes that
 * lasts longer than a call or two slows both halves alike and cancels in the round's ratio, and the prompts'
 * different costs do not add to the spread of the ratios.
 *
 * <p>Why one JVM for both sides: the baseline's and the candidate's calls then share one JIT state (compiled
 * during the same warm-up, which interleaves too), one engine — the same ONNX Runtime session for the target,
 * the same thread pool and memory — and the same fork-level luck (heap layout, CPU frequency), so nothing but the
 * decoding strategy differs between the two halves of a round. Measuring them in separate forks minutes apart,
 * as one {@link DecodeBenchmark} run per point would, lets the load of other processes land on one side of the
 * ratio only.
 *
 * <p>The parameters are those of {@link DecodeBenchmark} ({@link DecodePointParams}) and name the candidate. {@code java -jar benchmarks.jar}
 * sets the iteration counts: warm-up and measurement are whole rounds ({@code 2 x calls per pass} iterations).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Fork(value = 1, jvmArgsPrepend = {JitWarmUp.COMPILE_SOONER, JitWarmUp.COMPILE_IN_CALLER})
@Warmup(iterations = 10)
@Measurement(iterations = 80)
public class PairedDecodeBenchmark extends DecodePointParams {

    /** The speculative mode: speculative, speculative_beam, speculative_sampling. */
    @Param("speculative")
    public String mode;

    @Param("4")
    public int k;

    private Engine engine;
    private boolean boundKv; // the target's KV cache is bound to ONNX Runtime (named in the CSV's kv_cache)
    private GenerationConfig candidate;
    private GenerationConfig baseline;
    private List<List<int[]>> batches; // [calls][batch] prompt token ids: one round decodes each once per side

    @Setup(Level.Trial)
    public void open() {
        GridPoint point = point(mode, k);
        if (!point.mode().isSpeculative() || !point.isCanonical()) {
            throw new IllegalArgumentException("a paired run needs a canonical speculative point (its baseline is "
                    + "derived from it), got " + point.label() + ": use DecodeBenchmark for target-only modes");
        }
        ModelPair pair = pair(true);
        candidate = point.config();
        baseline = point.baseline().config();
        // One engine holds the target and the draft; its target-only strategies never touch the draft.
        engine = openEngine(pair, point, true);
        boundKv = KvBackend.BOUND.label().equals(engine.kvCacheUsed());
        batches = DecodeBenchmark.onePass(pair.prompts(), batch);
        // both sides, pass after pass, until the JIT is done with them (JMH's warm-up rounds follow)
        JitWarmUp.run(() -> {
            for (List<int[]> prompts : batches) {
                engine.generate(prompts, baseline);
                engine.generate(prompts, candidate);
            }
        }, jitWarmupSeconds);
    }

    @Benchmark
    public GenerationResult generate(PairedRoundState round, DecodeCounters counters) {
        GenerationResult result = engine.generate(batches.get(round.batch()), round.isCandidate() ? candidate : baseline);
        counters.add(result.stats(), boundKv);
        counters.ops++;
        return result;
    }

    /** Generate calls in one pass over the prompts. */
    int callsPerPass() {
        return batches.size();
    }

    @TearDown(Level.Trial)
    public void close() {
        if (engine != null) {
            engine.close();
        }
    }
}
