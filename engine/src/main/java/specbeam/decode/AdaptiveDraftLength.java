package specbeam.decode;

/**
 * Chooses the draft length of the next round from the measured acceptance rate. With acceptance
 * {@code a}, a round with {@code d} proposals emits {@code (1 - a^(d+1)) / (1 - a)} tokens on average and
 * costs about {@code 1 + d * c} target-step units ({@code c}: the marginal cost of one more verified token
 * plus one draft step, relative to a target step). The length maximising tokens per cost, capped at the
 * configured {@code k}, is used; the estimate is an exponential moving average so it follows the text.
 */
final class AdaptiveDraftLength {
    /** Marginal cost of one more draft token (draft step + verification), in target-step units, on CPU. */
    static final double MARGINAL_COST = 0.2;
    private final int maxLength;
    private double acceptance = 0.7;

    AdaptiveDraftLength(int maxLength) {
        this.maxLength = maxLength;
    }

    int next() {
        int best = 1;
        double bestRate = 0;
        for (int d = 1; d <= maxLength; d++) {
            double expected = acceptance >= 0.999 ? d + 1 : (1 - Math.pow(acceptance, d + 1)) / (1 - acceptance);
            double rate = expected / (1 + d * MARGINAL_COST);
            if (rate > bestRate) {
                bestRate = rate;
                best = d;
            }
        }
        return best;
    }

    void observe(long proposed, long accepted) {
        if (proposed > 0) {
            acceptance = 0.7 * acceptance + 0.3 * ((double) accepted / proposed);
        }
    }
}
