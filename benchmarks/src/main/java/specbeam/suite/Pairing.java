package specbeam.suite;

import java.util.Locale;

/**
 * How many paired rounds a speculative point gets (see {@link RoundScheduler}).
 *
 * @param precision     stop once the speedup's 99.9% interval is within {@code ±precision} (0.05 = ±5%)
 * @param budgetSeconds ... or once this much wall time went into the point (forks, warm-up and rounds): no further
 *                      fork is started that would not fit
 * @param firstRounds   rounds of the first fork
 * @param minForkRounds fewest rounds worth starting another fork for (its start-up and warm-up cost several rounds)
 * @param maxRounds     rounds of one point at most
 */
public record Pairing(double precision, double budgetSeconds, int firstRounds, int minForkRounds, int maxRounds) {

    public Pairing {
        if (!(precision > 0 && precision < 1)) {
            throw new IllegalArgumentException("the target precision must be between 0 and 100%, got "
                    + String.format(Locale.ROOT, "%.3g%%", 100 * precision) + ": pass e.g. --precision 5");
        }
        if (!(budgetSeconds > 0)) {
            throw new IllegalArgumentException("the time budget per point must be positive, got " + budgetSeconds
                    + " s: pass e.g. --budget 60");
        }
        if (firstRounds < 2 || minForkRounds < 1 || maxRounds < firstRounds) {
            throw new IllegalArgumentException("rounds per point: need firstRounds >= 2, minForkRounds >= 1 and "
                    + "maxRounds >= firstRounds, got " + firstRounds + ", " + minForkRounds + ", " + maxRounds);
        }
    }

    public Pairing withPrecision(double p) {
        return new Pairing(p, budgetSeconds, firstRounds, minForkRounds, maxRounds);
    }

    public Pairing withBudgetSeconds(double s) {
        return new Pairing(precision, s, firstRounds, minForkRounds, maxRounds);
    }

    public Pairing withFirstRounds(int r) {
        return new Pairing(precision, budgetSeconds, r, Math.min(minForkRounds, r), Math.max(maxRounds, r));
    }

    /** E.g. "until ±5% or 60 s per point". */
    public String describe() {
        return String.format(Locale.ROOT, "until the speedup's 99.9%% interval is within ±%.0f%% or %.0f s per point",
                100 * precision, budgetSeconds);
    }
}
