package specbeam.suite;

import org.junit.jupiter.api.Test;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;
import specbeam.report.SideBySideRow;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class HfSideBySideTest {

    private static GridPoint point(Mode mode, int k, int beams, boolean adaptive, int batch) {
        return new GridPoint(mode, k, beams, adaptive, ExecutionProvider.CPU, batch, 64);
    }

    @Test
    void matchesGreedyBeamAndFixedSpeculativePointsAtBatchOneOnly() {
        List<HfSideBySide.Match> m = HfSideBySide.matches(List.of(
                point(Mode.GREEDY, 0, 1, false, 1), point(Mode.BEAM, 0, 4, false, 1),
                point(Mode.SPECULATIVE, 4, 1, false, 1), point(Mode.SPECULATIVE, 8, 1, true, 1),
                point(Mode.SPECULATIVE_BEAM, 2, 4, false, 1), point(Mode.SAMPLING, 0, 1, false, 1),
                point(Mode.GREEDY, 0, 1, false, 4), point(Mode.BEAM, 0, 4, false, 8)));
        assertThat(m).extracting(HfSideBySide.Match::label).containsExactly("greedy", "beam B=4", "assisted k=4");
        assertThat(m.get(2).ours().k()).isEqualTo(4);
    }

    @Test
    void alternatesWhoGoesFirstRecordsOnlyTheTimedPassesAndPairsEachPromptsTwoCalls() throws Exception {
        List<String> calls = new ArrayList<>();
        // HF is 6x slower on every prompt; prompt i costs (i + 1) on specbeam's side, so the prompts differ a lot
        HfSideBySide.Side hf = (m, i, record) -> {
            calls.add("hf" + i + (record ? "" : "-warm"));
            return 6.0 * (i + 1);
        };
        HfSideBySide.Side ours = (m, i, record) -> {
            calls.add("us" + i + (record ? "" : "-warm"));
            return i + 1.0;
        };
        ByteArrayOutputStream log = new ByteArrayOutputStream();
        List<HfSideBySide.Pairs> pairs = HfSideBySide.interleave(
                List.of(new HfSideBySide.Match("greedy", 0, 1, point(Mode.GREEDY, 0, 1, false, 1))), 3, 2, hf, ours, 0,
                new PrintStream(log, true, StandardCharsets.UTF_8));
        // one untimed pass, then two timed ones; the side that goes first alternates by prompt and by pass
        assertThat(calls).containsExactly(
                "us0-warm", "hf0-warm", "hf1-warm", "us1-warm", "us2-warm", "hf2-warm",
                "hf0", "us0", "us1", "hf1", "hf2", "us2",
                "us0", "hf0", "hf1", "us1", "us2", "hf2");
        HfSideBySide.Pairs p = pairs.get(0);
        assertThat(p.hfMs()).containsExactly(6, 12, 18, 6, 12, 18);
        assertThat(p.oursMs()).containsExactly(1, 2, 3, 1, 2, 3);
        assertThat(p.ratio().speedup()).isCloseTo(6.0, within(1e-9));
        SideBySideRow row = p.row(Map.of("measured_at", "2026-11-28T06:00:00Z", "loadavg", "1.2-1.9"));
        assertThat(row.pairs()).isEqualTo(6);
        assertThat(row.hfMsMean()).isCloseTo(12.0, within(1e-9));
        assertThat(row.specbeamMsMean()).isCloseTo(2.0, within(1e-9));
        assertThat(row.speedupLow()).isCloseTo(6.0, within(1e-9));   // no spread in the ratios
        assertThat(row.loadavg()).isEqualTo("1.2-1.9");
        assertThat(log.toString(StandardCharsets.UTF_8)).contains("6.00x", "6 pairs");
    }

    @Test
    void aSlowerSideOnSomePairsWidensTheIntervalAroundTheGeometricMean() throws Exception {
        double[] hfTimes = {5, 7, 6, 6.5, 5.5, 6};
        int[] n = {0};
        HfSideBySide.Side hf = (m, i, record) -> record ? hfTimes[n[0]++] : 1;
        HfSideBySide.Side ours = (m, i, record) -> 1.0;
        HfSideBySide.Pairs p = HfSideBySide.interleave(
                List.of(new HfSideBySide.Match("beam", 0, 2, point(Mode.BEAM, 0, 2, false, 1))), 3, 2, hf, ours, 0,
                new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8)).get(0);
        double geo = Math.exp((Math.log(5) + Math.log(7) + Math.log(6) + Math.log(6.5) + Math.log(5.5) + Math.log(6)) / 6);
        assertThat(p.ratio().speedup()).isCloseTo(geo, within(1e-9));
        assertThat(p.ratio().low()).isLessThan(geo);
        assertThat(p.ratio().high()).isGreaterThan(geo);
    }
}
