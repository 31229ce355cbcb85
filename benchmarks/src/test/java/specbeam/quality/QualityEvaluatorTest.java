package specbeam.quality;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;
import specbeam.suite.GridPoint;
import specbeam.tasks.ModelPair;
import specbeam.tasks.TestPairs;

import java.io.IOException;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class QualityEvaluatorTest {
    private static final GridPoint SPECULATIVE = new GridPoint(Mode.SPECULATIVE, 4, 1, false, ExecutionProvider.CPU, 1, 64);
    private static final GridPoint SPECULATIVE_BEAM = new GridPoint(Mode.SPECULATIVE_BEAM, 3, 4, false, ExecutionProvider.CPU, 1, 64);

    @TempDir
    Path dir;

    private QualityEvaluator evaluator(FakeGenerator generator) throws IOException {
        ModelPair pair = new ModelPair(TestPairs.write(dir));
        return new QualityEvaluator(generator, pair.prompts(), pair.continuation(), 1e-4);
    }

    @Test
    void speculativeOutputEqualToItsBaselineIsFullyIdentical() throws IOException {
        QualityResult q = evaluator(new FakeGenerator()).evaluate(SPECULATIVE);
        assertThat(q.prompts()).isEqualTo(5);
        assertThat(q.identicalShare()).isEqualTo(1.0);
        assertThat(q.certifiedTieShare()).isZero();
    }

    @Test
    void divergenceAfterAClearDecisionIsNotIdenticalAndNotATie() throws IOException {
        QualityResult q = evaluator(new FakeGenerator(Mode.SPECULATIVE, 2, 0.5)).evaluate(SPECULATIVE);
        assertThat(q.identicalShare()).isZero();
        assertThat(q.certifiedTieShare()).isZero();
    }

    @Test
    void divergenceAtANearTieIsCertified() throws IOException {
        QualityResult q = evaluator(new FakeGenerator(Mode.SPECULATIVE, 2, 1e-6)).evaluate(SPECULATIVE);
        assertThat(q.identicalShare()).isZero();
        assertThat(q.certifiedTieShare()).isEqualTo(1.0);
    }

    @Test
    void baselinesAndSamplingHaveNoIdentityColumn() throws IOException {
        QualityEvaluator e = evaluator(new FakeGenerator());
        assertThat(e.evaluate(SPECULATIVE.baseline()).identicalShare()).isNaN();
        assertThat(e.evaluate(new GridPoint(Mode.SPECULATIVE_SAMPLING, 2, 1, false, ExecutionProvider.CPU, 1, 64))
                .identicalShare()).isNaN();
    }

    @Test
    void theBaselineIsGeneratedOnceForAllItsSpeculativeVariants() throws IOException {
        FakeGenerator g = new FakeGenerator();
        QualityEvaluator e = evaluator(g);
        e.evaluate(SPECULATIVE);
        e.evaluate(new GridPoint(Mode.SPECULATIVE, 2, 1, false, ExecutionProvider.CPU, 1, 64));
        e.evaluate(SPECULATIVE.baseline());
        assertThat(g.generateCalls).as("5 prompts x (greedy, k=4, k=2)").isEqualTo(15);
    }

    @Test
    void referenceMetricsAndPerplexityComeFromTheBestSequence() throws IOException {
        QualityResult q = evaluator(new FakeGenerator()).evaluate(SPECULATIVE);
        // continuation k1: prompt [40] -> t41..t46, reference "t41 t42 t43 t44 t45 t46": a perfect match;
        // k2: prompt [50, 51] -> t52..t57, reference "t52 t53 zzz".
        assertThat(q.rouge1()).isCloseTo((1.0 + 2 * (2.0 / 6) * (2.0 / 3) / (2.0 / 6 + 2.0 / 3)) / 2, within(1e-12));
        assertThat(q.bleu()).isBetween(0.0, 100.0);
        assertThat(q.perplexity()).isCloseTo(Math.E, within(1e-12));
        assertThat(q.selfBleu()).as("one sequence per prompt").isNaN();
        assertThat(q.distinct1()).isEqualTo(1.0);
    }

    @Test
    void beamModesCompareEveryReturnedBeam() throws IOException {
        QualityResult q = evaluator(new FakeGenerator()).evaluate(SPECULATIVE_BEAM);
        assertThat(q.identicalShare()).isEqualTo(1.0);
        assertThat(q.selfBleu()).isBetween(0.0, 100.0);
        // 4 beams of 6 tokens shifted by one: 9 distinct unigrams among 24
        assertThat(q.distinct1()).isCloseTo(9.0 / 24, within(1e-12));
    }
}
