package specbeam.decode;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The parallel scan of a forward's rows ({@link RowScans}) at a 152k vocabulary, where it is taken: the same
 * tokens, scores and gaps as the sequential scan, in greedy, beam, speculative greedy (every proposal accepted and
 * a perturbed draft) and speculative beam, and speculative still equal to target-only.
 */
class RowScansTest {
    private static final int VOCAB = 151_936;
    private static final FakeLm TARGET = new FakeLm(VOCAB, 7, 2.5);
    private static final FakeLm CLOSE = TARGET.perturbed(99, 0.8);

    @AfterEach
    void restore() {
        RowScans.resetToDefault();
    }

    private static final List<int[]> PROMPTS = List.of(new int[] {5}, new int[] {3, 9, 11, 2});

    @Test
    void parallelScansGiveTheSameResultsAsSequentialOnes() {
        GenerationConfig spec = GenerationConfig.builder(Mode.SPECULATIVE).k(7).maxNewTokens(10).minNewTokens(2)
                .build();
        GenerationConfig specBeam = GenerationConfig.builder(Mode.SPECULATIVE_BEAM).beamWidth(4).k(3)
                .treeBranching(2).maxNewTokens(6).build();
        GenerationConfig beam = GenerationConfig.builder(Mode.BEAM).beamWidth(4).maxNewTokens(6).build();
        GenerationConfig greedy = GenerationConfig.builder(Mode.GREEDY).maxNewTokens(10).minNewTokens(2).build();
        List<Supplier<GenerationResult>> runs = List.of(
                () -> new SpeculativeDecoding(TARGET, TARGET).generate(PROMPTS, spec, null),
                () -> new SpeculativeDecoding(TARGET, CLOSE).generate(PROMPTS, spec, null),
                () -> new SpeculativeBeamDecoding(TARGET, CLOSE).generate(PROMPTS, specBeam, null),
                () -> new BeamSearchDecoding(TARGET).generate(PROMPTS, beam, null));
        RowScans.setParallel(true);
        long before = RowScans.parallelRuns();
        GenerationResult[] parallel = runs.stream().map(Supplier::get).toArray(GenerationResult[]::new);
        assertThat(RowScans.parallelRuns()).as("scans taken in parallel").isGreaterThan(before);
        RowScans.setParallel(false);
        for (int r = 0; r < runs.size(); r++) {
            GenerationResult sequential = runs.get(r).get();
            SpeculativeExactnessOnFakeModelTest.assertSameSequences(parallel[r], sequential);
            assertThat(parallel[r].nearTieGaps()).as("run %d: near-tie gaps", r).usingRecursiveComparison().isEqualTo(sequential.nearTieGaps());
        }
        assertThat(parallel[0].stats().acceptanceRate()).isEqualTo(1.0);
        SpeculativeExactnessOnFakeModelTest.assertSameSequences(parallel[0],
                new GreedyDecoding(TARGET).generate(PROMPTS, greedy, null));
        SpeculativeExactnessOnFakeModelTest.assertSameSequences(parallel[2],
                new BeamSearchDecoding(TARGET).generate(PROMPTS, specBeam, null));
    }
}
