package specbeam.suite;

import specbeam.report.PairedRatio;

import java.util.List;

/**
 * A speculative point measured in paired rounds against its target-only baseline.
 *
 * @param baseline  the baseline's side of every round (its absolute ms per generation)
 * @param candidate the speculative point's side
 * @param rounds    every round, numbered through the forks
 * @param speedup   the paired speedup over {@code rounds}
 * @param forks     JMH runs (forks) the rounds came from
 * @param seconds   wall time spent on the point, start-up and warm-up included
 * @param stop      why no more rounds were run, in words
 */
public record PairedMeasurement(Measurement baseline, Measurement candidate, List<PairedRound> rounds,
                                PairedRatio speedup, int forks, double seconds, String stop) {

    public GridPoint point() {
        return candidate.point();
    }

    /** Rounds during which other processes used a sizeable share of the cores (see {@link PairedRound#underLoad}). */
    public long roundsUnderLoad(int cores) {
        return rounds.stream().filter(r -> r.underLoad(cores)).count();
    }

    /** The largest CPU use of other processes over the rounds, in cores (NaN where unknown). */
    public double maxOtherCpu() {
        return rounds.stream().mapToDouble(PairedRound::otherCpu).filter(Double::isFinite).max().orElse(Double.NaN);
    }
}
