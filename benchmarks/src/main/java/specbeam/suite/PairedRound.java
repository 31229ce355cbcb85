package specbeam.suite;

/**
 * One paired round: the baseline and the candidate each decode every study prompt once, interleaved in the same
 * JVM (or, for runners that cannot do that, in consecutive runs), so that both halves see the same load.
 *
 * @param fork          which fork (JMH run) of the point the round belongs to, from 0
 * @param round         index of the round within the point, from 0
 * @param baselineMs    the baseline's mean milliseconds per generate call in this round
 * @param candidateMs   the candidate's mean milliseconds per generate call in this round
 * @param loadAvg1m     1-minute load average at the start of the round (NaN where unknown)
 * @param otherCpu      CPU cores other processes kept busy during the round, on average (NaN where unknown): on
 *                      a 2-core machine 0.5 means a quarter of the machine was taken from the benchmark
 * @param jitMs         milliseconds the JIT compiled during the round (NaN where unknown); a round well after
 *                      warm-up shows a few at most
 */
public record PairedRound(int fork, int round, double baselineMs, double candidateMs, double loadAvg1m,
                          double otherCpu, double jitMs) {

    /** Share of the machine's cores other processes used, from which a round counts as taken under load. */
    public static final double UNDER_LOAD_SHARE = 0.25;

    /** {@code baselineMs / candidateMs}: above 1, the candidate was faster in this round. */
    public double ratio() {
        return baselineMs / candidateMs;
    }

    /** Whether other processes used at least {@link #UNDER_LOAD_SHARE} of the machine's cores during the round. */
    public boolean underLoad(int cores) {
        return otherCpu >= UNDER_LOAD_SHARE * cores;
    }

    /** The same round renumbered (rounds from several forks are numbered through). */
    public PairedRound renumbered(int fork, int round) {
        return new PairedRound(fork, round, baselineMs, candidateMs, loadAvg1m, otherCpu, jitMs);
    }

    /**
     * The order of the {@code r}-th back-to-back pair of a fork: baseline first for even r, candidate first for
     * odd r (A B, B A, A B, ...). Alternating the order cancels, over two pairs, a drift that is steady within a
     * pair (a JIT still compiling, load rising), which a fixed order would charge to the second side.
     */
    public static boolean baselineFirst(int r) {
        return r % 2 == 0;
    }
}
