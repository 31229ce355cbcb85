package specbeam.decode;

import org.apache.commons.math3.stat.inference.ChiSquareTest;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Speculative sampling must sample from the target's (warped) distribution whatever the draft: the first
 * generated tokens, drawn 12,000 times, pass a chi-square goodness-of-fit test against the target's
 * distribution; and a seed fixes the output.
 */
class SpeculativeSamplingDistributionTest {
    private static final FakeLm TARGET = new FakeLm(24, 3, 1.2);
    private static final int DRAWS = 12_000;

    private static double[] targetFirstTokenDistribution(int[] prompt, GenerationConfig config) {
        float[] logits = TARGET.logits(prompt, prompt.length);
        double[] p = new double[logits.length];
        new Sampler(config, logits.length).warp(logits, p);
        return p;
    }

    /** Chi-square p-value of observed counts of the token at generated position {@code pos} vs {@code expected}. */
    private static double pValue(double[] expected, long[] observed) {
        List<Double> e = new ArrayList<>();
        List<Long> o = new ArrayList<>();
        double rest = 0;
        long restObs = 0;
        long total = 0;
        for (long c : observed) {
            total += c;
        }
        for (int v = 0; v < expected.length; v++) {
            if (expected[v] * total >= 5) {
                e.add(expected[v] * total);
                o.add(observed[v]);
            } else {
                rest += expected[v] * total;
                restObs += observed[v];
            }
        }
        if (rest > 0) {
            e.add(rest);
            o.add(restObs);
        }
        return new ChiSquareTest().chiSquareTest(e.stream().mapToDouble(Double::doubleValue).toArray(),
                o.stream().mapToLong(Long::longValue).toArray());
    }

    private static void assertMatchesTarget(FakeLm draft, GenerationConfig base) {
        int[] prompt = {4, 9};
        GenerationConfig config = base.toBuilder().numReturnSequences(DRAWS).maxNewTokens(2).build();
        GenerationResult result = new SpeculativeDecoding(TARGET, draft).generate(List.of(prompt), config, null);
        long[] first = new long[24];
        long[] secondAfterMode = new long[24];
        double[] p0 = targetFirstTokenDistribution(prompt, config);
        int mode = 0;
        for (int v = 1; v < p0.length; v++) {
            mode = p0[v] > p0[mode] ? v : mode;
        }
        for (GeneratedSequence s : result.sequences().get(0)) {
            int[] g = s.generated();
            first[g[0]]++;
            if (g[0] == mode && g.length > 1) {
                secondAfterMode[g[1]]++;
            }
        }
        assertThat(pValue(p0, first)).as("first token vs target distribution").isGreaterThan(0.001);
        double[] p1 = targetFirstTokenDistribution(new int[] {4, 9, mode}, config);
        assertThat(pValue(p1, secondAfterMode)).as("second token given the first").isGreaterThan(0.001);
        assertThat(result.stats().draftProposed).isPositive();
    }

    @Test
    void speculativeSamplingDrawsFromTheTargetDistributionWithAnUnrelatedDraft() {
        assertMatchesTarget(new FakeLm(24, 77, 1.2), GenerationConfig.builder(Mode.SPECULATIVE_SAMPLING).k(3).seed(11).build());
    }

    @Test
    void speculativeSamplingDrawsFromTheTargetDistributionWithACloseDraftAndWarping() {
        assertMatchesTarget(TARGET.perturbed(5, 0.6), GenerationConfig.builder(Mode.SPECULATIVE_SAMPLING).k(2)
                .temperature(0.8).topK(12).topP(0.95).seed(12).build());
    }

    @Test
    void targetOnlySamplingDrawsFromTheTargetDistribution() {
        int[] prompt = {4, 9};
        GenerationConfig config = GenerationConfig.builder(Mode.SAMPLING).numReturnSequences(DRAWS).maxNewTokens(1).seed(3).build();
        GenerationResult result = new SamplingDecoding(TARGET).generate(List.of(prompt), config, null);
        long[] first = new long[24];
        result.sequences().get(0).forEach(s -> first[s.generated()[0]]++);
        assertThat(pValue(targetFirstTokenDistribution(prompt, config), first)).isGreaterThan(0.001);
    }

    @Test
    void aSeedReproducesTheOutputAndAnotherSeedChangesIt() {
        FakeLm draft = TARGET.perturbed(5, 0.6);
        GenerationConfig a = GenerationConfig.builder(Mode.SPECULATIVE_SAMPLING).k(3).seed(21).numReturnSequences(20).maxNewTokens(16).build();
        GenerationResult r1 = new SpeculativeDecoding(TARGET, draft).generate(List.of(new int[] {1, 2}), a, null);
        GenerationResult r2 = new SpeculativeDecoding(TARGET, draft).generate(List.of(new int[] {1, 2}), a, null);
        GenerationResult r3 = new SpeculativeDecoding(TARGET, draft).generate(List.of(new int[] {1, 2}),
                a.toBuilder().seed(22).build(), null);
        List<String> s1 = r1.sequences().get(0).stream().map(s -> java.util.Arrays.toString(s.tokens())).toList();
        List<String> s2 = r2.sequences().get(0).stream().map(s -> java.util.Arrays.toString(s.tokens())).toList();
        List<String> s3 = r3.sequences().get(0).stream().map(s -> java.util.Arrays.toString(s.tokens())).toList();
        assertThat(s1).isEqualTo(s2);
        assertThat(s1).isNotEqualTo(s3);
    }
}
