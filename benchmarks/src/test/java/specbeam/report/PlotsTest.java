package specbeam.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import specbeam.projection.CostCurve;
import specbeam.report.plot.Plots;

import javax.imageio.ImageIO;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** The plots are real images: written, non-empty, decodable PNGs of the intended size, with an SVG beside each. */
class PlotsTest {
    @TempDir
    Path dir;

    /** A small grid: greedy and speculative at batch 1, 4 and 8, beam B=4 with speculative beam at k=2 and 4. */
    static List<ResultRow> grid() {
        List<ResultRow> rows = new ArrayList<>();
        for (int batch : new int[] {1, 4, 8}) {
            rows.add(Rows.row("greedy", 0, 1, batch, false, 100.0 * batch / 2, null, null, null, 1.0, 0.9));
            rows.add(Rows.row("speculative", 4, 1, batch, false, 50.0 * batch / 2, "greedy", 2.0, 0.7, 0.35, 0.9));
        }
        rows.add(Rows.row("speculative", 2, 1, 1, false, 60.0, "greedy", 1.6, 0.8, 0.45, 0.9));
        rows.add(Rows.row("beam", 0, 4, 1, false, 200.0, null, null, null, 1.0, 0.9));
        rows.add(Rows.row("speculative_beam", 2, 4, 1, false, 180.0, "beam B=4", 1.1, 0.3, 0.5, 0.9));
        rows.add(Rows.row("speculative_beam", 4, 4, 1, false, 250.0, "beam B=4", 0.8, 0.2, 0.45, 0.9));
        return rows;
    }

    @Test
    void everyPlotIsAValidPngOfTheIntendedSizeWithAnSvgBeside() throws IOException {
        List<Plots.Plot> plots = Plots.write(grid(), CostCurve.bundled(), dir.resolve("plots"));

        assertThat(plots).extracting(Plots.Plot::block)
                .containsExactly("speedup", "acceptance", "quality", "throughput", "projection");
        for (Plots.Plot plot : plots) {
            Path png = plot.png();
            assertThat(png).exists().hasParent(dir.resolve("plots"));
            assertThat(Files.size(png)).as("%s size", png).isGreaterThan(5_000);
            BufferedImage image = ImageIO.read(png.toFile());
            assertThat(image).as("%s decodes as an image", png).isNotNull();
            assertThat(image.getWidth()).isEqualTo(960);
            assertThat(image.getHeight()).isIn(560, 720);
            assertThat(distinctColours(image)).as("%s is not blank", png).isGreaterThan(8);
            Path svg = png.resolveSibling(png.getFileName().toString().replace(".png", ".svg"));
            assertThat(Files.readString(svg)).contains("<svg").contains("</svg>");
        }
        try (Stream<Path> files = Files.list(dir.resolve("plots"))) {
            assertThat(files).noneMatch(p -> p.toString().endsWith(".tmp"));
        }
    }

    @Test
    void withoutSeveralBatchSizesOrACurveThoseTwoPlotsAreLeftOut() throws IOException {
        List<ResultRow> batchOne = grid().stream().filter(r -> r.batch() == 1).toList();
        List<Plots.Plot> plots = Plots.write(batchOne, null, dir);
        assertThat(plots).extracting(Plots.Plot::block).containsExactly("speedup", "acceptance", "quality");
    }

    @Test
    void latencyPlotsUseTheSmallestBatchAndTheThroughputPlotEveryConfigurationWithSeveral() {
        assertThat(Plots.latencyRows(grid())).allMatch(r -> r.batch() == 1).hasSize(6);
        assertThat(Plots.throughputRows(grid())).extracting(ResultRow::label).containsExactly(
                "greedy", "greedy batch=4", "greedy batch=8",
                "speculative k=4", "speculative k=4 batch=4", "speculative k=4 batch=8");
    }

    private static int distinctColours(BufferedImage image) {
        java.util.Set<Integer> colours = new java.util.HashSet<>();
        for (int y = 0; y < image.getHeight(); y += 4) {
            for (int x = 0; x < image.getWidth(); x += 4) {
                colours.add(image.getRGB(x, y));
            }
        }
        return colours.size();
    }
}
