package specbeam.suite;

/**
 * The timed result of one grid point.
 *
 * @param point            what was measured
 * @param msPerCall        per measured iteration, mean milliseconds per {@code Engine.generate} call
 * @param counters         engine counters summed over the measured iterations
 * @param measuredSeconds  total time of the measured iterations
 */
public record Measurement(GridPoint point, double[] msPerCall, CounterTotals counters, double measuredSeconds) {

    /** New tokens per second over the measured iterations. */
    public double tokensPerSecond() {
        return measuredSeconds > 0 ? counters.tokens() / measuredSeconds : Double.NaN;
    }
}
