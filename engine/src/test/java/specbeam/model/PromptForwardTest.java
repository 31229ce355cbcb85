package specbeam.model;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import specbeam.TestModels;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * A prompt's forward keeps the logits of each row's last token only ({@code logits_from}, models/logits_from.py):
 * those are the very numbers a forward of every position gives, on both graphs and both cache layouts, and a
 * node it did not keep is an error rather than a stale row.
 */
class PromptForwardTest {
    private static final OnnxCausalLm.OrtTimer NONE = new OnnxCausalLm.OrtTimer() {
        @Override
        public void ortNanos(long nanos, int tokensFed) {
        }

        @Override
        public void kvBytes(long bytes) {
        }
    };

    private static OnnxCausalLm load(String arch, boolean inPlace) {
        System.setProperty("specbeam.inplace", Boolean.toString(inPlace));
        try {
            OnnxCausalLm model = OnnxCausalLm.load(TestModels.tiny(arch), ExecutionProvider.CPU, 2);
            assertThat(model.inplaceSession() != null).isEqualTo(inPlace);
            return model;
        } finally {
            System.clearProperty("specbeam.inplace");
        }
    }

    private static int[] prompt(int length, int seed, int vocab) {
        int[] p = new int[length];
        for (int i = 0; i < length; i++) {
            p[i] = 1 + (seed + i * 7919) % (vocab - 1);
        }
        return p;
    }

    private static float[] row(LmState.Logits out, int row, int node) {
        float[] logits = new float[out.vocab()];
        out.copy(row, node, logits);
        return logits;
    }

    @ParameterizedTest(name = "{0}, in place: {1}")
    @CsvSource({"llama, true", "llama, false", "qwen2, true", "gpt2, false", "gpt_neox, true"})
    void lastTokenLogitsEqualThoseOfAFullForward(String arch, boolean inPlace) {
        try (OnnxCausalLm model = load(arch, inPlace)) {
            assertThat(model.manifest().inputs()).containsKey("logits_from");
            int vocab = model.manifest().vocabSize();
            int[][] prompts = {prompt(37, 3, vocab), prompt(12, 11, vocab)};
            float[][] full = new float[2][];
            try (LmState s = model.newState(2, 64, NONE)) {
                LmState.Logits out = s.forward(0, prompts, null);
                full[0] = row(out, 0, 36);
                full[1] = row(out, 1, 11);
            }
            try (LmState s = model.newState(2, 64, NONE)) {
                LmState.Logits out = s.forwardPrompt(0, prompts);
                assertThat(row(out, 0, 36)).containsExactly(full[0]);
                assertThat(row(out, 1, 11)).containsExactly(full[1]);
                assertThatThrownBy(() -> out.get(0, 10, 0)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("kept the logits of nodes 11..36 only, not of node 10");
            }
            try (TreeState t = model.newTreeState(2, 64, 64, NONE)) {
                LmState.Logits out = t.forwardPrompt(prompts);
                assertThat(row(out, 0, 36)).containsExactly(full[0]);
                assertThat(row(out, 1, 11)).containsExactly(full[1]);
                assertThatThrownBy(() -> t.forwardPrompt(prompts)).isInstanceOf(IllegalStateException.class)
                        .hasMessageContaining("a prompt goes into a fresh row");
            }
        }
    }

    /** A prompt forward that fails before running leaves the next forward computing every position. */
    @Test
    void aFailedPromptForwardDoesNotCarryOver() {
        try (OnnxCausalLm model = load("llama", true); LmState s = model.newState(1, 8, NONE)) {
            int vocab = model.manifest().vocabSize();
            assertThatThrownBy(() -> s.forwardPrompt(0, new int[][] {prompt(20, 1, vocab)}))
                    .isInstanceOf(IllegalStateException.class).hasMessageContaining("capacity is 8");
            LmState.Logits out = s.forward(0, new int[][] {prompt(3, 2, vocab)}, null);
            assertThat(row(out, 0, 0)).hasSize(vocab);
        }
    }

    /** A manifest naming an input the graph does not have is refused at load, naming it. */
    @Test
    void aManifestNamingAMissingInputIsRefused(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
        Path dir = tmp.resolve("llama");
        Files.createDirectories(dir);
        try (var files = Files.list(TestModels.tiny("llama"))) {
            for (Path f : (Iterable<Path>) files::iterator) {
                if (Files.isRegularFile(f)) {
                    Files.copy(f, dir.resolve(f.getFileName()));
                }
            }
        }
        Path manifest = dir.resolve("manifest.json");
        String text = Files.readString(manifest);
        String renamed = text.replace("\"logits_from\": \"logits_from\"", "\"logits_from\": \"logits_start\"");
        assertThat(renamed).isNotEqualTo(text);
        Files.writeString(manifest, renamed);
        assertThatThrownBy(() -> OnnxCausalLm.load(dir, ExecutionProvider.CPU, 2)).isInstanceOf(ModelLoadException.class)
                .hasMessageContaining("lacks input 'logits_start' named in its manifest");
    }
}
