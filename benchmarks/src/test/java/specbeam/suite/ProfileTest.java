package specbeam.suite;

import org.junit.jupiter.api.Test;
import specbeam.decode.Mode;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class ProfileTest {

    @Test
    void pairedWarmupCoversTenCallsPerSideInWholePassesWhateverTheBatch() {
        assertThat(Profile.FULL.pairedWarmupRounds(5)).isEqualTo(2);    // 5 prompts, one per call: 10 calls
        assertThat(Profile.FULL.pairedWarmupRounds(2)).isEqualTo(5);    // batch 4: two calls per pass
        assertThat(Profile.FULL.pairedWarmupRounds(1)).isEqualTo(10);
        assertThat(Profile.FULL.pairedWarmupRounds(4)).isEqualTo(3);    // rounded up: 12 calls
    }

    @Test
    void quickProfileWarmsUpOnePass() {
        assertThat(Profile.QUICK.pairedWarmupRounds(5)).isEqualTo(1);
        assertThat(Profile.QUICK.pairedWarmupRounds(1)).isEqualTo(1);
    }

    @Test
    void scaleProfileIsTheBatchOneGridWithoutSampling() {
        var points = Profile.SCALE.points();
        assertThat(points).allMatch(p -> p.batch() == 1);
        assertThat(points).noneMatch(p -> p.mode() == Mode.SAMPLING || p.mode() == Mode.SPECULATIVE_SAMPLING);
        assertThat(Profile.FULL.points()).containsAll(points);
        assertThat(points).filteredOn(p -> p.mode() == Mode.SPECULATIVE_BEAM && p.adaptive())
                .extracting(GridPoint::beamWidth).containsExactly(2, 4, 8);
        assertThat(points).filteredOn(p -> p.mode() == Mode.BEAM).extracting(GridPoint::beamWidth)
                .containsExactly(2, 4, 8);
    }

    @Test
    void scaleOptionWritesUnderResultsScaleAndNeedsTheWidenedPair() {
        String[] scale = {"--scale", "--models", "models/pair"};
        SuiteOptions o = SuiteOptions.parse(scale);
        assertThat(o.profile()).isEqualTo(Profile.SCALE);
        assertThat(o.csv()).isEqualTo(Path.of("results", "scale", "benchmark.csv"));
        assertThat(o.reportFile()).isEqualTo(Path.of("results", "scale", "REPORT.md"));
        assertThat(SuiteOptions.parse(new String[] {"--scale", "--out", "/tmp/x", "--models", "m"}).csv())
                .isEqualTo(Path.of("/tmp/x", "benchmark.csv"));
        assertThatThrownBy(() -> SuiteOptions.parse(new String[] {"--scale", "--quick"}))
                .isInstanceOf(UsageException.class).hasMessageContaining("give one of them");
        if (!Files.isDirectory(SuiteOptions.SCALE_MODELS)) {   // a fresh clone: the pair is built, not committed
            assertThatThrownBy(() -> SuiteOptions.parse(new String[] {"--scale"})).isInstanceOf(UsageException.class)
                    .hasMessageContaining("python3 models/widen.py");
        }
    }
}
