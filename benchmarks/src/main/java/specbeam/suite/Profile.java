package specbeam.suite;

import specbeam.decode.GenerationConfig;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;

import java.util.ArrayList;
import java.util.List;

/**
 * The two grids the suite knows. {@link #FULL} is what {@code java -jar benchmarks.jar} runs: 20 latency points
 * (batch 1: 15 speculative points, each measured in paired rounds against its baseline for at most 75 s, JIT warm-up of its forks included) and 8
 * throughput points (greedy, speculative, beam and speculative beam at their default k and B, the latter with
 * its hardware-aware tree, at batch 4 and 8, paired the same way), then quality of the batch-1 points on the five study prompts plus ten continuation
 * items; {@code -p batch=1} leaves the throughput points out. Paired rounds decode every prompt with both
 * sides, so a round costs what a generation of both does: the slowest speculative beam points (fixed k at
 * B = 8, k = 4 at B = 4) are left out of the default grid; {@code -p mode=speculative_beam -p beamWidth=8
 * -p k=2,3,4} measures them. {@link #QUICK} ({@code --quick}) is a four-point smoke run for CI that finishes
 * in about a minute or two. {@link #SCALE} ({@code --scale}) is the batch-1 grid without sampling, for the widened
 * pair (models/widen.py: a 135M-parameter target whose forward costs what that shape costs, with the bundled
 * target's outputs): greedy and speculative k = 2/4/6 and adaptive, beam B = 2/4/8 with speculative beam fixed
 * (B = 2: k = 2/3/4, B = 4: k = 2/3) and adaptive at each B. Its forwards are 15-50 ms, so a paired point
 * gets 60 s and the fork's JIT warm-up 45 s, like FULL's: with 20 s, one round of each speculative greedy point
 * still paid ~0.9 s of JIT compilation (rounds.csv of the first scale run).
 */
public enum Profile {
    FULL(0, 0, 0, 0, 10, new Pairing(0.05, 75, 10, 5, 80), 10, 45),
    QUICK(1, 1, 3, 1, 2, new Pairing(0.05, 10, 3, 2, 6), 1, 2),
    SCALE(0, 0, 0, 0, 5, new Pairing(0.05, 60, 6, 3, 40), 2, 45);

    /** JMH warm-up iterations/seconds and measurement iterations/seconds; 0 = keep DecodeBenchmark's annotations. */
    private final int warmupIterations;
    private final int warmupSeconds;
    private final int measurementIterations;
    private final int measurementSeconds;
    /** Continuation-task items used for the quality metrics (at most). */
    private final int qualityItems;
    /** Rounds per speculative point (paired with its baseline). */
    private final Pairing pairing;
    /**
     * Paired runs: JMH warm-up, in generate calls per side (whole passes over the prompts, rounded up), after the
     * fork's warm-up until the JIT is quiet ({@link #jitWarmupSeconds}).
     */
    private final int pairedWarmupCalls;
    /**
     * Every fork: the longest warm-up run until the JIT stops compiling, before JMH's ({@code specbeam.bench.JitWarmUp}).
     * The JIT's compiler threads take a core from ONNX Runtime's two threads while they work: in a fresh JVM the
     * first ~40 calls of beam B = 4 ran their forwards 1.3-1.6x slower than later ones, and with the one-pass
     * warm-up used before, a paired point measured mostly that (README, "Warm-up").
     */
    private final double jitWarmupSeconds;

    Profile(int warmupIterations, int warmupSeconds, int measurementIterations, int measurementSeconds,
            int qualityItems, Pairing pairing, int pairedWarmupCalls, double jitWarmupSeconds) {
        this.warmupIterations = warmupIterations;
        this.warmupSeconds = warmupSeconds;
        this.measurementIterations = measurementIterations;
        this.measurementSeconds = measurementSeconds;
        this.qualityItems = qualityItems;
        this.pairing = pairing;
        this.pairedWarmupCalls = pairedWarmupCalls;
        this.jitWarmupSeconds = jitWarmupSeconds;
    }

    public Pairing pairing() {
        return pairing;
    }

    public double jitWarmupSeconds() {
        return jitWarmupSeconds;
    }

    /** Warm-up rounds of a paired fork whose round makes {@code callsPerPass} generate calls per side. */
    public int pairedWarmupRounds(int callsPerPass) {
        return Math.max(1, (pairedWarmupCalls + callsPerPass - 1) / callsPerPass);
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
        for (int k : new int[] {2, 4, 6}) {
            p.add(point(Mode.SPECULATIVE, k, 1, false));
        }
        p.add(point(Mode.SPECULATIVE, 8, 1, true));
        for (int b : new int[] {2, 4, 8}) {
            p.add(point(Mode.BEAM, 0, b, false));
            int[] fixedK = b == 2 ? new int[] {2, 3, 4} : b == 4 ? new int[] {2, 3} : new int[0];
            for (int k : fixedK) {
                p.add(point(Mode.SPECULATIVE_BEAM, k, b, false));
            }
            p.add(point(Mode.SPECULATIVE_BEAM, 4, b, true));
        }
        if (this == SCALE) {
            return p;
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
            p.add(point(Mode.SPECULATIVE_BEAM, k, b, true).withBatch(batch));   // the hardware-aware tree: a
            // fixed tree pads every prompt's row to the largest tree of the batch (0.31-0.37x of beam search)
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
