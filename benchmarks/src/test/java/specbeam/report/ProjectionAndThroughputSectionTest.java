package specbeam.report;

import org.junit.jupiter.api.Test;
import specbeam.projection.CostCurve;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class ProjectionAndThroughputSectionTest {

    @Test
    void throughputTableShowsEveryBatchOfEachSweptConfiguration() {
        String md = ThroughputSection.render(PlotsTest.grid());
        assertThat(md).contains("| greedy | 4 | 200.0 ± 4.0 | 50.0 | 1280 | 1.00x | – | 0.1 |");
        assertThat(md).contains("| speculative k=4 | 8 | 200.0 ± 4.0 | 25.0 | 2560 | 1.00x | 2.00x | 0.1 |");
        assertThat(md).doesNotContain("| beam").doesNotContain("| speculative_beam");
    }

    @Test
    void withoutASweepTheThroughputBlockSaysSo() {
        assertThat(ThroughputSection.render(List.of(Rows.greedy()))).contains("No configuration was measured at more than one");
    }

    @Test
    void projectionTableHasOneLinePerSpeculativePointInsideTheCurve() {
        CostCurve curve = CostCurve.parse(specbeam.projection.SyntheticCurve.JSON, "synthetic.json");
        String md = ProjectionSection.render(PlotsTest.grid(), curve);
        // speculative k=4, batch 1: 2.5 steps per forward (Rows), verify of 5 tokens = 14 ms, 4 draft forwards of 1 ms
        assertThat(md).contains("| speculative k=4 | 2.00x | 2.50 | 5.00 | 4.00 | 1.00 | 14.0 + 4.0 ÷ 10.0 | 1.39x |");
        // batch 4 runs 4 rows: r4/q5 = 17 + 4/4 = 18 ms, a plain step on 4 rows 14 ms
        assertThat(md).contains("| speculative k=4 batch=4 | 2.00x | 2.50 | 5.00 | 4.00 | 1.00 | 18.0 + 4.0 ÷ 14.0 | 1.59x |");
        assertThat(md).contains("Not projected (outside the curve's measured rows or tokens; no extrapolation): "
                + "speculative k=4 batch=8 (8 rows)");
        assertThat(md).contains("`synthetic.json`: Synthetic GPU").contains("*Assumed*");
    }
}
