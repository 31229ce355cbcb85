package specbeam.report;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class CsvFilesTest {
    /** The header of results/hf_baseline.csv as models/hf_baseline.py writes it. */
    static final String HF_COLUMNS = "engine,mode,k,beam_width,batch,provider,max_new_tokens,latency_ms_mean,"
            + "latency_ms_ci999,tokens_per_s,acceptance_rate,target_forwards_per_token,n";

    @TempDir
    Path dir;

    @Test
    void resultsStartWithTheColumnsSharedWithTheHfBaseline() throws IOException {
        Path file = dir.resolve("benchmark.csv");
        CsvFiles.writeResults(file, List.of(Rows.greedy(), Rows.speculative()));
        String header = Files.readAllLines(file).get(0);
        assertThat(header).startsWith(HF_COLUMNS + ",");
        assertThat(header.split(",")).doesNotHaveDuplicates()
                .contains("latency_ms_ci999", "rel_error", "ort_share", "speedup_vs_baseline", "identical_share",
                        "perplexity", "bleu", "rouge1_f1", "rouge2_f1", "rougeL_f1", "distinct1", "distinct2",
                        "self_bleu", "cpu_model", "ort_version", "provider_used", "target_sha256", "draft_sha256");
    }

    @Test
    void notApplicableValuesAreEmptyCellsAndRowsReadBackEqual() throws IOException {
        Path file = dir.resolve("benchmark.csv");
        List<ResultRow> rows = List.of(Rows.greedy(), Rows.speculative());
        CsvFiles.writeResults(file, rows);
        String greedyLine = Files.readAllLines(file).get(1);
        assertThat(greedyLine).startsWith("specbeam,greedy,0,1,1,cpu,64,");
        assertThat(greedyLine).doesNotContain("NaN").doesNotContain("null");
        assertThat(CsvFiles.readResults(file)).isEqualTo(rows);
    }

    @Test
    void writesLeaveNoTemporaryFilesBehind() throws IOException {
        CsvFiles.writeResults(dir.resolve("benchmark.csv"), List.of(Rows.greedy()));
        CsvFiles.writeResults(dir.resolve("benchmark.csv"), List.of(Rows.greedy(), Rows.speculative()));
        try (var files = Files.list(dir)) {
            assertThat(files).extracting(p -> p.getFileName().toString()).containsExactly("benchmark.csv");
        }
    }

    @Test
    void hfBaselineIsReadLenientlyAndItsColumnsMatchTheComparisonFile() throws IOException {
        Path hf = dir.resolve("hf_baseline.csv");
        Files.writeString(hf, HF_COLUMNS + ",extra\n"
                + "hf,greedy,,1,1,cpu,64,540.5,12.25,118.4,,1.015,5,x\n"
                + "hf,speculative,4,1,1,cpu,64,300,nan,200,0.7,0.4,5,y\n");
        List<ComparisonRow> rows = CsvFiles.readComparison(hf);
        assertThat(rows).hasSize(2);
        assertThat(rows.get(0).k()).isNull();
        assertThat(rows.get(0).latencyMsMean()).isEqualTo(540.5);
        assertThat(rows.get(1).latencyMsCi999()).isNull();
        assertThat(rows.get(1).acceptanceRate()).isEqualTo(0.7);

        Path comparison = dir.resolve("comparison.csv");
        CsvFiles.writeComparison(comparison, rows);
        assertThat(Files.readAllLines(comparison).get(0)).isEqualTo(HF_COLUMNS);
    }

    @Test
    void hfBaselineWithoutTheSharedColumnsIsAnError() throws IOException {
        Path hf = dir.resolve("hf_baseline.csv");
        Files.writeString(hf, "a,b\n1,2\n");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> CsvFiles.readComparison(hf))
                .isInstanceOf(IOException.class).hasMessageContaining("engine");
    }

    @Test
    void sideBySideRowsSurviveARoundTripWithAMissingInterval(@TempDir Path tmp) throws IOException {
        List<SideBySideRow> rows = List.of(new SideBySideRow("assisted", 4, 1, "speculative k=4", 1, 310.5, 41.25, 7.5,
                null, null, "2026-11-28T06:00:00Z", "1.5-1.8", "2.13.0+cpu", "5.18.0"));
        Path file = tmp.resolve("hf_side_by_side.csv");
        CsvFiles.writeSideBySide(file, rows);
        assertThat(Files.readAllLines(file).get(0)).isEqualTo("hf_mode,k,beam_width,specbeam_point,pairs,"
                + "hf_ms_mean,specbeam_ms_mean,speedup,speedup_low,speedup_high,measured_at,loadavg,torch,transformers");
        assertThat(CsvFiles.readSideBySide(file)).isEqualTo(rows);
    }
}
