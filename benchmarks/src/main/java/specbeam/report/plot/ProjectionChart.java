package specbeam.report.plot;

import org.jfree.chart.ChartFactory;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.CategoryAxis;
import org.jfree.chart.axis.CategoryLabelPositions;
import org.jfree.chart.plot.CategoryPlot;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.renderer.category.BarRenderer;
import org.jfree.chart.renderer.category.StandardBarPainter;
import org.jfree.data.category.DefaultCategoryDataset;
import specbeam.projection.CostCurve;
import specbeam.projection.Projection;
import specbeam.report.ResultRow;

import java.awt.Color;
import java.util.List;

/** Measured speedup on this machine next to the speedup projected with a forward-cost curve, per speculative point. */
final class ProjectionChart {

    private ProjectionChart() {
    }

    /** @return the chart, or null when no point can be projected */
    static JFreeChart create(List<ResultRow> rows, CostCurve curve, String subtitle) {
        DefaultCategoryDataset data = new DefaultCategoryDataset();
        String measured = "measured in this run";
        boolean any = false;
        for (ResultRow r : rows) {
            Projection p = Projection.of(r);
            if (r.baseline() == null || !p.isComplete()) {
                continue;
            }
            String point = r.label();
            java.util.Map<String, Double> projected = new java.util.LinkedHashMap<>();
            for (String target : curve.targets()) {
                for (String draft : curve.drafts()) {
                    double s = p.speedup(curve, target, draft);
                    if (Double.isFinite(s)) {
                        projected.put("projected: " + target + " + " + draft, s);
                    }
                }
            }
            if (projected.isEmpty()) {
                continue;
            }
            any = true;
            data.addValue(r.speedupVsBaseline(), measured, point);
            projected.forEach((series, s) -> data.addValue(s, series, point));
        }
        if (!any) {
            return null;
        }
        JFreeChart chart = ChartFactory.createBarChart("Speedup projected to " + (curve.device() == null ? "another device"
                        : curve.device()) + " from the measured forward counts",
                null, "speedup over the same-B baseline (×)", data, PlotOrientation.VERTICAL, true, false, false);
        CategoryPlot plot = chart.getCategoryPlot();
        plot.setBackgroundPaint(Color.WHITE);
        plot.setRangeGridlinePaint(new Color(220, 220, 220));
        plot.setOutlineVisible(false);
        BarRenderer renderer = (BarRenderer) plot.getRenderer();
        renderer.setBarPainter(new StandardBarPainter());
        renderer.setShadowVisible(false);
        renderer.setItemMargin(0.05);
        for (int i = 0; i < data.getRowCount(); i++) {
            renderer.setSeriesPaint(i, data.getRowKey(i).equals(measured) ? Color.GRAY
                    : ChartStyle.COLOURS[i % ChartStyle.COLOURS.length]);
        }
        CategoryAxis axis = plot.getDomainAxis();
        axis.setCategoryLabelPositions(CategoryLabelPositions.UP_45);
        axis.setMaximumCategoryLabelLines(2);
        ChartStyle.axis(axis);
        ChartStyle.axis(plot.getRangeAxis());
        plot.addRangeMarker(ChartStyle.horizontalLine(1.0, "1.0× = no gain"));
        return ChartStyle.finish(chart, subtitle);
    }
}
