package specbeam.decode;

import org.junit.jupiter.api.Test;

import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The prompt's forwards are counted apart from the decode phase's (the forward-cost projection relies on it). */
class PrefillCountersTest {
    private static final FakeLm TARGET = new FakeLm(64, 7, 2.5);
    private static final FakeLm DRAFT = TARGET.perturbed(99, 0.8);
    private static final List<int[]> PROMPTS = List.of(new int[] {3, 9, 11, 2}, new int[] {7, 7, 1});

    private static GenerationConfig config(Mode mode) {
        GenerationConfig.Builder b = GenerationConfig.builder(mode).maxNewTokens(8).minNewTokens(8);
        if (mode.isBeam()) {
            b.beamWidth(2);
        }
        if (mode.isSpeculative()) {
            b.k(3);
        }
        return b.build();
    }

    @Test
    void greedyFeedsThePromptOnceThenOneTokenPerRowPerForward() {
        DecodeStats s = new GreedyDecoding(TARGET).generate(PROMPTS, config(Mode.GREEDY), null).stats();
        assertThat(s.targetPrefillForwards).isEqualTo(1);
        assertThat(s.targetPrefillTokensFed).isEqualTo(4 + 3);
        assertThat(s.targetTokensFed - s.targetPrefillTokensFed).isEqualTo((s.targetForwards - 1) * PROMPTS.size());
        assertThat(s.draftPrefillForwards).isZero();
    }

    @Test
    void speculativeDecodingPrefillsBothModelsWithThePromptMinusItsPendingToken() {
        DecodeStats s = new SpeculativeDecoding(TARGET, DRAFT).generate(PROMPTS, config(Mode.SPECULATIVE), null).stats();
        assertThat(s.targetPrefillForwards).isEqualTo(1);
        assertThat(s.targetPrefillTokensFed).isEqualTo(3 + 2);
        assertThat(s.draftPrefillForwards).isEqualTo(1);
        assertThat(s.draftPrefillTokensFed).isEqualTo(3 + 2);
        assertThat(s.targetTokensFed).isGreaterThan(s.targetPrefillTokensFed + (s.targetForwards - 1));
        assertThat(s.draftForwards).isGreaterThan(s.draftPrefillForwards);
    }

    @Test
    void speculativeBeamSearchPrefillsBothModelsOncePerCall() {
        DecodeStats s = new SpeculativeBeamDecoding(TARGET, DRAFT)
                .generate(PROMPTS, config(Mode.SPECULATIVE_BEAM), null).stats();
        assertThat(s.targetPrefillForwards).isEqualTo(1);
        assertThat(s.targetPrefillTokensFed).isEqualTo(4 + 3);
        assertThat(s.draftPrefillForwards).isEqualTo(1);
        assertThat(s.draftPrefillTokensFed).isEqualTo(4 + 3);

        DecodeStats twice = new DecodeStats();
        twice.add(s);
        twice.add(s);
        assertThat(twice.targetPrefillForwards).isEqualTo(2);
        assertThat(twice.draftPrefillTokensFed).isEqualTo(2 * s.draftPrefillTokensFed);
    }

    @Test
    void everyDecodeForwardOfASpeculativeModeIsAVerificationAndItsNodesAreCounted() {
        for (Mode mode : List.of(Mode.SPECULATIVE, Mode.SPECULATIVE_BEAM)) {
            DecodeStats s = mode == Mode.SPECULATIVE
                    ? new SpeculativeDecoding(TARGET, DRAFT).generate(PROMPTS, config(mode), null).stats()
                    : new SpeculativeBeamDecoding(TARGET, DRAFT).generate(PROMPTS, config(mode), null).stats();
            assertThat(s.verifyForwards).as(mode.id()).isEqualTo(s.targetForwards - s.targetPrefillForwards);
            assertThat(s.verifyNodes).as(mode.id()).isEqualTo(s.targetTokensFed - s.targetPrefillTokensFed);
            assertThat(s.verifyNanos).as(mode.id()).isPositive().isGreaterThanOrEqualTo(s.verifyOrtNanos)
                    .isLessThanOrEqualTo(s.wallNanos - s.prefillNanos);
            assertThat(s.verifyOutsideOrtShare()).as(mode.id()).isBetween(0.0, 1.0);
        }
        DecodeStats beam = new BeamSearchDecoding(TARGET).generate(PROMPTS, config(Mode.BEAM), null).stats();
        assertThat(beam.verifyForwards).isZero();
        assertThat(beam.verifyOutsideOrtShare()).isNaN();
    }
}
