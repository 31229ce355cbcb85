package specbeam.report.plot;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.NumberAxis;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYErrorRenderer;
import org.jfree.data.xy.YIntervalSeries;
import org.jfree.data.xy.YIntervalSeriesCollection;
import specbeam.report.ResultRow;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** New tokens per second against prompts per generate call, one line per configuration measured at several batches. */
final class ThroughputChart {

    private ThroughputChart() {
    }

    /** @return the chart, or null when no configuration was measured at more than one batch size */
    static JFreeChart create(List<ResultRow> rows, String subtitle) {
        Map<String, YIntervalSeries> series = new LinkedHashMap<>();
        for (ResultRow r : Plots.throughputRows(rows)) {
            double y = r.tokensPerS();
            double e = r.relError() == null ? 0 : y * r.relError();
            series.computeIfAbsent(Plots.configName(r), YIntervalSeries::new).add(r.batch(), y, Math.max(0, y - e), y + e);
        }
        if (series.isEmpty()) {
            return null;
        }
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        series.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart("Throughput by batch size", "batch (prompts per generate call)",
                "new tokens per second (all prompts of a call)", data, PlotOrientation.VERTICAL, true, false, false);
        XYPlot plot = chart.getXYPlot();
        XYErrorRenderer renderer = new XYErrorRenderer();
        renderer.setDrawXError(false);
        renderer.setDefaultLinesVisible(true);
        renderer.setDefaultShapesVisible(true);
        renderer.setCapLength(8);
        plot.setRenderer(renderer);
        ChartStyle.series(renderer, data.getSeriesCount());
        ChartStyle.integerTicks((NumberAxis) plot.getDomainAxis());
        ((NumberAxis) plot.getRangeAxis()).setAutoRangeIncludesZero(true);
        ChartStyle.plot(plot);
        return ChartStyle.finish(chart, subtitle + "; error bars: 99.9% interval");
    }
}
