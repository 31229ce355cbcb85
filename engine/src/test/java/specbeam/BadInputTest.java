package specbeam;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.io.TempDir;
import specbeam.decode.GenerationConfig;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;
import specbeam.model.ModelLoadException;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad input gets one clear message saying what is wrong and how to fix it. */
class BadInputTest {
    @TempDir
    Path tmp;

    private Path copyOf(Path dir) throws IOException {
        Path out = tmp.resolve(dir.getFileName() + "-copy");
        Files.createDirectories(out);
        try (Stream<Path> files = Files.list(dir)) {
            for (Path f : files.filter(Files::isRegularFile).toList()) {
                Files.copy(f, out.resolve(f.getFileName()));
            }
        }
        return out;
    }

    @Test
    void draftWithADifferentTokenizerIsRejected() {
        assertThatThrownBy(() -> Engine.open(EngineOptions.of(TestModels.tiny("llama"), TestModels.tiny("gpt2"))))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("different tokenizers");
    }

    @Test
    void draftWithADifferentVocabularyIsRejected() throws IOException {
        Path draft = copyOf(TestModels.tiny("llama"));
        Path manifest = draft.resolve("manifest.json");
        Files.writeString(manifest, Files.readString(manifest).replace("\"vocab_size\": 512", "\"vocab_size\": 600"));
        assertThatThrownBy(() -> Engine.open(EngineOptions.of(TestModels.tiny("llama"), draft)))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("vocabulary of 600 tokens")
                .hasMessageContaining("has 512");
    }

    @Test
    void missingModelFileIsNamed() throws IOException {
        Path dir = copyOf(TestModels.tiny("llama"));
        Files.delete(dir.resolve("model.onnx"));
        assertThatThrownBy(() -> Engine.open(EngineOptions.of(dir, null)))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("has no model.onnx")
                .hasMessageContaining("export.py");
    }

    @Test
    void missingDirectoryIsNamed() {
        assertThatThrownBy(() -> Engine.open(EngineOptions.of(tmp.resolve("nowhere"), null)))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("does not exist");
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.onnx", "model_inplace.onnx"})
    void corruptModelFileFailsItsChecksum(String file) throws IOException {
        Path dir = copyOf(TestModels.tiny("llama"));
        byte[] bytes = Files.readAllBytes(dir.resolve(file));
        bytes[bytes.length / 2] ^= 0x5A;
        Files.write(dir.resolve(file), bytes);
        assertThatThrownBy(() -> Engine.open(EngineOptions.of(dir, null)))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining(file + " does not match its manifest checksum");
    }

    @ParameterizedTest
    @ValueSource(strings = {"model.onnx", "model_inplace.onnx"})
    void corruptModelFileWithAMatchingManifestIsReportedByOnnxRuntime(String file) throws IOException {
        Path dir = copyOf(TestModels.tiny("llama"));
        Files.writeString(dir.resolve(file), "not an onnx graph");
        Path manifest = dir.resolve("manifest.json");
        String text = Files.readString(manifest).replaceAll("\"" + file + "\": \"sha256:[0-9a-f]+\"", "\"unused\": \"x\"");
        Files.writeString(manifest, text);
        assertThatThrownBy(() -> Engine.open(EngineOptions.of(dir, null)))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining(file + " cannot be loaded by ONNX Runtime");
    }

    @Test
    void missingInplaceGraphIsNamed() throws IOException {
        Path dir = copyOf(TestModels.tiny("llama"));
        Files.delete(dir.resolve("model_inplace.onnx"));
        assertThatThrownBy(() -> Engine.open(EngineOptions.of(dir, null)))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("lacks model_inplace.onnx");
    }

    @Test
    void corruptManifestIsNamed() throws IOException {
        Path dir = copyOf(TestModels.tiny("llama"));
        Files.writeString(dir.resolve("manifest.json"), "{ not json");
        assertThatThrownBy(() -> Engine.open(EngineOptions.of(dir, null)))
                .isInstanceOf(ModelLoadException.class).hasMessageContaining("is not a valid manifest");
    }

    @Test
    void unknownProviderIsRejected() {
        assertThatThrownBy(() -> ExecutionProvider.parse("tpu")).hasMessageContaining("use cpu or cuda");
    }

    @Test
    void cudaRequestFallsBackToCpuWhenCudaIsMissing() {
        PrintStream old = System.err;
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
        try (Engine engine = Engine.open(new EngineOptions(TestModels.tiny("llama"), null, ExecutionProvider.CUDA, 2))) {
            var result = engine.generate(List.of(new int[] {5, 6}), GenerationConfig.builder(Mode.GREEDY).maxNewTokens(3).build());
            assertThat(result.best(0).generatedLength()).isEqualTo(3);
            if (engine.providerUsed() == ExecutionProvider.CPU) {
                assertThat(err.toString(StandardCharsets.UTF_8)).contains("CUDA provider unavailable").contains("running on CPU");
            }
        } finally {
            System.setErr(old);
        }
    }

    @Test
    void invalidConfigurationValuesAreRejected() {
        assertThatThrownBy(() -> GenerationConfig.builder(Mode.BEAM).beamWidth(0).build()).hasMessageContaining("beamWidth must be >= 1");
        assertThatThrownBy(() -> GenerationConfig.builder(Mode.SPECULATIVE).k(0).build()).hasMessageContaining("k must be >= 1");
        assertThatThrownBy(() -> GenerationConfig.builder(Mode.GREEDY).maxNewTokens(0).build()).hasMessageContaining("maxNewTokens must be >= 1");
        assertThatThrownBy(() -> GenerationConfig.builder(Mode.BEAM).beamWidth(2).numReturnSequences(3).build())
                .hasMessageContaining("must not exceed beamWidth");
        assertThatThrownBy(() -> Mode.parse("fastest")).hasMessageContaining("unknown mode 'fastest'");
    }

    @Test
    void emptyAndTooLongPromptsAreRejected() {
        try (Engine engine = Engine.open(EngineOptions.of(TestModels.tiny("llama"), null))) {
            GenerationConfig config = GenerationConfig.builder(Mode.GREEDY).maxNewTokens(64).build();
            assertThatThrownBy(() -> engine.generate(List.of(new int[0]), config)).hasMessageContaining("prompt 0 is empty");
            int[] longPrompt = new int[engine.targetManifest().maxPositions() - 10];
            java.util.Arrays.fill(longPrompt, 5);
            assertThatThrownBy(() -> engine.generate(List.of(longPrompt), config))
                    .hasMessageContaining("exceeds the model's 256 positions");
            assertThatThrownBy(() -> engine.generate(List.of(new int[] {99999}), config))
                    .hasMessageContaining("outside the model's vocabulary");
            assertThatThrownBy(() -> engine.generate(List.of(new int[] {5}),
                    GenerationConfig.builder(Mode.SPECULATIVE).build())).hasMessageContaining("needs a draft model");
        }
    }

    @Test
    void aBatchWhoseKvCachePassesTheDirectBufferLimitIsOneClearError() {
        try (Engine engine = Engine.open(EngineOptions.of(TestModels.tiny("llama"), null))) {
            // 130,000 rows x 4 kv heads x 66 slots x 16 = 549M floats per layer: past a direct buffer's 2 GiB
            List<int[]> prompts = java.util.Collections.nCopies(130_000, new int[] {5});
            GenerationConfig config = GenerationConfig.builder(Mode.GREEDY).maxNewTokens(63).build();
            assertThatThrownBy(() -> engine.generate(prompts, config))
                    .isInstanceOf(specbeam.model.NativeLimits.LimitExceededException.class)
                    .hasMessageContaining("one layer's KV cache (130000 rows x 4 kv heads x 66 positions x 16)")
                    .hasMessageContaining("at most 536870911 (2 GiB)").hasMessageContaining("use fewer prompts");
            // the engine is still usable afterwards
            assertThat(engine.generate(List.of(new int[] {5, 6}), config).best(0).generatedLength()).isPositive();
        }
    }
}
