package specbeam.decode;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * With fixed logits (no floating-point noise between forward shapes), every speculative strategy must
 * reproduce its target-only counterpart bit for bit, whatever the draft.
 */
class SpeculativeExactnessOnFakeModelTest {
    private static final FakeLm TARGET = new FakeLm(64, 7, 2.5);
    private static final FakeLm SAME = TARGET;
    private static final FakeLm CLOSE = TARGET.perturbed(99, 0.8);
    private static final FakeLm UNRELATED = new FakeLm(64, 12345, 2.5);

    static List<int[]> prompts() {
        return List.of(new int[] {5}, new int[] {3, 9, 11, 2}, new int[] {7, 7, 7, 1, 2, 3, 4, 5, 6, 8, 10, 12});
    }

    static Stream<Arguments> drafts() {
        return Stream.of(Arguments.of("same", SAME), Arguments.of("close", CLOSE), Arguments.of("unrelated", UNRELATED));
    }

    static Stream<Arguments> beamCases() {
        List<Arguments> cases = new ArrayList<>();
        int[][] shapes = {{2, 2, 2}, {4, 3, 2}, {4, 4, 3}, {8, 2, 2}, {3, 5, 1}};
        EarlyStopping[] stops = EarlyStopping.values();
        double[] penalties = {1.0, 0.0, 2.0};
        int c = 0;
        for (Arguments d : drafts().toList()) {
            for (int[] s : shapes) {
                GenerationConfig config = GenerationConfig.builder(Mode.SPECULATIVE_BEAM)
                        .beamWidth(s[0]).k(s[1]).treeBranching(s[2]).maxNewTokens(12 + c % 9)
                        .minNewTokens(c % 4 == 0 ? 3 : 0)
                        .earlyStopping(stops[c % 3]).lengthPenalty(penalties[(c / 3) % 3])
                        .numReturnSequences(Math.min(s[0], 1 + c % 3)).adaptive(c % 5 == 4).build();
                cases.add(Arguments.of(d.get()[0], d.get()[1], config));
                c++;
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} draft, {2}")
    @MethodSource("beamCases")
    void speculativeBeamEqualsTargetBeam(String name, FakeLm draft, GenerationConfig config) {
        GenerationResult expected = new BeamSearchDecoding(TARGET).generate(prompts(),
                config.toBuilder().build(), null);
        GenerationResult actual = new SpeculativeBeamDecoding(TARGET, draft).generate(prompts(), config, null);
        assertSameSequences(actual, expected);
        assertThat(actual.stats().steps).isEqualTo(expected.stats().steps);
        if (draft == SAME && !config.adaptive()) {
            // a draft equal to the target keeps most of each tree: well over one step per forward,
            // and never more than the tree depth plus the step that leaves the tree
            assertThat(actual.stats().targetForwards).isLessThan(expected.stats().targetForwards);
            assertThat(actual.stats().stepsPerTargetForward()).isGreaterThan(1.5).isLessThanOrEqualTo(config.k() + 1);
        }
        if (draft == UNRELATED && !config.adaptive()) {
            assertThat(actual.stats().stepsPerTargetForward()).isLessThan(1.5);
        }
    }

    @ParameterizedTest(name = "B={0}, k={1}")
    @MethodSource("depthCases")
    void speculativeBeamWithDraftEqualToTargetAdvancesNearlyKPlusOneStepsPerForward(int width, int k) {
        // no end-of-sequence, so every round can use the whole tree: with the draft's beam search equal to the
        // target's, each forward replays the k tree levels plus the step that leaves the tree
        GenerationConfig config = GenerationConfig.builder(Mode.SPECULATIVE_BEAM).beamWidth(width).k(k)
                .treeBranching(1).maxNewTokens(48).minNewTokens(48).earlyStopping(EarlyStopping.NEVER).build();
        GenerationResult expected = new BeamSearchDecoding(TARGET).generate(prompts(), config, null);
        GenerationResult actual = new SpeculativeBeamDecoding(TARGET, SAME).generate(prompts(), config, null);
        assertSameSequences(actual, expected);
        int rounds = (int) Math.ceil((48.0 - 1) / (k + 1));   // the first step comes from the prefill
        assertThat(actual.stats().stepsPerTargetForward()).isGreaterThanOrEqualTo((48.0 - 1) / rounds - 1e-9);
        assertThat(actual.stats().targetForwards).isEqualTo(1 + rounds);
    }

    static Stream<Arguments> depthCases() {
        return Stream.of(Arguments.of(1, 3), Arguments.of(2, 2), Arguments.of(4, 3), Arguments.of(8, 2), Arguments.of(4, 5));
    }

    static Stream<Arguments> chainCases() {
        List<Arguments> cases = new ArrayList<>();
        for (Arguments d : drafts().toList()) {
            for (int k = 1; k <= 6; k += 2) {
                for (boolean adaptive : new boolean[] {false, true}) {
                    cases.add(Arguments.of(d.get()[0], d.get()[1], GenerationConfig.builder(Mode.SPECULATIVE)
                            .k(k).adaptive(adaptive).maxNewTokens(20 + k).minNewTokens(k % 3).build()));
                }
            }
        }
        return cases.stream();
    }

    @ParameterizedTest(name = "{0} draft, {2}")
    @MethodSource("chainCases")
    void speculativeGreedyEqualsTargetGreedy(String name, FakeLm draft, GenerationConfig config) {
        GenerationResult expected = new GreedyDecoding(TARGET).generate(prompts(), config, null);
        GenerationResult actual = new SpeculativeDecoding(TARGET, draft).generate(prompts(), config, null);
        assertSameSequences(actual, expected);
        if (draft == SAME) {
            assertThat(actual.stats().acceptanceRate()).isEqualTo(1.0);
        }
    }

    static void assertSameSequences(GenerationResult actual, GenerationResult expected) {
        assertThat(actual.sequences()).hasSameSizeAs(expected.sequences());
        for (int i = 0; i < expected.sequences().size(); i++) {
            List<GeneratedSequence> e = expected.sequences().get(i);
            List<GeneratedSequence> a = actual.sequences().get(i);
            assertThat(a).hasSameSizeAs(e);
            for (int s = 0; s < e.size(); s++) {
                assertThat(a.get(s).tokens()).as("prompt %d sequence %d", i, s).isEqualTo(e.get(s).tokens());
                assertThat(a.get(s).score()).as("prompt %d sequence %d score", i, s).isEqualTo(e.get(s).score());
            }
        }
    }
}
