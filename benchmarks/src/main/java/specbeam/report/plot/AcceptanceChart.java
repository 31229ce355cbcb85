package specbeam.report.plot;

import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.CombinedDomainXYPlot;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;
import specbeam.report.ResultRow;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

/** Two panels over k: decoding steps (tokens or beam steps) per target forward, and the draft acceptance rate. */
final class AcceptanceChart {

    private AcceptanceChart() {
    }

    /** @return the chart, or null without fixed-k speculative points */
    static JFreeChart create(List<ResultRow> rows, String subtitle) {
        List<ResultRow> spec = rows.stream().filter(r -> r.baseline() != null && !r.adaptive()).toList();
        if (spec.isEmpty()) {
            return null;
        }
        NumberAxis k = new NumberAxis("k (draft tokens per round / tree depth)");
        ChartStyle.integerTicks(k);
        k.setAutoRangeIncludesZero(false);
        CombinedDomainXYPlot plot = new CombinedDomainXYPlot(k);
        plot.setGap(14);
        plot.add(panel(spec, ResultRow::stepsPerTargetForward, "steps / target forward", true), 1);
        plot.add(panel(spec, ResultRow::acceptanceRate, "acceptance rate", false), 1);
        JFreeChart chart = new JFreeChart("What one target forward buys, by draft length k",
                JFreeChart.DEFAULT_TITLE_FONT, plot, true);
        ChartStyle.axis(k);
        return ChartStyle.finish(chart, subtitle + "; steps = tokens or beam steps; acceptance = accepted ÷ proposed");
    }

    private static XYPlot panel(List<ResultRow> rows, Function<ResultRow, Double> value, String label, boolean legend) {
        Map<String, XYSeries> series = new LinkedHashMap<>();
        for (ResultRow r : rows) {
            Double v = value.apply(r);
            if (v != null) {
                series.computeIfAbsent(Plots.lineOverK(r), XYSeries::new).add(r.k(), v);
            }
        }
        XYSeriesCollection data = new XYSeriesCollection();
        series.values().forEach(data::addSeries);
        XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(true, true);
        ChartStyle.series(renderer, data.getSeriesCount());
        for (int i = 0; i < data.getSeriesCount(); i++) {
            renderer.setSeriesVisibleInLegend(i, legend);
        }
        NumberAxis axis = new NumberAxis(label);
        axis.setAutoRangeIncludesZero(true);
        XYPlot plot = new XYPlot(data, null, axis, renderer);
        ChartStyle.plot(plot);
        return plot;
    }
}
