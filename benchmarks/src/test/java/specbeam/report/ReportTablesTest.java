package specbeam.report;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ReportTablesTest {
    private static final RunSummary RUN = new RunSummary("full", "java -jar benchmarks.jar", 600, List.of(), List.of());

    private static ResultRow speculative(int k, double speedup, boolean adaptive) {
        return Rows.row("speculative", k, 1, adaptive, 100 / speedup, "greedy", speedup, 0.8, 0.3, 0.9);
    }

    @Test
    void speedupsAggregateOverKWithAGeometricMeanAndNameTheBestK() {
        List<ResultRow> rows = List.of(Rows.greedy(), speculative(2, 1.5, false), speculative(4, 2.4, false),
                speculative(8, 0.9, true));
        String table = new ReportTables(rows, List.of(), RUN).speedup();
        // geometric mean of 1.5 and 2.4 (the adaptive point is shown on its own)
        assertThat(table).contains("| speculative | – | 4 | 2.40x | " + MarkdownTable.times(Math.sqrt(1.5 * 2.4)) + " | 0.90x (k ≤ 8) |");
        assertThat(ReportTables.geometricMean(List.of(1.0, 4.0))).isCloseTo(2.0, within(1e-12));
    }

    @Test
    void speedupTableShowsThePairedIntervalAndMarksOneThatStraddlesOneAsNotAWin() {
        List<ResultRow> rows = List.of(Rows.greedy(), speculative(2, 1.02, false), speculative(4, 2.0, false));
        String table = new ReportTables(rows, List.of(), RUN).speedup();
        // Rows: interval speedup / 1.03 .. speedup x 1.03 from 12 rounds, one of them under load
        assertThat(table).contains("| speculative | 2 | 1 |  | greedy | 100.0 | 98.0 | 1.02x (not a win) | [0.99, 1.05] ±3.0% | 12 (1 under load) |");
        assertThat(table).contains("| speculative | 4 | 1 |  | greedy | 100.0 | 50.0 | 2.00x | [1.94, 2.06] ±3.0% | 12 (1 under load) |");
    }

    @Test
    void scaleRunChecksIssue23sTargetsNextToEachPointsFreeDraftBound() {
        RunSummary scale = new RunSummary("scale", "java -jar benchmarks.jar --scale", 600, List.of(), List.of());
        List<ResultRow> rows = List.of(Rows.greedy(), speculative(2, 1.5, false), speculative(4, 2.4, false),
                speculative(8, 0.9, true), Rows.row("beam", 0, 4, false, 400, null, null, null, 1.0, 0.9),
                Rows.row("speculative_beam", 2, 4, false, 250, "beam B=4", 1.6, 0.4, 0.5, 0.9));
        String table = new ReportTables(rows, List.of(), scale).targets();
        assertThat(table).contains("| speculative greedy over greedy, best fixed k | ≥ 2.00x | 2.40x (k=4) | 2.50x | met |");
        assertThat(table).contains("| speculative beam over beam B=4, best fixed k | ≥ 1.10x | 1.60x (k=2) | 2.50x | met |");
        assertThat(table).contains("| speculative beam over beam B=2, best fixed k | ≥ 1.30x | – | – | not measured |");
        assertThat(table).contains("| adaptive point speculative k=8 adaptive | ≥ 0.95x | 0.90x | 2.50x | **missed** |");
        assertThat(table).doesNotContain("≥ 2.30x");   // the bundled pair's targets belong to the full grid
        assertThat(new ReportTables(rows, List.of(), RUN).targets()).contains("≥ 2.30x");
    }

    @Test
    void runBlockSaysWhichPointsRanWithSpinningWorkers() {
        ResultRow spinning = speculative(2, 1.5, false);
        assertThat(new ReportTables(List.of(Rows.greedy(), spinning), List.of(), RUN).run())
                .contains("| ONNX Runtime workers | spinning in all 2 points (");
        ResultRow sleeping = withSpinning(speculative(4, 1.2, false), 0.0);
        assertThat(new ReportTables(List.of(Rows.greedy(), spinning, sleeping), List.of(), RUN).run())
                .contains("| ONNX Runtime workers | spinning in 2 of 3 points; not (or not in every fork) in: "
                        + "speculative k=4 (");
        ResultRow old = withSpinning(Rows.greedy(), null);
        assertThat(new ReportTables(List.of(old), List.of(), RUN).run())
                .contains("| ONNX Runtime workers | not recorded by this run |");
    }

    @Test
    void runBlockSaysWhereThePointsKeptTheKvCache() {
        ResultRow bound = speculative(2, 1.5, false);   // Rows: bound, 0 bytes through Java, 2,048 B host I/O
        assertThat(new ReportTables(List.of(Rows.greedy(), bound), List.of(), RUN).run())
                .contains("| KV cache | bound to ONNX Runtime in all 2 points; cache bytes copied by Java per token: "
                        + "at most 0; host I/O 2.0-2.0 kB per token (`kv_cache` in the CSV) |");
        ResultRow host = with(with(speculative(4, 1.2, false), "kv_bytes_through_java_per_token", 9000.0),
                "kv_cache", "host");
        assertThat(new ReportTables(List.of(Rows.greedy(), bound, host), List.of(), RUN).run())
                .contains("| KV cache | bound in 2, host in 1 of 3 points; cache bytes copied by Java per token: at "
                        + "most 9000;");
        assertThat(new ReportTables(List.of(with(Rows.greedy(), "kv_cache", null)), List.of(), RUN).run())
                .contains("| KV cache | not recorded by this run |");
    }

    @Test
    void runBlockGivesTheRangeOfJitCompilationDuringMeasurementAndThePointWithTheMost() {
        ResultRow quiet = with(speculative(2, 1.5, false), "jit_ms_per_s", 0.5);
        ResultRow busy = with(speculative(4, 1.2, false), "jit_ms_per_s", 40.0);
        assertThat(new ReportTables(List.of(Rows.greedy(), quiet, busy), List.of(), RUN).run())
                .contains("| JIT during measurement | 0.5–40.0 ms of compilation per measured second (median 2.0; "
                        + "the most: speculative k=4");
        assertThat(new ReportTables(List.of(with(Rows.greedy(), "jit_ms_per_s", null)), List.of(), RUN).run())
                .contains("| JIT during measurement | not recorded by this run |");
    }

    private static ResultRow withSpinning(ResultRow r, Double share) {
        return with(r, "ort_spinning_share", share);
    }

    private static ResultRow with(ResultRow r, String column, Object value) {
        com.fasterxml.jackson.databind.ObjectMapper json = new com.fasterxml.jackson.databind.ObjectMapper();
        com.fasterxml.jackson.databind.node.ObjectNode node = json.valueToTree(r);
        node.set(column, json.valueToTree(value));
        try {
            return json.treeToValue(node, ResultRow.class);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void modelTableShowsTheFreeDraftBoundNextToTheMeasuredSpeedup() {
        ResultRow beam = Rows.row("beam", 0, 4, false, 400, null, null, null, 1.0, 0.9);
        ResultRow tree = Rows.row("speculative_beam", 2, 4, false, 250, "beam B=4", 1.6, 0.4, 0.5, 0.9);
        String model = new ReportTables(List.of(beam, tree), List.of(), RUN).model();
        assertThat(model).contains("free-draft bound").contains("| 2.50x | 1.60x |");
    }

    @Test
    void modelTableTakesTheBaselineCostFromThePointsOwnPairedRounds() {
        // the standalone beam row's ONNX Runtime cost is 1.80 ms per forward; the tree's paired rounds measured 1.70
        ResultRow beam = Rows.row("beam", 0, 4, false, 400, null, null, null, 1.0, 0.9);
        ResultRow tree = Rows.row("speculative_beam", 2, 4, false, 250, "beam B=4", 1.6, 0.4, 0.5, 0.9);
        assertThat(beam.targetMsPerForward()).isEqualTo(1.8);
        String model = new ReportTables(List.of(beam, tree), List.of(), RUN).model();
        assertThat(model).contains("| 2.50 | 1.70 |").doesNotContain("| 2.50 | 1.80 |");
    }

    @Test
    void targetsSayMetOrMissedFromTheMeasuredNumbers() {
        List<ResultRow> rows = List.of(Rows.greedy(), speculative(2, 1.5, false), speculative(8, 0.85, true));
        String targets = new ReportTables(rows, List.of(), RUN).targets();
        assertThat(targets).contains("| speculative greedy over greedy, best k | 4, 8 | ≥ 2.30x | 1.50x (k=2) | **missed** |");
        assertThat(targets).contains("| greedy: share of wall time inside ONNX Runtime | 4 | ≥ 85% | 90% | met |");
        assertThat(targets).contains("speculative beam over beam B=4, best fixed k | 7 | ≥ 1.30x | – | not measured |");
        List<ResultRow> beams = List.of(Rows.row("beam", 0, 4, false, 400, null, null, null, 1.0, 0.9),
                Rows.row("speculative_beam", 2, 4, false, 250, "beam B=4", 1.6, 0.4, 0.5, 0.9),
                Rows.row("speculative_beam", 4, 4, true, 300, "beam B=4", 1.33, 0.3, 0.5, 0.9));
        String beamTargets = new ReportTables(beams, List.of(), RUN).targets();
        assertThat(beamTargets).contains("| speculative beam over beam B=4, best fixed k | 7 | ≥ 1.30x | 1.60x (k=2) | met |");
        assertThat(beamTargets).contains("| slowest hardware-aware (adaptive) speculative beam point | 7 | ≥ 0.95x | 1.33x");
        assertThat(beamTargets).contains("| adaptive speculative beam over the best fixed tree of its B | 7 | ≥ 0.90x | 0.83x");
        assertThat(beamTargets).contains("**missed**");
    }

    @Test
    void hfAssistedGenerationIsComparedWithTheSpeculativePointOfTheSameK() {
        List<ResultRow> rows = List.of(Rows.greedy(), speculative(2, 1.5, false), speculative(4, 2.0, false));
        List<ComparisonRow> hf = List.of(
                new ComparisonRow("hf", "greedy", 0, 1, 1, "cpu", 64, 800.0, 10.0, 80.0, null, 1.0, 3),
                new ComparisonRow("hf", "assisted", 2, 1, 1, "cpu", 64, 600.0, 10.0, 100.0, 0.7, 0.4, 3),
                new ComparisonRow("hf", "beam", 0, 4, 1, "cpu", 64, 900.0, 10.0, 70.0, null, 1.0, 3));
        ReportTables tables = new ReportTables(rows, hf, RUN);
        assertThat(tables.hfMatches()).hasSize(2);
        assertThat(tables.hfMatches().get(1).ours().k()).isEqualTo(2);
        assertThat(tables.hfMatches().get(1).ratio()).isCloseTo(600 / (100 / 1.5), within(1e-9));
        assertThat(tables.hf()).contains("| beam | 4 | 0 | 900.0 ± 10.0 | not in this run |");
    }

    @Test
    void sideBySideRowsComeFirstInTheHfBlockAndDecideTheHfTargets() {
        List<ResultRow> rows = List.of(Rows.greedy(), Rows.speculative());
        List<ComparisonRow> hf = List.of(new ComparisonRow("hf", "greedy", 0, 1, 1, "cpu", 64, 800.0, 10.0, 80.0,
                null, 1.0, 3));
        List<SideBySideRow> side = List.of(
                new SideBySideRow("greedy", 0, 1, "greedy", 45, 300.0, 48.0, 6.25, 6.0, 6.5, "2026-11-28T06:00:00Z",
                        "1.5-1.8", "2.13.0+cpu", "5.18.0"),
                new SideBySideRow("beam", 0, 4, "beam B=4", 45, 600.0, 104.0, 5.77, 5.5, 6.1, "2026-11-28T06:00:00Z",
                        "1.5-1.8", "2.13.0+cpu", "5.18.0"));
        ReportTables tables = new ReportTables(rows, hf, RUN, side);
        String block = tables.hf();
        assertThat(block.indexOf("**Side by side**")).isLessThan(block.indexOf("**Timed apart**"));
        assertThat(block).contains("| greedy | 1 | 0 | greedy | 45 | 300.0 | 48.0 | 6.25x [6.00, 6.50] |")
                .contains("load average 1.5-1.8");
        String targets = tables.targets();
        assertThat(targets).contains("side by side: greedy | 9 | ≥ 6.00x | 6.25x [6.00, 6.50] (greedy) | met |")
                .contains("side by side: beam B=4 | 9 | ≥ 6.00x | 5.77x [5.50, 6.10] (beam B=4) | **missed** |");
        // the ratios of timings taken apart are no longer targets once a side-by-side measurement exists
        assertThat(targets).doesNotContain("faster than HF `generate`: greedy |");
        assertThat(new ReportTables(rows, hf, RUN).targets()).contains("faster than HF `generate`: greedy |");
    }

    @Test
    void everyBlockCarriesAHowToRead() {
        List<ResultRow> rows = List.of(Rows.greedy(), Rows.speculative());
        new ReportTables(rows, List.of(), RUN).blocks().forEach((name, content) -> {
            if (!name.equals("run")) {
                assertThat(content).as(name).contains("*How to read this:*");
            }
        });
    }
}
