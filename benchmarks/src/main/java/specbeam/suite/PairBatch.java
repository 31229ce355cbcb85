package specbeam.suite;

import java.util.List;

/**
 * What one paired run (one JMH fork, or one batch of alternating runs) measured: the rounds, and each side's
 * measurement over those rounds (per-round milliseconds, engine counters).
 *
 * @param baseline  the baseline's side of the rounds
 * @param candidate the candidate's side
 * @param rounds    the rounds, in order, numbered from 0 within this batch
 */
public record PairBatch(Measurement baseline, Measurement candidate, List<PairedRound> rounds) {

    /** Measured seconds of one round, both sides (excludes the fork's start-up and warm-up). */
    public double secondsPerRound() {
        return rounds.isEmpty() ? Double.NaN
                : (baseline.measuredSeconds() + candidate.measuredSeconds()) / rounds.size();
    }
}
