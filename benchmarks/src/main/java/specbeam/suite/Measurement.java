package specbeam.suite;

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

    /** New tokens per second over the measured iterations. */
    public double tokensPerSecond() {
        return measuredSeconds > 0 ? counters.tokens() / measuredSeconds : Double.NaN;
    }
}
