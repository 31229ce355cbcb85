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

/** Speedup over the same-B target-only baseline against k, one line per mode and beam width, 99.9% error bars. */
final class SpeedupChart {

    private SpeedupChart() {
    }

    /** @return the chart, or null when no fixed-k speculative point has a speedup */
    static JFreeChart create(List<ResultRow> rows, String subtitle) {
        Map<String, YIntervalSeries> series = new LinkedHashMap<>();
        for (ResultRow r : rows) {
            if (r.speedupVsBaseline() == null || r.adaptive()) {
                continue;
            }
            double y = r.speedupVsBaseline();
            double e = r.speedupRelError() == null ? 0 : y * r.speedupRelError();
            series.computeIfAbsent(Plots.lineOverK(r) + " vs " + r.baseline(), YIntervalSeries::new)
                    .add(r.k(), y, Math.max(0, y - e), y + e);
        }
        if (series.isEmpty()) {
            return null;
        }
        YIntervalSeriesCollection data = new YIntervalSeriesCollection();
        series.values().forEach(data::addSeries);
        JFreeChart chart = ChartFactory.createXYLineChart("Speedup over target-only decoding by draft length k",
                "k (draft tokens per round / tree depth)", "speedup (baseline ms ÷ ms, ×)", data,
                PlotOrientation.VERTICAL, true, false, false);
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
        plot.addRangeMarker(ChartStyle.horizontalLine(1.0, "1.0× = no gain"));
        ChartStyle.plot(plot);
        return ChartStyle.finish(chart, subtitle + "; error bars: 99.9% interval of the ratio");
    }
}
