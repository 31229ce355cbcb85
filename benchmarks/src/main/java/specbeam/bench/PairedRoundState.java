package specbeam.bench;

import org.openjdk.jmh.annotations.AuxCounters;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import specbeam.report.RunMetadata;
import specbeam.suite.PairedRound;

/**
 * Which side of a paired round and which prompt batch this iteration decodes, and the machine's load during it,
 * reported per iteration as JMH auxiliary counters ({@code candidate}, {@code batchIndex}, {@code loadAvg1m},
 * {@code otherCpu}).
 *
 * <p>One iteration is one generate call. A round is {@code 2 x calls} iterations: each prompt batch in turn,
 * decoded by both sides back to back, so the two halves of a round are a few hundred milliseconds apart at
 * most and load that lasts longer than that hits both alike. Which side goes first alternates from batch to
 * batch and from round to round ({@link PairedRound#baselineFirst(int)} of round + batch), so a drift within
 * a pair of calls is not charged to one side. Warm-up iterations follow the same schedule.
 *
 * <p>The side, the batch and the load are set in {@code Level.Iteration} fixtures, outside the timed path
 * (two small {@code /proc} reads per iteration). JMH zeroes the counters after the iteration's set-up, so they
 * are published in its tear-down, which runs before JMH reads them.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class PairedRoundState {
    /** 1 when this iteration ran the candidate, 0 for the baseline. */
    public long candidate;
    /** The prompt batch this iteration decoded (index into the benchmark's batches). */
    public long batchIndex;
    /** 1-minute load average at the start of the iteration. */
    public double loadAvg1m;
    /** Cores that other processes kept busy during the iteration, on average. */
    public double otherCpu;

    private int calls; // generate calls per pass over the prompts
    private int iteration; // counts warm-up and measurement iterations of this fork
    private boolean candidateSide; // the current iteration's side
    private int batch; // the current iteration's prompt batch
    private double startLoad;
    private CpuUsage start;

    @Setup(Level.Trial)
    public void open(PairedDecodeBenchmark benchmark) {
        calls = benchmark.callsPerPass();
    }

    @Setup(Level.Iteration)
    public void begin() {
        int round = iteration / (2 * calls);
        int within = iteration % (2 * calls);
        batch = within / 2;
        boolean firstOfPair = within % 2 == 0;
        candidateSide = firstOfPair != PairedRound.baselineFirst(round + batch);
        iteration++;
        startLoad = RunMetadata.readLoadAverage();
        start = CpuUsage.now();
    }

    @TearDown(Level.Iteration)
    public void end() {
        otherCpu = start.otherCores(CpuUsage.now());
        candidate = candidateSide ? 1 : 0;
        batchIndex = batch;
        loadAvg1m = startLoad;
    }

    boolean isCandidate() {
        return candidateSide;
    }

    int batch() {
        return batch;
    }
}
