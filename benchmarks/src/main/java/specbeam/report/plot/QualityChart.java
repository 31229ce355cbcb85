package specbeam.report.plot;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.axis.NumberTickUnit;
import org.jfree.chart.axis.ValueAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import specbeam.decode.Mode;
import specbeam.report.ResultRow;

import java.text.DecimalFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.function.Function;

/**
 * Latency against quality: perplexity (lower is better) and BLEU (higher is better) over ms per generation.
 * Colour = decoding mode, marker = beam width; exact speculative modes sit level with their baseline, further left
 * when they are faster.
 */
final class QualityChart {
    private static final int[] BEAM_WIDTHS = {1, 2, 4, 8};
    /** Per mode (Mode order): a baseline and its speculative variant get related hues (blue, orange, green/purple). */
    private static final java.awt.Paint[] MODE_COLOURS = {
            ChartStyle.COLOURS[0], ChartStyle.COLOURS[1], ChartStyle.COLOURS[2],
            ChartStyle.COLOURS[5], ChartStyle.COLOURS[4], ChartStyle.COLOURS[3]};

    private QualityChart() {
    }

    /** @return the chart, or null when no point has quality metrics */
    static JFreeChart create(List<ResultRow> rows, String subtitle) {
        List<ResultRow> measured = rows.stream()
                .filter(r -> r.perplexity() != null && r.latencyMsMean() != null && r.latencyMsMean() > 0).toList();
        if (measured.isEmpty()) {
            return null;
        }
        LogAxis latency = log("ms per generation (log scale)", "#,##0", 2, 1);
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(latency);
        plot.setGap(14);
        // ticks every 10^0.1 (1.0, 1.3, 1.6, 2.0, ...) leave none inside a narrow span (a beam-only grid's
        // perplexities 1.33..1.53): there, every 10^0.02 (~5%) with two decimals
        double[] perplexities = measured.stream().map(ResultRow::perplexity).filter(v -> v > 0)
                .mapToDouble(Double::doubleValue).toArray();
        double span = perplexities.length == 0 ? 1 : Math.log10(java.util.Arrays.stream(perplexities).max().getAsDouble()
                / java.util.Arrays.stream(perplexities).min().getAsDouble());
        LogAxis perplexity = span > 0.3 ? log("perplexity (log, lower is better)", "0.0", 10, 0.1)
                : log("perplexity (log, lower is better)", "0.00", 10, 0.02);
        plot.add(panel(measured, ResultRow::perplexity, perplexity, true), 1);
        NumberAxis bleu = new NumberAxis("BLEU (higher is better)");
        bleu.setAutoRangeIncludesZero(true);
        plot.add(panel(measured, ResultRow::bleu, bleu, false), 1);
        JFreeChart chart = new JFreeChart("Latency against quality, per decoding mode", JFreeChart.DEFAULT_TITLE_FONT,
                plot, true);
        ChartStyle.axis(latency);
        return ChartStyle.finish(chart, subtitle + "; colour = mode, marker = beam width B");
    }

    /** A log axis with a tick every {@code step} powers of {@code base}. */
    private static LogAxis log(String label, String format, double base, double step) {
        LogAxis axis = new LogAxis(label);
        axis.setBase(base);
        axis.setTickUnit(new NumberTickUnit(step));
        axis.setNumberFormatOverride(new DecimalFormat(format));
        axis.setMinorTickMarksVisible(true);
        axis.setSmallestValue(0.1);
        return axis;
    }

    private static XYPlot panel(List<ResultRow> rows, Function<ResultRow, Double> value, ValueAxis axis, boolean legend) {
        // one series per (mode, B), ordered by mode then width, so colours follow the mode and shapes the width
        Map<String, XYSeries> series = new TreeMap<>();
        for (ResultRow r : rows) {
            Double v = value.apply(r);
            if (v == null || (axis instanceof LogAxis && !(v > 0))) {
                continue;
            }
            Mode mode = Mode.parse(r.mode());
            String key = String.format("%02d%02d", mode.ordinal(), r.beamWidth());
            String name = r.mode().replace('_', ' ') + (mode.isBeam() ? " B=" + r.beamWidth() : "");
            series.computeIfAbsent(key, k -> new XYSeries(name)).add(r.latencyMsMean(), v);
        }
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(false, true);
        int i = 0;
        for (String key : series.keySet()) {
            int mode = Integer.parseInt(key.substring(0, 2));
            int width = Integer.parseInt(key.substring(2));
            int shape = java.util.Arrays.stream(BEAM_WIDTHS).boxed().toList().indexOf(width);
            renderer.setSeriesPaint(i, MODE_COLOURS[mode % MODE_COLOURS.length]);
            renderer.setSeriesShape(i, ChartStyle.shape(shape < 0 ? 0 : shape));
            renderer.setSeriesVisibleInLegend(i, legend);
            i++;
        }
        XYPlot plot = new XYPlot(data, null, axis, renderer);
        ChartStyle.plot(plot);
        return plot;
    }
}
