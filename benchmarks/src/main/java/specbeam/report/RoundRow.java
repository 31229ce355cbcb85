package specbeam.report;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import specbeam.suite.GridPoint;
import specbeam.suite.PairedMeasurement;
import specbeam.suite.PairedRound;

import java.util.ArrayList;
import java.util.List;

/**
 * One row of {@code rounds.csv}: one paired round of a speculative point against its baseline, with the load
 * the machine was under during that round, so that a round taken under load can be found and judged.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
public record RoundRow(
        String mode,
        int k,
        int beamWidth,
        boolean adaptive,
        int batch,
        String provider,
        int maxNewTokens,
        /* label of the target-only point of the other half of each round */
        String baseline,
        /* JMH fork (run) of the point, from 0 */
        int fork,
        /* round within the point, from 0, numbered through the forks */
        int round,
        /* mean milliseconds per generate call of each side in this round */
        Double baselineMs,
        Double candidateMs,
        /* baseline_ms / candidate_ms: this round's speedup */
        Double ratio,
        /* 1-minute load average at the start of the round */
        @JsonProperty("load_avg_1m") Double loadAvg1m,
        /* CPU cores other processes kept busy during the round, on average */
        Double otherCpuCores,
        /* other processes used at least a quarter of the cores during the round */
        boolean underLoad,
        /* milliseconds the JIT compiled during the round (its compiler threads share the cores) */
        Double jitMs) {

    /** Every round of every paired point, in run order. */
    public static List<RoundRow> of(List<PairedMeasurement> pairs, int cores) {
        List<RoundRow> rows = new ArrayList<>();
        for (PairedMeasurement pm : pairs) {
            GridPoint p = pm.point();
            for (PairedRound r : pm.rounds()) {
                rows.add(new RoundRow(p.mode().id(), p.k(), p.beamWidth(), p.adaptive(), p.batch(), p.provider().id(),
                        p.maxNewTokens(), p.baseline().label(), r.fork(), r.round(),
                        ResultRows.num(r.baselineMs()), ResultRows.num(r.candidateMs()), ResultRows.num(r.ratio()),
                        ResultRows.num(r.loadAvg1m()), ResultRows.num(r.otherCpu()), r.underLoad(cores),
                        ResultRows.num(r.jitMs())));
            }
        }
        return rows;
    }
}
