package specbeam.suite;

import java.util.Arrays;
import java.util.List;
import java.util.Objects;
import java.util.stream.DoubleStream;

/**
 * The timed result of one grid point.
 *
 * @param point            what was measured
 * @param msPerCall        per measured iteration, mean milliseconds per {@code Engine.generate} call
 * @param counters         engine counters summed over the measured iterations
 * @param measuredSeconds  total time of the measured iterations
 * @param loadAverage      1-minute load average when the point started (NaN where unknown): other processes
 *                         competing for the cores slow a point down and widen its interval
 */
public record Measurement(GridPoint point, double[] msPerCall, CounterTotals counters, double measuredSeconds,
                          double loadAverage) {

    /** The same measurement with the load average seen when it started. */
    public Measurement withLoadAverage(double load) {
        return new Measurement(point, msPerCall, counters, measuredSeconds, load);
    }

    /**
     * Several measurements of one point as one: iterations concatenated, counters and seconds added, load
     * averaged (over the parts that know it).
     *
     * @throws IllegalArgumentException for no parts or parts of different points
     */
    public static Measurement merge(List<Measurement> parts) {
        if (parts.isEmpty()) {
            throw new IllegalArgumentException("nothing to merge");
        }
        GridPoint point = parts.get(0).point();
        double[] ms = new double[0];
        CounterTotals counters = parts.get(0).counters();
        double seconds = 0;
        for (int i = 0; i < parts.size(); i++) {
            Measurement m = parts.get(i);
            if (!Objects.equals(m.point(), point)) {
                throw new IllegalArgumentException("cannot merge " + m.point().label() + " into " + point.label());
            }
            ms = DoubleStream.concat(Arrays.stream(ms), Arrays.stream(m.msPerCall())).toArray();
            if (i > 0) {
                counters = counters.plus(m.counters());
            }
            seconds += m.measuredSeconds();
        }
        double load = parts.stream().mapToDouble(Measurement::loadAverage).filter(Double::isFinite).average()
                .orElse(Double.NaN);
        return new Measurement(point, ms, counters, seconds, load);
    }

    /** New tokens per second over the measured iterations. */
    public double tokensPerSecond() {
        return measuredSeconds > 0 ? counters.tokens() / measuredSeconds : Double.NaN;
    }
}
