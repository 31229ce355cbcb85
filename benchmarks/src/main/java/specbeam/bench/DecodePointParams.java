package specbeam.bench;

import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.State;
import specbeam.Engine;
import specbeam.EngineOptions;
import specbeam.suite.GridPoint;
import specbeam.tasks.ModelPair;

import java.nio.file.Path;
import java.util.Map;

/**
 * The parameters every decoding benchmark takes besides its mode and k (whose defaults differ: see
 * {@link DecodeBenchmark} and {@link PairedDecodeBenchmark}), and the grid point and engine they name. JMH reads
 * {@code @Param} fields of superclasses, so {@code -p beamWidth=4} reaches both benchmarks alike.
 */
@State(Scope.Benchmark)
public abstract class DecodePointParams {

    /** Beams kept; 1 for modes without beams. */
    @Param("1")
    public int beamWidth;

    /** Speculative modes: choose the draft length each round from measured costs, at most k. */
    @Param("false")
    public boolean adaptive;

    /** cpu or cuda (the engine falls back to cpu, and says so, when CUDA cannot load). */
    @Param("cpu")
    public String provider;

    /** Prompts per generate call. */
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

    /** The longest warm-up before JMH's, run until the JIT stops compiling ({@link JitWarmUp}); 0 = none. */
    @Param("45")
    public double jitWarmupSeconds;

    /** The validated grid point of these parameters with the subclass's mode and k. */
    GridPoint point(String mode, int k) {
        return GridPoint.fromParams(Map.of("mode", mode, "k", Integer.toString(k),
                "beamWidth", Integer.toString(beamWidth), "adaptive", Boolean.toString(adaptive),
                "provider", provider, "batch", Integer.toString(batch), "maxNewTokens", Integer.toString(maxNewTokens)))
                .validate();
    }

    /** The pair under {@link #models}, checked for a draft when {@code withDraft}. */
    ModelPair pair(boolean withDraft) {
        return new ModelPair(Path.of(models)).check(withDraft);
    }

    /** An engine on the pair's target (and its draft when {@code withDraft}) with the point's provider. */
    Engine openEngine(ModelPair pair, GridPoint point, boolean withDraft) {
        return Engine.open(new EngineOptions(pair.target(), withDraft ? pair.draft() : null, point.provider(),
                threads > 0 ? threads : EngineOptions.defaultThreads()));
    }
}
