package specbeam.suite;

import org.junit.jupiter.api.Test;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class GridTest {

    private static List<GridPoint> plan(Profile profile, Map<Axis, List<String>> overrides) {
        return Grid.plan(profile, overrides).points();
    }

    @Test
    void fullGridHoldsOnlyCanonicalDistinctPointsWithTheirBaselines() {
        List<GridPoint> points = plan(Profile.FULL, Map.of());
        assertThat(points).allMatch(GridPoint::isCanonical);
        assertThat(new HashSet<>(points)).hasSameSizeAs(points);
        assertThat(points).allMatch(p -> points.contains(p.baseline()));
        assertThat(points).extracting(GridPoint::mode).contains(Mode.values());
        assertThat(points).hasSize(20 + 8);
        assertThat(points).filteredOn(p -> p.batch() > 1).extracting(GridPoint::label).containsExactly(
                "greedy batch=4", "speculative k=4 batch=4", "beam B=4 batch=4", "speculative_beam k=4 B=4 adaptive batch=4",
                "greedy batch=8", "speculative k=4 batch=8", "beam B=4 batch=8", "speculative_beam k=4 B=4 adaptive batch=8");
    }

    @Test
    void batchOneLeavesTheThroughputPointsOut() {
        List<GridPoint> points = plan(Profile.FULL, Map.of(Axis.BATCH, List.of("1")));
        // the 20 latency points: the throughput points' speculative beam (k = 4, B = 4, hardware-aware tree) is one
        assertThat(points).hasSize(20).allMatch(p -> p.batch() == 1);
    }

    @Test
    void quickGridIsFourPointsTwoBaselinesTwoSpeculative() {
        assertThat(plan(Profile.QUICK, Map.of())).extracting(GridPoint::label)
                .containsExactly("greedy", "speculative k=4", "beam B=4", "speculative_beam k=3 B=4");
    }

    @Test
    void greedyWithABeamWidthIsMeasuredOnceAsGreedy() {
        List<String> notes = new ArrayList<>();
        List<GridPoint> points = Grid.finish(List.of(
                new GridPoint(Mode.GREEDY, 0, 1, false, ExecutionProvider.CPU, 1, 64),
                new GridPoint(Mode.GREEDY, 0, 4, false, ExecutionProvider.CPU, 1, 64),
                new GridPoint(Mode.GREEDY, 3, 1, true, ExecutionProvider.CPU, 1, 64)), notes);
        assertThat(points).containsExactly(new GridPoint(Mode.GREEDY, 0, 1, false, ExecutionProvider.CPU, 1, 64));
        assertThat(notes).singleElement().asString().contains("measured once");
    }

    @Test
    void modeParameterKeepsThatModesPointsAndAddsTheirBaselines() {
        List<GridPoint> points = plan(Profile.FULL, Map.of(Axis.MODE, List.of("speculative_beam")));
        assertThat(points).filteredOn(p -> p.mode() == Mode.SPECULATIVE_BEAM).hasSize(8 + 2);
        assertThat(points).filteredOn(p -> p.mode() == Mode.BEAM).extracting(GridPoint::label)
                .containsExactly("beam B=2", "beam B=4", "beam B=8", "beam B=4 batch=4", "beam B=4 batch=8");
        assertThat(points).extracting(GridPoint::mode).containsOnly(Mode.BEAM, Mode.SPECULATIVE_BEAM);
    }

    @Test
    void kParameterReplacesKOnlyWhereAModeUsesIt() {
        List<GridPoint> points = plan(Profile.QUICK, Map.of(Axis.K, List.of("2", "5")));
        assertThat(points).extracting(GridPoint::label).containsExactly(
                "greedy", "speculative k=2", "speculative k=5", "beam B=4", "speculative_beam k=2 B=4",
                "speculative_beam k=5 B=4");
    }

    @Test
    void settingAxesMultiplyEveryPoint() {
        List<GridPoint> points = plan(Profile.QUICK, Map.of(Axis.PROVIDER, List.of("cpu", "cuda"),
                Axis.BATCH, List.of("1", "2")));
        assertThat(points).hasSize(16);
        assertThat(points).allMatch(p -> points.contains(p.baseline()));
    }

    @Test
    void aModeMissingFromTheProfileGetsOneDefaultPoint() {
        assertThat(plan(Profile.QUICK, Map.of(Axis.MODE, List.of("speculative_sampling"))))
                .extracting(GridPoint::label).containsExactly("sampling", "speculative_sampling k=4");
    }

    @Test
    void badValuesAreRejectedWithAMessageThatSaysHowToFixThem() {
        assertThatThrownBy(() -> plan(Profile.FULL, Map.of(Axis.MODE, List.of("nucleus"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown mode 'nucleus'");
        assertThatThrownBy(() -> plan(Profile.FULL, Map.of(Axis.K, List.of("0"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("k >= 1");
        assertThatThrownBy(() -> plan(Profile.FULL, Map.of(Axis.K, List.of("four"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("whole number");
        assertThatThrownBy(() -> plan(Profile.FULL, Map.of(Axis.BEAM_WIDTH, List.of("0"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("beamWidth must be >= 1");
        assertThatThrownBy(() -> plan(Profile.FULL, Map.of(Axis.PROVIDER, List.of("tpu"))))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("unknown provider");
    }

    @Test
    void baselinesRunBeforeTheirSpeculativeVariants() {
        List<GridPoint> points = plan(Profile.FULL, Map.of());
        for (GridPoint p : points) {
            assertThat(points.indexOf(p.baseline())).as("baseline of %s", p.label()).isLessThanOrEqualTo(points.indexOf(p));
        }
    }

    @Test
    void qualityItemsAreSpreadOverTheWholeTask() {
        assertThat(Suite.evenlySpaced(List.of(0, 1, 2, 3, 4, 5, 6, 7, 8, 9), 4)).containsExactly(0, 2, 5, 7);
        assertThat(Suite.evenlySpaced(List.of(0, 1), 4)).containsExactly(0, 1);
    }

    @Test
    void jmhParamsRoundTripToTheSamePoint() {
        for (GridPoint p : plan(Profile.FULL, Map.of())) {
            assertThat(GridPoint.fromParams(p.jmhParams())).isEqualTo(p);
        }
    }

    @Test
    void eachPointBuildsAValidEngineConfiguration() {
        for (GridPoint p : plan(Profile.FULL, Map.of())) {
            assertThat(p.config().mode()).isEqualTo(p.mode());
            assertThat(p.config().effectiveBeamWidth()).isEqualTo(p.beamWidth());
        }
    }
}
