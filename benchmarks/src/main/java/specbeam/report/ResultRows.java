package specbeam.report;

import specbeam.model.ExecutionProvider;
import specbeam.quality.QualityResult;
import specbeam.suite.CounterTotals;
import specbeam.suite.GridPoint;
import specbeam.suite.Measurement;
import specbeam.suite.PairedMeasurement;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Turns measurements and quality results into CSV rows: statistics, speedups within the run (from paired rounds
 * where the point has them), the analytic model.
 */
public final class ResultRows {

    private ResultRows() {
    }

    /**
     * @param measurements one per measured point, in run order
     * @param quality      quality per point (points without one get empty quality columns)
     * @param meta         the run's metadata
     */
    public static List<ResultRow> build(List<Measurement> measurements, Map<GridPoint, PairedMeasurement> paired,
                                        Map<GridPoint, QualityResult> quality, RunMetadata meta) {
        Map<GridPoint, Measurement> byPoint = new HashMap<>();
        measurements.forEach(m -> byPoint.put(m.point(), m));
        List<ResultRow> rows = new ArrayList<>();
        for (Measurement m : measurements) {
            rows.add(row(m, byPoint.get(m.point().baseline()), paired.get(m.point()), quality.get(m.point()), meta));
        }
        return rows;
    }

    /**
     * @param base   the baseline's measurement (all its rounds, for a paired point)
     * @param paired the point's paired rounds, or {@code null} when it was measured alone: its speedup is then
     *               the ratio of the two means, without pairing
     */
    private static ResultRow row(Measurement m, Measurement base, PairedMeasurement paired, QualityResult q,
                                 RunMetadata meta) {
        GridPoint p = m.point();
        CounterTotals c = m.counters();
        SampleStats latency = SampleStats.of(m.msPerCall());
        boolean speculative = p.mode().isSpeculative();

        double speedup = Double.NaN;
        double speedupRelError = Double.NaN;
        double modelAlpha = Double.NaN;
        double modelSteps = Double.NaN;
        double modelSpeedup = Double.NaN;
        double freeDraftBound = Double.NaN;
        PairedRatio ratio = paired == null ? null : paired.speedup();
        if (speculative && ratio != null) {
            speedup = ratio.speedup();
            speedupRelError = ratio.relHalfWidth();
        } else if (speculative && base != null) {
            SampleStats baseLatency = SampleStats.of(base.msPerCall());
            speedup = baseLatency.mean() / latency.mean();
            speedupRelError = Math.hypot(baseLatency.relError(), latency.relError());
        }
        // The analytic model compares forward costs: take the baseline's from the same rounds where there are some.
        Measurement modelBase = paired != null ? paired.baseline() : base;
        if (speculative && modelBase != null) {
            if (p.mode().isBeam()) {
                // A beam tree's proposals are mostly off the selected paths: no closed form, take the measured steps.
                modelSteps = c.stepsPerTargetForward();
            } else {
                double draftPerRound = c.proposedPerRound() / p.batch();
                modelSteps = SpeedupModel.stepsPerRound(c.acceptanceRate(), draftPerRound);
                modelAlpha = SpeedupModel.perTokenAcceptance(c.acceptanceRate(), draftPerRound);
            }
            modelSpeedup = SpeedupModel.speedup(modelSteps, c, modelBase.counters());
            freeDraftBound = SpeedupModel.freeDraftBound(c, modelBase.counters());
        }
        ExecutionProvider used = q == null ? null : q.providerUsed();
        return new ResultRow(
                ResultRow.ENGINE, p.mode().id(), p.k(), p.beamWidth(), p.batch(), p.provider().id(),
                p.maxNewTokens(), num(latency.mean()), num(latency.ci999()), num(m.tokensPerSecond()),
                num(c.acceptanceRate()), num(c.targetForwardsPerToken()), latency.n(), p.adaptive(),
                num(latency.sd()), num(latency.relError()), num(c.stepsPerTargetForward()),
                num(c.draftForwardsPerTargetForward()), num(c.proposedPerRound()), num(c.ortShare()),
                num(c.targetMsPerForward()), num(c.draftMsPerForward()), num(c.kvBytesPerToken()),
                num(c.kvBytesMovedPerToken()), num(c.paddedPositionsPerForward()),
                speculative ? p.baseline().label() : null, num(speedup), num(speedupRelError), num(modelAlpha),
                num(modelSteps), num(modelSpeedup),
                q == null ? null : num(q.identicalShare()), q == null ? null : num(q.certifiedTieShare()),
                q == null ? null : q.prompts(), q == null ? null : num(q.perplexity()), q == null ? null : num(q.bleu()),
                q == null ? null : num(q.rouge1()), q == null ? null : num(q.rouge2()), q == null ? null : num(q.rougeL()),
                q == null ? null : num(q.distinct1()), q == null ? null : num(q.distinct2()),
                q == null ? null : num(q.selfBleu()), q == null ? null : levelCoverage(q.levelCoverage()),
                meta.date(), meta.cpuModel(), meta.cores(), meta.jvm(), meta.ortVersion(),
                used == null ? "" : used.id(), meta.targetSha256(), meta.draftSha256(), meta.jmhSettings(),
                num(m.loadAverage()), ratio == null ? null : num(ratio.low()), ratio == null ? null : num(ratio.high()),
                ratio == null ? null : ratio.n(), paired == null ? null : paired.forks(),
                ratio == null ? null : ratio.verdict().toString(),
                paired == null ? null : (int) paired.roundsUnderLoad(meta.cores()),
                paired == null ? null : num(paired.maxOtherCpu()),
                num(c.decodeTargetTokensPerRow(p.batch())),
                speculative ? num(c.decodeDraftForwardsPerRound()) : null,
                num(c.decodeDraftTokensPerRow(p.batch())), num(c.spinningShare()),
                num(c.jitMillisPerSecond()), num(freeDraftBound),
                speculative && modelBase != null ? num(modelBase.counters().targetMsPerForward()) : null,
                c.kvCache().isEmpty() ? null : c.kvCache(), num(c.kvBytesThroughJavaPerToken()),
                num(c.hostIoBytesPerToken()));
    }

    /** NaN and infinities become empty cells. */
    /** "0.81/0.52/0.30": per tree level, the share of rounds with all B selections in the tree; null if none. */
    static String levelCoverage(double[] shares) {
        if (shares == null || shares.length == 0) {
            return null;
        }
        StringBuilder s = new StringBuilder();
        for (double share : shares) {
            s.append(s.isEmpty() ? "" : "/").append(Double.isNaN(share) ? "-" : String.format(java.util.Locale.ROOT, "%.2f", share));
        }
        return s.toString();
    }

    static Double num(double v) {
        return Double.isFinite(v) ? v : null;
    }
}
