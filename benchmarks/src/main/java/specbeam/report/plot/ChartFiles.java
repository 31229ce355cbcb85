package specbeam.report.plot;

import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.svg.SVGGraphics2D;
import specbeam.report.AtomicFiles;

import java.awt.Rectangle;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Writes a chart as PNG (for REPORT.md) and SVG (for print), each atomically. */
final class ChartFiles {

    private ChartFiles() {
    }

    /** Writes {@code <dir>/<name>.png} and {@code <dir>/<name>.svg}; returns the PNG. */
    static Path write(JFreeChart chart, Path dir, String name, int width, int height) throws IOException {
        ByteArrayOutputStream png = new ByteArrayOutputStream();
        ChartUtils.writeChartAsPNG(png, chart, width, height);
        Path pngFile = dir.resolve(name + ".png");
        AtomicFiles.write(pngFile, png.toByteArray());

        SVGGraphics2D svg = new SVGGraphics2D(width, height);
        chart.draw(svg, new Rectangle(width, height));
        AtomicFiles.write(dir.resolve(name + ".svg"), svg.getSVGDocument().getBytes(StandardCharsets.UTF_8));
        return pngFile;
    }
}
