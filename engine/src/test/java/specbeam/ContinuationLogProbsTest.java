package specbeam;

import org.junit.jupiter.api.Test;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.Mode;

import java.util.Arrays;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

class ContinuationLogProbsTest {
    @Test
    void teacherForcedLogProbsAddUpToTheGreedyScore() {
        try (Engine engine = Engine.open(EngineOptions.of(TestModels.tiny("llama"), null))) {
            int[] prompt = {5, 17, 9, 44};
            GeneratedSequence s = engine.generate(List.of(prompt),
                    GenerationConfig.builder(Mode.GREEDY).maxNewTokens(12).build()).best(0);
            double[] lp = engine.continuationLogProbs(prompt, s.generated());
            assertThat(lp).hasSize(s.generatedLength());
            assertThat(Arrays.stream(lp).sum()).isCloseTo(s.score(), within(1e-3));
            assertThat(Arrays.stream(lp).max().orElseThrow()).isLessThanOrEqualTo(0.0);
        }
    }
}
