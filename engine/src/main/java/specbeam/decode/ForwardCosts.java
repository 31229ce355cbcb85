package specbeam.decode;

import java.util.Arrays;

/**
 * A model's measured forward time as a function of the positions a forward computes (rows x fed tokens):
 * an exponential moving average per size, seeded by a short calibration and refined by every forward the
 * engine runs. Sizes never measured are interpolated linearly between their measured neighbours (and
 * extrapolated from the largest two), which is how a forward's cost behaves on a CPU (and, past the size
 * where the device saturates, on a GPU).
 */
final class ForwardCosts {
    private static final double SMOOTHING = 0.1;
    private final double[] nanos;   // (max size + 1): EMA of nanoseconds per forward, NaN until measured

    ForwardCosts(int maxSize) {
        nanos = new double[maxSize + 1];
        Arrays.fill(nanos, Double.NaN);
    }

    /** Records one forward of {@code positions} computed positions. */
    void observe(long positions, long forwardNanos) {
        int size = (int) Math.min(positions, nanos.length - 1);
        if (size <= 0) {
            return;
        }
        double old = nanos[size];
        nanos[size] = Double.isNaN(old) ? forwardNanos : (1 - SMOOTHING) * old + SMOOTHING * forwardNanos;
    }

    boolean isEmpty() {
        for (double v : nanos) {
            if (!Double.isNaN(v)) {
                return false;
            }
        }
        return true;
    }

    /** Estimated nanoseconds of a forward computing {@code positions} positions; 0 before any measurement. */
    double nanos(int positions) {
        int size = Math.max(1, Math.min(positions, nanos.length - 1));
        if (!Double.isNaN(nanos[size])) {
            return nanos[size];
        }
        int below = size - 1;
        while (below > 0 && Double.isNaN(nanos[below])) {
            below--;
        }
        int above = size + 1;
        while (above < nanos.length && Double.isNaN(nanos[above])) {
            above++;
        }
        if (below > 0 && above < nanos.length) {
            return nanos[below] + (nanos[above] - nanos[below]) * (size - below) / (above - below);
        }
        if (below > 0) {   // beyond the largest measured size: extend the slope of the last two points
            int lower = below - 1;
            while (lower > 0 && Double.isNaN(nanos[lower])) {
                lower--;
            }
            double slope = lower > 0 ? Math.max(0, (nanos[below] - nanos[lower]) / (below - lower)) : nanos[below] / below;
            return nanos[below] + slope * (size - below);
        }
        if (above < nanos.length) {   // below the smallest measured size: a forward costs at least that much less
            return nanos[above] * Math.max(0.5, (double) size / above);
        }
        return 0;
    }
}
