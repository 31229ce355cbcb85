package specbeam.report;

import specbeam.report.plot.Plots;

import java.util.List;
import java.util.Optional;

import static specbeam.report.MarkdownTable.fixed;
import static specbeam.report.MarkdownTable.plusMinus;
import static specbeam.report.MarkdownTable.times;

/** The "throughput" block: tokens/s and ms per generation of the configurations measured at several batch sizes. */
public final class ThroughputSection {

    private ThroughputSection() {
    }

    public static String render(List<ResultRow> rows) {
        List<ResultRow> sweep = Plots.throughputRows(rows);
        if (sweep.isEmpty()) {
            return "_No configuration was measured at more than one batch size in this run._\n";
        }
        MarkdownTable t = new MarkdownTable("configuration", "batch", "ms / generation (± 99.9% CI)", "ms / prompt",
                "tokens/s", "tokens/s vs batch 1", "speedup over same-batch baseline", "load");
        for (ResultRow r : sweep) {
            Optional<ResultRow> single = sweep.stream().filter(o -> o.batch() == 1 && sameConfig(o, r)).findFirst();
            t.row(r.label().replace(" batch=" + r.batch(), ""), r.batch(),
                    plusMinus(r.latencyMsMean(), r.latencyMsCi999(), 1),
                    fixed(r.latencyMsMean() == null ? null : r.latencyMsMean() / r.batch(), 1), fixed(r.tokensPerS(), 0),
                    single.filter(s -> s.tokensPerS() != null && r.tokensPerS() != null)
                            .map(s -> times(r.tokensPerS() / s.tokensPerS())).orElse(null),
                    times(r.speedupVsBaseline()), fixed(r.loadAvg1m(), 1));
        }
        return t.render() + "\n*How to read this:* one `generate` call decodes `batch` prompts together (a ragged "
                + "batch: every row keeps its own length and mask, and the outputs equal one-at-a-time decoding), "
                + "each to the full number of new tokens; the prompts are the study prompts taken round-robin, so "
                + "every call has exactly `batch` rows (a batch larger than the prompt set repeats some). "
                + "\"ms / generation\" is the time of that call with its "
                + "99.9% interval, \"ms / prompt\" the same divided by the batch size, tokens/s counts the new "
                + "tokens of all prompts (beam modes: beam steps of the best beam). \"tokens/s vs batch 1\" is the "
                + "throughput gained by batching; the speedup compares with the target-only baseline at the same "
                + "batch size, measured in this run. Quality is computed at batch 1 only (the tokens do not depend "
                + "on the batch).\n";
    }

    private static boolean sameConfig(ResultRow a, ResultRow b) {
        return a.mode().equals(b.mode()) && a.k() == b.k() && a.beamWidth() == b.beamWidth()
                && a.adaptive() == b.adaptive() && a.provider().equals(b.provider()) && a.maxNewTokens() == b.maxNewTokens();
    }
}
