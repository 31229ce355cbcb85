package specbeam.suite;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

class HfBaselineTest {
    @TempDir
    Path dir;

    @Test
    void noHfAndQuickSkipTheMeasurementAndSayWhy() {
        assertThat(HfBaseline.skipReason(SuiteOptions.parse(new String[] {"--no-hf"}))).isEqualTo("--no-hf");
        assertThat(HfBaseline.skipReason(SuiteOptions.parse(new String[] {"--quick"}))).contains("--quick");
        assertThat(SuiteOptions.parse(new String[0]).noHf()).isFalse();
    }

    @Test
    void provenanceNamesDateLoadAndVersionsAndWhetherThisRunMeasuredIt() throws IOException {
        Path csv = dir.resolve("hf_baseline.csv");
        Files.writeString(csv, "engine,mode,n,measured_at,loadavg,torch,transformers\n"
                + "hf,greedy,5,2026-11-27T14:00:00Z,0.4-1.1,2.13.0+cpu,5.18.0\n");
        assertThat(HfBaseline.provenance(csv, true, null)).isEqualTo("_HF baseline measured in this run after the grid, "
                + "alternating call by call with specbeam (measured 2026-11-27T14:00:00Z, load average 0.4-1.1, torch 2.13.0+cpu, transformers 5.18.0)._");
        assertThat(HfBaseline.provenance(csv, false, "--no-hf"))
                .startsWith("_HF baseline **not measured in this run** (--no-hf): the numbers are those of " + csv)
                .contains("measured 2026-11-27T14:00:00Z");
    }
}
