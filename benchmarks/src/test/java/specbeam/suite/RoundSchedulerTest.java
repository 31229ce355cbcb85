package specbeam.suite;

import org.junit.jupiter.api.Test;
import specbeam.decode.Mode;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class RoundSchedulerTest {
    private static final GridPoint CANDIDATE = Profile.point(Mode.SPECULATIVE, 4, 1, false);
    private static final CounterTotals NO_COUNTERS = CounterTotals.fromMap(java.util.Map.of());

    /**
     * A runner that hands out rounds with the given ratios (baseline 200 ms) and advances a fake clock: each
     * fork costs {@code startSeconds} plus the rounds' measured time.
     */
    private static final class ScriptedRunner implements PointRunner {
        final Deque<Double> ratios;
        final List<Integer> forks = new ArrayList<>();
        final double startSeconds;
        long now;

        ScriptedRunner(double startSeconds, double... ratios) {
            this.startSeconds = startSeconds;
            this.ratios = new ArrayDeque<>();
            for (double r : ratios) {
                this.ratios.add(r);
            }
        }

        @Override
        public Measurement run(GridPoint point) {
            throw new AssertionError("paired points are measured with runPair");
        }

        @Override
        public PairBatch runPair(GridPoint candidate, int rounds) {
            forks.add(rounds);
            List<PairedRound> out = new ArrayList<>();
            double[] b = new double[rounds];
            double[] c = new double[rounds];
            for (int r = 0; r < rounds; r++) {
                double ratio = ratios.isEmpty() ? 1.0 : ratios.poll();
                b[r] = 200;
                c[r] = 200 / ratio;
                out.add(new PairedRound(0, r, b[r], c[r], 1.0, r == 0 ? 1.2 : 0.1, 0));
            }
            double bSeconds = rounds * 0.2 * 5;
            double cSeconds = java.util.Arrays.stream(c).sum() * 5 / 1000;
            now += (long) ((startSeconds + bSeconds + cSeconds) * 1e9);
            return new PairBatch(new Measurement(candidate.baseline(), b, NO_COUNTERS, bSeconds, 1.0),
                    new Measurement(candidate, c, NO_COUNTERS, cSeconds, 1.0), out);
        }
    }

    private static PairedMeasurement measure(ScriptedRunner runner, Pairing pairing) {
        return new RoundScheduler(runner, pairing, () -> runner.now).measure(CANDIDATE);
    }

    @Test
    void tightRoundsStopAfterTheFirstFork() {
        ScriptedRunner runner = new ScriptedRunner(5, 2.00, 2.01, 1.99, 2.00, 2.02, 1.98);
        PairedMeasurement pm = measure(runner, new Pairing(0.05, 60, 6, 4, 80));

        assertThat(runner.forks).containsExactly(6);
        assertThat(pm.speedup().speedup()).isCloseTo(2.0, within(0.01));
        assertThat(pm.speedup().isWithin(0.05)).isTrue();
        assertThat(pm.stop()).isEqualTo("interval within ±5%");
        assertThat(pm.forks()).isEqualTo(1);
        assertThat(pm.baseline().point()).isEqualTo(CANDIDATE.baseline());
        assertThat(pm.candidate().msPerCall()).hasSize(6);
    }

    @Test
    void noisyRoundsGetAnotherForkSizedFromTheirSpreadAndAreNumberedThrough() {
        // The first 4 rounds are too spread for ±5% with 4 rounds; more rounds of the same spread suffice.
        double[] ratios = new double[40];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = i % 2 == 0 ? 1.9 : 2.1;
        }
        ScriptedRunner runner = new ScriptedRunner(5, ratios);
        PairedMeasurement pm = measure(runner, new Pairing(0.05, 600, 4, 3, 80));

        assertThat(runner.forks).hasSize(2);
        assertThat(runner.forks.get(0)).isEqualTo(4);
        assertThat(pm.rounds()).hasSize(runner.forks.get(0) + runner.forks.get(1));
        assertThat(pm.speedup().isWithin(0.05)).isTrue();
        // the second fork ran the rounds that the first fork's spread said were still missing
        double firstSd = RoundScheduler.ratio(pm.rounds().subList(0, 4)).sdLog();
        int n = pm.rounds().size();
        assertThat(n).isEqualTo(specbeam.report.PairedRatio.roundsNeeded(firstSd, 0.05, 80));
        assertThat(pm.rounds()).extracting(PairedRound::round).containsExactlyElementsOf(
                java.util.stream.IntStream.range(0, n).boxed().toList());
        assertThat(pm.rounds().get(4).fork()).isEqualTo(1);
        assertThat(pm.candidate().msPerCall()).hasSize(n);
        assertThat(pm.roundsUnderLoad(2)).as("rounds with other processes on >= 0.5 of 2 cores").isEqualTo(2);
        assertThat(pm.maxOtherCpu()).isEqualTo(1.2);
    }

    @Test
    void theBudgetStopsAPointWhoseIntervalIsStillWide() {
        double[] ratios = {0.8, 1.3, 1.0, 1.2, 0.9, 1.25, 0.85, 1.1};
        ScriptedRunner runner = new ScriptedRunner(5, ratios);
        // the first fork: 5 s start + 4 rounds of about 2 s = 13 s of a 20 s budget; another 3 rounds + 5 s do not fit
        PairedMeasurement pm = measure(runner, new Pairing(0.05, 20, 4, 3, 80));

        assertThat(runner.forks).containsExactly(4);
        assertThat(pm.stop()).isEqualTo("time budget of 20 s spent");
        assertThat(pm.speedup().straddlesOne()).isTrue();
        assertThat(pm.seconds()).isLessThan(20);
    }

    @Test
    void theRoundLimitStopsAPointEvenWithBudgetLeft() {
        double[] ratios = new double[30];
        for (int i = 0; i < ratios.length; i++) {
            ratios[i] = i % 2 == 0 ? 0.7 : 1.4;
        }
        ScriptedRunner runner = new ScriptedRunner(1, ratios);
        PairedMeasurement pm = measure(runner, new Pairing(0.05, 10_000, 4, 3, 10));

        assertThat(pm.rounds()).hasSize(10);
        assertThat(pm.stop()).isEqualTo("reached 10 rounds");
    }

    @Test
    void aFailingForkFailsThePoint() {
        PointRunner failing = new PointRunner() {
            @Override
            public Measurement run(GridPoint point) {
                throw new PointFailedException("engine exploded");
            }
        };
        assertThatThrownBy(() -> new RoundScheduler(failing, new Pairing(0.05, 60, 4, 3, 80)).measure(CANDIDATE))
                .isInstanceOf(PointFailedException.class).hasMessage("engine exploded");
    }
}
