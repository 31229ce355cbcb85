package specbeam.golden;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;
import specbeam.Engine;
import specbeam.EngineOptions;
import specbeam.TestModels;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.Mode;
import specbeam.model.ModelManifest;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The float16 graph (FORMAT.md "Half precision", built for the CUDA provider) on this CPU: tiny/gemma3-fp16 is
 * tiny/gemma3 exported with {@code --dtype float16} (its keys/values float16 in the engine's cache, masks and
 * logits float32). Exactness is promised in float32 only; here the half graph must load, run every mode, and
 * agree with the float32 graph on most of the goldens' cases. The agreement is printed ({@code [half]}) and is
 * what the README reports.
 */
class HalfPrecisionTest {
    private static final List<String> REPORT = new ArrayList<>();

    @Test
    void halfGraphAgreesWithFloat32OnTheGoldensCases() throws IOException {
        Path full = TestModels.tiny("gemma3");
        Path half = TestModels.tiny("gemma3-fp16");
        assertThat(ModelManifest.read(half).halfPrecision()).isTrue();
        List<GoldenCheck.Case> cases = GoldenCheck.read(full.resolve("goldens.json"));
        int same = 0;
        int compared = 0;
        double prefix = 0;
        try (Engine f32 = Engine.open(EngineOptions.of(full, null));
             Engine f16 = Engine.open(EngineOptions.of(half, null))) {
            for (GoldenCheck.Case c : cases) {
                int[] want = f32.generate(List.of(c.prompt()), c.config()).sequences().get(0).get(0).tokens();
                int[] got = f16.generate(List.of(c.prompt()), c.config()).sequences().get(0).get(0).tokens();
                compared++;
                same += Arrays.equals(want, got) ? 1 : 0;
                prefix += commonGenerated(want, got, c.prompt().length);
            }
        }
        REPORT.add(String.format("greedy and beam, %d goldens cases: %d identical to float32 (%.0f%%), generated "
                + "tokens agreeing before the first difference %.0f%%", compared, same, 100.0 * same / compared,
                100 * prefix / compared));
        assertThat(compared).isEqualTo(cases.size());
        assertThat(same).as("cases where float16 generates what float32 does (51 of 51 when written)")
                .isGreaterThanOrEqualTo(compared * 9 / 10);
    }

    @Test
    void speculativeModesRunOnTheHalfGraphAndMostlyAgreeWithItsTarget() {
        Path half = TestModels.tiny("gemma3-fp16");
        int[] prompt = new int[40];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 3 + (i * 41) % 500;
        }
        int agree = 0;
        int runs = 0;
        try (Engine engine = Engine.open(EngineOptions.of(half, half))) {
            for (int width : new int[] {1, 2, 4}) {
                GenerationConfig target = GenerationConfig.builder(width == 1 ? Mode.GREEDY : Mode.BEAM)
                        .beamWidth(width).maxNewTokens(16).build();
                GenerationConfig spec = GenerationConfig.builder(width == 1 ? Mode.SPECULATIVE : Mode.SPECULATIVE_BEAM)
                        .beamWidth(width).maxNewTokens(16).k(3).build();
                GenerationResult want = engine.generate(List.of(prompt), target);
                GenerationResult got = engine.generate(List.of(prompt), spec);
                assertThat(got.stats().targetForwards).isLessThan(want.stats().targetForwards);
                runs++;
                agree += sameSequences(want.sequences().get(0), got.sequences().get(0)) ? 1 : 0;
            }
            GenerationConfig sampling = GenerationConfig.builder(Mode.SPECULATIVE_SAMPLING).maxNewTokens(16).k(3)
                    .seed(7).build();
            assertThat(engine.generate(List.of(prompt), sampling).sequences().get(0).get(0).tokens())
                    .hasSizeGreaterThan(prompt.length);
        }
        REPORT.add("speculative greedy / beam B = 2, 4 with draft = target, 40-token prompt: " + agree + " of " + runs
                + " identical to target-only decoding in float16 (the tree and the linear forwards round differently)");
        assertThat(agree).as("3 of 3 when written").isGreaterThanOrEqualTo(2);
    }

    private static boolean sameSequences(List<GeneratedSequence> a, List<GeneratedSequence> b) {
        if (a.size() != b.size()) {
            return false;
        }
        for (int i = 0; i < a.size(); i++) {
            if (!Arrays.equals(a.get(i).tokens(), b.get(i).tokens())) {
                return false;
            }
        }
        return true;
    }

    /** The share of generated tokens of {@code want} that {@code got} matches before they first differ. */
    private static double commonGenerated(int[] want, int[] got, int promptLength) {
        int generated = want.length - promptLength;
        if (generated <= 0) {
            return 1;
        }
        int i = promptLength;
        while (i < want.length && i < got.length && want[i] == got[i]) {
            i++;
        }
        return (double) (i - promptLength) / generated;
    }

    @AfterAll
    static void report() {
        REPORT.forEach(line -> System.out.println("[half] " + line));
    }
}
