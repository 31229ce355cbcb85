package specbeam.projection;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.within;

class CostCurveTest {
    static final String SYNTHETIC = SyntheticCurve.JSON;

    @TempDir
    Path dir;

    @Test
    void interpolatesLinearlyBetweenMeasuredRowsAndTokens() {
        CostCurve c = CostCurve.parse(SYNTHETIC, "synthetic.json");
        assertThat(c.ms("t", 1, 1)).isEqualTo(10);
        assertThat(c.ms("t", 1, 3)).isCloseTo(12, within(1e-9));       // halfway between q2 (11) and q4 (13)
        assertThat(c.ms("t", 1, 5)).isCloseTo(14, within(1e-9));       // a quarter of the way from q4 (13) to q8 (17)
        assertThat(c.ms("t", 2.5, 1)).isCloseTo(12, within(1e-9));     // halfway between r1 (10) and r4 (14)
        assertThat(c.ms("t", 4, 8)).isEqualTo(21);
        assertThat(c.targets()).containsExactly("t");
        assertThat(c.drafts()).containsExactly("draft");
        assertThat(c.device()).isEqualTo("Synthetic GPU");
        assertThat(c.prefix()).isEqualTo(512);
    }

    @Test
    void outsideTheMeasuredRangeIsNotExtrapolated() {
        CostCurve c = CostCurve.parse(SYNTHETIC, "synthetic.json");
        assertThat(c.ms("t", 8, 1)).isNaN();
        assertThat(c.ms("t", 1, 9)).isNaN();
        assertThat(c.ms("unknown", 1, 1)).isNaN();
    }

    @Test
    void aNoisySmallShapeIsCappedByTheCheapestLargerOne() {
        String noisy = SYNTHETIC.replace("\"t/r1/q1\": 10", "\"t/r1/q1\": 30");
        CostCurve c = CostCurve.parse(noisy, "noisy.json");
        assertThat(c.ms("t", 1, 1)).isEqualTo(11);    // r1/q2 measured 11: one token cannot cost more than two
    }

    @Test
    void theBundledH200CurveHasTwoTargetsAndADraft() {
        CostCurve c = CostCurve.bundled();
        assertThat(c.source()).isEqualTo(CostCurve.BUNDLED_PATH);
        assertThat(c.device()).isEqualTo("NVIDIA H200");
        assertThat(c.targets()).containsExactly("llama1b", "llama7b");
        assertThat(c.drafts()).containsExactly("draft68m");
        assertThat(c.ms("llama7b", 8, 32)).isEqualTo(40.718);
    }

    @Test
    void theBundledCurveIsTheFileInTheRepository() throws IOException {
        Path file = Path.of(System.getProperty("specbeam.root", "..")).resolve(CostCurve.BUNDLED_PATH);
        CostCurve fromFile = CostCurve.read(file);
        CostCurve bundled = CostCurve.bundled();
        for (double rows : new double[] {1, 3, 8}) {
            for (double q : new double[] {1, 5.5, 32}) {
                assertThat(bundled.ms("llama1b", rows, q)).isEqualTo(fromFile.ms("llama1b", rows, q));
            }
        }
    }

    @Test
    void aMissingFileSaysSoAndHowToFixIt() {
        Path missing = dir.resolve("nope.json");
        assertThatThrownBy(() -> CostCurve.read(missing)).isInstanceOf(CostCurveException.class)
                .hasMessageContaining(missing + " does not exist").hasMessageContaining("--cost-curve");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "{\"ms\": {\"t/r1/q1\": 1, | not valid JSON",
            "[1, 2] | expected a JSON object",
            "{\"device\": \"x\"} | no \"ms\" object",
            "{\"ms\": {\"t/rows1/q1\": 1}} | is not of the form <shape>/r<rows>/q<tokens>",
            "{\"ms\": {\"t/r1/q1\": -3, \"draft/r1/q1\": 1}} | must be a positive number",
            "{\"ms\": {\"t/r1/q1\": \"fast\", \"draft/r1/q1\": 1}} | must be a positive number",
            "{\"ms\": {\"t/r1/q1\": 1, \"t/r4/q2\": 1, \"t/r1/q2\": 1, \"draft/r1/q1\": 1}} | has no entry t/r4/q1",
            "{\"ms\": {\"t/r4/q1\": 1, \"draft/r1/q1\": 1}} | needs an entry for 1 row and 1 token",
            "{\"ms\": {\"t/r1/q1\": 1}} | needs at least one target shape and one draft shape"})
    void aMalformedCurveGivesOneMessageNamingTheProblem(String json, String problem) throws IOException {
        Path file = dir.resolve("bad.json");
        Files.writeString(file, json);
        assertThatThrownBy(() -> CostCurve.read(file)).isInstanceOf(CostCurveException.class)
                .hasMessageContaining("cost curve " + file + " is malformed").hasMessageContaining(problem)
                .hasMessageContaining(CostCurve.FORMAT_DOC)
                .satisfies(e -> assertThat(e.getMessage().lines().count()).isEqualTo(1));
    }
}
