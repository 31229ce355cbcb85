package specbeam.suite;

import specbeam.decode.GenerationConfig;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;

import java.util.ArrayList;
import java.util.List;

/**
 * The two grids the suite knows. {@link #FULL} is what {@code java -jar benchmarks.jar} runs: 25 latency points
 * (batch 1) and 8 throughput points (greedy, speculative, beam and speculative beam at their default k and B, at
 * batch 4 and 8) with {@code DecodeBenchmark}'s iteration counts (about 9 + 7 minutes of JMH on 2 CPU cores: a
 * speculative beam call at batch 8 takes ~20 s, so its nine iterations alone take 3 minutes) and
 * quality of the batch-1 points on the five study prompts plus ten continuation items (a few minutes, most of it
 * the slow wide-beam points); {@code -p batch=1} leaves the throughput points out. {@link #QUICK} ({@code --quick}) is a four-point smoke run for CI
 * that finishes in about a minute.
 */
public enum Profile {
    FULL(0, 0, 0, 0, 10),
    QUICK(1, 1, 3, 1, 2);

    /** JMH warm-up iterations/seconds and measurement iterations/seconds; 0 = keep DecodeBenchmark's annotations. */
    private final int warmupIterations;
    private final int warmupSeconds;
    private final int measurementIterations;
    private final int measurementSeconds;
    /** Continuation-task items used for the quality metrics (at most). */
    private final int qualityItems;

    Profile(int warmupIterations, int warmupSeconds, int measurementIterations, int measurementSeconds,
            int qualityItems) {
        this.warmupIterations = warmupIterations;
        this.warmupSeconds = warmupSeconds;
        this.measurementIterations = measurementIterations;
        this.measurementSeconds = measurementSeconds;
        this.qualityItems = qualityItems;
    }

    public int warmupIterations() {
        return warmupIterations;
    }

    public int warmupSeconds() {
        return warmupSeconds;
    }

    public int measurementIterations() {
        return measurementIterations;
    }

    public int measurementSeconds() {
        return measurementSeconds;
    }

    public int qualityItems() {
        return qualityItems;
    }

    /** The profile's points, canonical, in run order. */
    public List<GridPoint> points() {
        List<GridPoint> p = new ArrayList<>();
        if (this == QUICK) {
            p.add(point(Mode.GREEDY, 0, 1, false));
            p.add(point(Mode.SPECULATIVE, 4, 1, false));
            p.add(point(Mode.BEAM, 0, 4, false));
            p.add(point(Mode.SPECULATIVE_BEAM, 3, 4, false));
            return p;
        }
        p.add(point(Mode.GREEDY, 0, 1, false));
        for (int k : new int[] {2, 4, 6, 8}) {
            p.add(point(Mode.SPECULATIVE, k, 1, false));
        }
        p.add(point(Mode.SPECULATIVE, 8, 1, true));
        for (int b : new int[] {2, 4, 8}) {
            p.add(point(Mode.BEAM, 0, b, false));
            for (int k : new int[] {2, 3, 4}) {
                p.add(point(Mode.SPECULATIVE_BEAM, k, b, false));
            }
            p.add(point(Mode.SPECULATIVE_BEAM, 4, b, true));
        }
        p.add(point(Mode.SAMPLING, 0, 1, false));
        for (int k : new int[] {2, 4}) {
            p.add(point(Mode.SPECULATIVE_SAMPLING, k, 1, false));
        }
        p.add(point(Mode.SPECULATIVE_SAMPLING, 4, 1, true));
        // throughput: the four main strategies at their defaults, several prompts per generate call
        for (int batch : THROUGHPUT_BATCHES) {
            int k = GenerationConfig.DEFAULT_K;
            int b = GenerationConfig.DEFAULT_BEAM_WIDTH;
            p.add(point(Mode.GREEDY, 0, 1, false).withBatch(batch));
            p.add(point(Mode.SPECULATIVE, k, 1, false).withBatch(batch));
            p.add(point(Mode.BEAM, 0, b, false).withBatch(batch));
            p.add(point(Mode.SPECULATIVE_BEAM, k, b, false).withBatch(batch));
        }
        return p;
    }

    /** Batch sizes (prompts per generate call) of the full grid's throughput points, besides batch 1. */
    static final int[] THROUGHPUT_BATCHES = {4, 8};

    /** A point of this profile's fixed settings (CPU, batch 1, the engine's default max new tokens). */
    static GridPoint point(Mode mode, int k, int beamWidth, boolean adaptive) {
        return new GridPoint(mode, k, beamWidth, adaptive, ExecutionProvider.CPU, 1,
                GenerationConfig.DEFAULT_MAX_NEW_TOKENS).canonical();
    }
}
