package specbeam.report.plot;

import org.jfree.chart.JFreeChart;
import specbeam.projection.CostCurve;
import specbeam.report.ResultRow;
import specbeam.suite.GridPoint;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * The report's plots, drawn from CSV rows only (so {@code --report-only} redraws them): PNG for REPORT.md and
 * SVG beside it, headless.
 */
public final class Plots {

    /** One written plot: the report block it belongs to, its PNG file and a caption for the image's alt text. */
    public record Plot(String block, Path png, String caption) {
    }

    private Plots() {
    }

    /**
     * Draws every plot the rows allow into {@code dir}. Latency plots use the rows of the smallest batch size in
     * the run; the throughput plot uses every batch size.
     *
     * @param curve forward-cost curve for the projection plot, or null for none
     * @return the plots written, in report order
     */
    public static List<Plot> write(List<ResultRow> rows, CostCurve curve, Path dir) throws IOException {
        System.setProperty("java.awt.headless", "true");
        List<ResultRow> latency = latencyRows(rows);
        String setting = setting(latency);
        List<Plot> out = new ArrayList<>();
        add(out, dir, "speedup", "speedup_vs_k", ChartStyle.HEIGHT, "Speedup over target-only decoding by k, per mode and beam width",
                SpeedupChart.create(latency, setting));
        add(out, dir, "acceptance", "steps_and_acceptance_vs_k", ChartStyle.TALL, "Steps per target forward and acceptance rate by k",
                AcceptanceChart.create(latency, setting));
        add(out, dir, "quality", "latency_vs_quality", ChartStyle.TALL, "Latency against perplexity and BLEU, per mode",
                QualityChart.create(latency, setting));
        add(out, dir, "throughput", "throughput_vs_batch", ChartStyle.HEIGHT, "New tokens per second by batch size",
                ThroughputChart.create(rows, machine(rows) + ", " + maxNewTokens(rows)));
        if (curve != null) {
            add(out, dir, "projection", "projected_speedup", ChartStyle.TALL, "Measured and projected speedup per speculative point",
                    ProjectionChart.create(latency, curve, "projected with " + curve.source() + "; " + setting));
        }
        return out;
    }

    private static void add(List<Plot> out, Path dir, String block, String name, int height, String caption,
                            JFreeChart chart) throws IOException {
        if (chart != null) {
            out.add(new Plot(block, ChartFiles.write(chart, dir, name, ChartStyle.WIDTH, height), caption));
        }
    }

    /** The rows of the smallest batch size in the run: the latency study (one generation at a time by default). */
    public static List<ResultRow> latencyRows(List<ResultRow> rows) {
        int batch = rows.stream().mapToInt(ResultRow::batch).min().orElse(1);
        return rows.stream().filter(r -> r.batch() == batch).toList();
    }

    /** Rows of the configurations measured at more than one batch size (the throughput study), in run order. */
    public static List<ResultRow> throughputRows(List<ResultRow> rows) {
        Map<String, Set<Integer>> batches = new LinkedHashMap<>();
        for (ResultRow r : rows) {
            if (r.tokensPerS() != null) {
                batches.computeIfAbsent(configName(r), c -> new java.util.TreeSet<>()).add(r.batch());
            }
        }
        return rows.stream().filter(r -> r.tokensPerS() != null && batches.get(configName(r)).size() > 1)
                .sorted(java.util.Comparator.comparing((ResultRow r) -> new ArrayList<>(batches.keySet())
                        .indexOf(configName(r))).thenComparingInt(ResultRow::batch))
                .collect(Collectors.toList());
    }

    /**
     * A configuration without its batch size, e.g. {@code speculative_beam k=4 B=4}; for lines over k (speedup
     * and acceptance plots) the k is dropped as well.
     */
    static String configName(ResultRow r) {
        GridPoint p = r.point();
        return new GridPoint(p.mode(), p.k(), p.beamWidth(), p.adaptive(), p.provider(), 1, p.maxNewTokens()).label();
    }

    /** {@code speculative_beam B=4}: a line over k. */
    static String lineOverK(ResultRow r) {
        return r.mode() + (r.mode().contains("beam") ? " B=" + r.beamWidth() : "");
    }

    private static String setting(List<ResultRow> rows) {
        if (rows.isEmpty()) {
            return "";
        }
        ResultRow r = rows.get(0);
        return machine(rows) + ", batch " + r.batch() + ", " + r.maxNewTokens() + " new tokens";
    }

    private static String machine(List<ResultRow> rows) {
        return rows.stream().findFirst().map(r -> String.format(Locale.ROOT, "measured on %s, %d cores, %s",
                r.cpuModel(), r.cores(), r.provider())).orElse("");
    }

    private static String maxNewTokens(List<ResultRow> rows) {
        return rows.stream().findFirst().map(r -> r.maxNewTokens() + " new tokens per prompt").orElse("");
    }
}
