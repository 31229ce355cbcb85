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
 * Which side of a paired round this iteration measures, and the machine's load during it, reported per
 * iteration as JMH auxiliary counters ({@code candidate}, {@code loadAvg1m}, {@code otherCpu}).
 *
 * <p>Iterations, warm-up included, go in pairs; pair {@code p} runs the baseline first when
 * {@link PairedRound#baselineFirst(int) p is even} and the candidate first otherwise. The side is chosen and the
 * load read in {@code Level.Iteration} fixtures, outside the timed path (two small {@code /proc} reads per
 * iteration). JMH zeroes the counters after the iteration's set-up, so they are published in its tear-down, which
 * runs before JMH reads them.
 */
@State(Scope.Thread)
@AuxCounters(AuxCounters.Type.EVENTS)
public class PairedRoundState {
    /** 1 when this iteration ran the candidate, 0 for the baseline. */
    public long candidate;
    /** 1-minute load average at the start of the iteration. */
    public double loadAvg1m;
    /** Cores that other processes kept busy during the iteration, on average. */
    public double otherCpu;

    private int iteration; // counts warm-up and measurement iterations of this fork
    private boolean candidateSide; // the side of the current iteration
    private double startLoad;
    private CpuUsage start;

    @Setup(Level.Iteration)
    public void begin() {
        int pair = iteration / 2;
        boolean firstOfPair = iteration % 2 == 0;
        candidateSide = firstOfPair != PairedRound.baselineFirst(pair);
        iteration++;
        startLoad = RunMetadata.readLoadAverage();
        start = CpuUsage.now();
    }

    @TearDown(Level.Iteration)
    public void end() {
        otherCpu = start.otherCores(CpuUsage.now());
        candidate = candidateSide ? 1 : 0;
        loadAvg1m = startLoad;
    }

    boolean isCandidate() {
        return candidateSide;
    }
}
