package specbeam.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import specbeam.Engine;
import specbeam.EngineOptions;
import specbeam.TestModels;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.Mode;
import specbeam.model.ModelManifest;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The sliding window (FORMAT.md "Sliding window") is the engine's: the graph takes an explicit mask, so a key
 * outside the window is hidden by the mask the engine builds, in every state (linear rows, beams, draft trees).
 * {@link HuggingFaceGoldenTest} holds mistral and phi3 (windows 12 and 13, every layer) and gemma2 and gemma3
 * (window 8 on alternate layers, a mask of their own) to HF {@code generate} on prompts of 40 tokens, over 3x
 * the window; this test makes sure those goldens could fail: the same model read as full attention generates
 * something else, and the speculative modes agree with the target on a 3x-window prompt
 * whose draft trees straddle the window's edge.
 */
class SlidingWindowTest {

    @ParameterizedTest
    @ValueSource(strings = {"mistral", "phi3", "gemma2", "gemma3"})
    void goldensHoldPromptsOverThreeWindowsAndTheWindowChangesTheOutput(String arch, @TempDir Path tmp)
            throws IOException {
        Path dir = TestModels.tiny(arch);
        int window = ModelManifest.read(dir).slidingWindow();
        List<GoldenCheck.Case> cases = GoldenCheck.read(dir.resolve("goldens.json"));
        List<GoldenCheck.Case> longPrompts = cases.stream().filter(c -> c.prompt().length >= 3 * window).toList();
        assertThat(longPrompts).as("goldens with a prompt of 3x the window (" + window + ")").isNotEmpty();

        Path full = fullAttentionCopy(dir, tmp);
        int differ = 0;
        try (Engine windowed = Engine.open(EngineOptions.of(dir, null));
             Engine unwindowed = Engine.open(EngineOptions.of(full, null))) {
            for (GoldenCheck.Case c : longPrompts) {
                GenerationResult a = windowed.generate(List.of(c.prompt()), c.config());
                GenerationResult b = unwindowed.generate(List.of(c.prompt()), c.config());
                if (!Arrays.equals(a.sequences().get(0).get(0).tokens(), b.sequences().get(0).get(0).tokens())) {
                    differ++;
                }
            }
        }
        assertThat(differ).as("long-prompt goldens whose output depends on the window").isGreaterThan(longPrompts.size() / 2);
    }

    @ParameterizedTest
    @ValueSource(strings = {"mistral", "phi3", "gemma2", "gemma3"})
    void speculativeModesOnAThreeWindowPromptEqualTheTarget(String arch) {
        Path dir = TestModels.tiny(arch);
        int window = ModelManifest.read(dir).slidingWindow();
        int[] prompt = new int[3 * window + 2];
        for (int i = 0; i < prompt.length; i++) {
            prompt[i] = 3 + (i * 37) % 500;
        }
        try (Engine engine = Engine.open(EngineOptions.of(dir, dir))) {
            for (int width : new int[] {1, 2, 4}) {
                Mode plain = width == 1 ? Mode.GREEDY : Mode.BEAM;
                Mode fast = width == 1 ? Mode.SPECULATIVE : Mode.SPECULATIVE_BEAM;
                GenerationConfig target = GenerationConfig.builder(plain).beamWidth(width).maxNewTokens(2 * window)
                        .minNewTokens(2 * window).build();
                GenerationConfig spec = GenerationConfig.builder(fast).beamWidth(width).maxNewTokens(2 * window)
                        .minNewTokens(2 * window).k(window / 2).build();
                GenerationResult want = engine.generate(List.of(prompt), target);
                GenerationResult got = engine.generate(List.of(prompt), spec);
                for (int s = 0; s < want.sequences().get(0).size(); s++) {
                    assertThat(got.sequences().get(0).get(s).tokens()).as(arch + " " + fast + " B=" + width + " #" + s)
                            .containsExactly(want.sequences().get(0).get(s).tokens());
                }
                assertThat(got.stats().targetForwards).as("draft = target saves forwards")
                        .isLessThan(want.stats().targetForwards);
            }
        }
    }

    /** A copy of {@code dir} whose window covers any context (full attention): the same graph and weights. */
    private static Path fullAttentionCopy(Path dir, Path tmp) throws IOException {
        Path copy = tmp.resolve(dir.getFileName());
        Files.createDirectories(copy);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, copy.resolve(f.getFileName()));
            }
        }
        ObjectMapper json = new ObjectMapper();
        JsonNode manifest = json.readTree(copy.resolve("manifest.json").toFile());
        ((ObjectNode) manifest).put("sliding_window", 1 << 20);
        json.writeValue(copy.resolve("manifest.json").toFile(), manifest);
        return copy;
    }
}
