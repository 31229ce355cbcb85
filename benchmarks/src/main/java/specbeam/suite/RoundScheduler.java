package specbeam.suite;

import specbeam.report.PairedRatio;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.LongSupplier;

/**
 * Measures a speculative point against its baseline in paired rounds, fork after fork, until the speedup is
 * known well enough or the point's time budget is spent.
 *
 * <p>The first fork runs {@link Pairing#firstRounds()} rounds. After each fork the speedup's interval is
 * computed over all rounds so far; if it is not yet within {@link Pairing#precision()}, the spread of the
 * log ratios gives the rounds still needed ({@link PairedRatio#roundsNeeded}), and the next fork runs that
 * many — fewer when the budget only affords fewer (judged from the last fork's time per round and its
 * start-up), none when not even {@link Pairing#minForkRounds()} fit.
 */
public final class RoundScheduler {
    private final PointRunner runner;
    private final Pairing pairing;
    private final LongSupplier nanoTime;

    public RoundScheduler(PointRunner runner, Pairing pairing) {
        this(runner, pairing, System::nanoTime);
    }

    /** @param nanoTime the clock (tests pass a fake one) */
    RoundScheduler(PointRunner runner, Pairing pairing, LongSupplier nanoTime) {
        this.runner = runner;
        this.pairing = pairing;
        this.nanoTime = nanoTime;
    }

    /**
     * @param candidate a speculative point; its baseline is {@code candidate.baseline()}
     * @throws PointFailedException when a fork fails (rounds of earlier forks are dropped with it)
     */
    public PairedMeasurement measure(GridPoint candidate) {
        long start = nanoTime.getAsLong();
        List<Measurement> baseline = new ArrayList<>();
        List<Measurement> measured = new ArrayList<>();
        List<PairedRound> rounds = new ArrayList<>();
        int next = pairing.firstRounds();
        int forks = 0;
        String stop;
        while (true) {
            long forkStart = nanoTime.getAsLong();
            PairBatch batch = runner.runPair(candidate, next);
            double forkSeconds = seconds(nanoTime.getAsLong() - forkStart);
            for (PairedRound r : batch.rounds()) {
                rounds.add(r.renumbered(forks, rounds.size()));
            }
            baseline.add(batch.baseline());
            measured.add(batch.candidate());
            forks++;

            PairedRatio ratio = ratio(rounds);
            if (ratio.isWithin(pairing.precision())) {
                stop = String.format(Locale.ROOT, "interval within ±%.0f%%", 100 * pairing.precision());
                break;
            }
            if (rounds.size() >= pairing.maxRounds()) {
                stop = "reached " + pairing.maxRounds() + " rounds";
                break;
            }
            double perRound = batch.secondsPerRound();
            double overhead = Math.max(0, forkSeconds - perRound * batch.rounds().size());
            double left = pairing.budgetSeconds() - seconds(nanoTime.getAsLong() - start);
            int affordable = Double.isFinite(perRound) && perRound > 0
                    ? (int) Math.floor((left - overhead) / perRound) : 0;
            int needed = PairedRatio.roundsNeeded(ratio.sdLog(), pairing.precision(), pairing.maxRounds()) - rounds.size();
            next = Math.min(Math.max(needed, pairing.minForkRounds()),
                    Math.min(affordable, pairing.maxRounds() - rounds.size()));
            if (next < pairing.minForkRounds()) {
                stop = String.format(Locale.ROOT, "time budget of %.0f s spent", pairing.budgetSeconds());
                break;
            }
        }
        return new PairedMeasurement(Measurement.merge(baseline), Measurement.merge(measured), List.copyOf(rounds),
                ratio(rounds), forks, seconds(nanoTime.getAsLong() - start), stop);
    }

    static PairedRatio ratio(List<PairedRound> rounds) {
        return PairedRatio.of(rounds.stream().mapToDouble(PairedRound::baselineMs).toArray(),
                rounds.stream().mapToDouble(PairedRound::candidateMs).toArray());
    }

    private static double seconds(long nanos) {
        return nanos / 1e9;
    }
}
