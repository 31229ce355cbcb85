package specbeam.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import specbeam.TestModels;
import specbeam.decode.BeamSearchDecoding;
import specbeam.decode.EarlyStopping;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.GreedyDecoding;
import specbeam.decode.Mode;
import specbeam.decode.SpeculativeBeamDecoding;
import specbeam.decode.SpeculativeDecoding;
import specbeam.model.ExecutionProvider;
import specbeam.model.OnnxCausalLm;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * On the real ONNX models: speculative greedy and speculative beam search reproduce the engine's own
 * target-only greedy and beam search, for a draft equal to the target (everything accepted), the bundled
 * draft (partial acceptance) and an unrelated random model (almost nothing accepted), over many prompts
 * and configurations, EOS-heavy cases, ragged batches and several returned sequences; divergences only at
 * certified near-ties.
 */
class SpeculativeMatchesTargetOnOnnxTest {
    private static final Map<String, OnnxCausalLm> MODELS = new LinkedHashMap<>();
    private static final List<String> REPORT = new ArrayList<>();

    @BeforeAll
    static void load() {
        for (String arch : TestModels.TINY) {
            MODELS.put(arch, OnnxCausalLm.load(TestModels.tiny(arch), ExecutionProvider.CPU, 2));
        }
        if (Files.isRegularFile(TestModels.pairDraft().resolve("manifest.json"))
                && Files.isRegularFile(TestModels.pairTarget().resolve("manifest.json"))) {
            MODELS.put("pair_target", OnnxCausalLm.load(TestModels.pairTarget(), ExecutionProvider.CPU, 2));
            MODELS.put("pair_draft", OnnxCausalLm.load(TestModels.pairDraft(), ExecutionProvider.CPU, 2));
        }
    }

    @AfterAll
    static void close() {
        MODELS.values().forEach(OnnxCausalLm::close);
        REPORT.forEach(l -> System.out.println("[speculative] " + l));
    }

    /** (target, draft, kind) triples: self, unrelated random, and the bundled pair when present. */
    private static List<String[]> pairs() {
        List<String[]> pairs = new ArrayList<>();
        String[] unrelated = {"gpt2", "llama", "gpt_neox", "qwen2", "qwen3", "phi3", "mistral", "gemma3", "gemma2"};
        for (int i = 0; i < TestModels.TINY.size(); i++) {
            String t = TestModels.TINY.get(i);
            pairs.add(new String[] {t, t, "draft=target"});
            pairs.add(new String[] {t, unrelated[i], "unrelated draft"});
        }
        if (MODELS.containsKey("pair_draft")) {
            pairs.add(new String[] {"pair_target", "pair_draft", "bundled draft"});
            pairs.add(new String[] {"pair_target", "pair_target", "draft=target"});
        }
        return pairs;
    }

    private static List<int[]> prompts(String model, int count, long seed) throws IOException {
        Path dir = model.startsWith("pair") ? TestModels.pairTarget() : TestModels.tiny(model);
        List<int[]> out = new ArrayList<>();
        Path tasks = dir.resolve("tasks/prompts.jsonl");
        if (Files.isRegularFile(tasks)) {
            ObjectMapper json = new ObjectMapper();
            for (String line : Files.readAllLines(tasks)) {
                JsonNode ids = json.readTree(line).get("prompt_ids");
                int[] p = new int[ids.size()];
                for (int i = 0; i < p.length; i++) {
                    p[i] = ids.get(i).asInt();
                }
                out.add(p);
            }
        }
        SplittableRandom r = new SplittableRandom(seed);
        int vocab = MODELS.get(model).manifest().vocabSize();
        while (out.size() < count) {
            int[] p = new int[1 + r.nextInt(30)];
            for (int i = 0; i < p.length; i++) {
                p[i] = 3 + r.nextInt(vocab - 3);
            }
            out.add(p);
        }
        return out.subList(0, count);
    }

    private static int likelyEos(String model) throws IOException {
        Path golden = (model.startsWith("pair") ? TestModels.pairTarget() : TestModels.tiny(model)).resolve("goldens.json");
        JsonNode node = new ObjectMapper().readTree(golden.toFile()).get("likely_eos_token_id");
        return node == null ? MODELS.get(model).manifest().eosTokenIds()[0] : node.asInt();
    }

    private int checked;
    private int nearTies;

    private void compare(String label, GenerationResult expected, GenerationResult actual, List<int[]> prompts,
                         List<String> failures) {
        for (int i = 0; i < prompts.size(); i++) {
            List<int[]> want = new ArrayList<>();
            for (GeneratedSequence s : expected.sequences().get(i)) {
                want.add(s.tokens());
            }
            int at = NearTie.firstDivergence(want, actual.sequences().get(i), prompts.get(i).length);
            checked++;
            if (at < 0) {
                for (int s = 0; s < want.size(); s++) {
                    double a = actual.sequences().get(i).get(s).score();
                    double e = expected.sequences().get(i).get(s).score();
                    if (Math.abs(a - e) > 1e-3 * Math.max(1, Math.abs(e))) {
                        failures.add(label + " prompt " + i + ": score " + a + " vs " + e);
                    }
                }
            } else if (NearTie.certified(expected.nearTieGaps().get(i), at)) {
                nearTies++;
                REPORT.add(label + " prompt " + i + ": certified near-tie at step " + at);
            } else {
                failures.add(label + " prompt " + i + ": diverges at step " + at + " with gap "
                        + expected.nearTieGaps().get(i)[Math.min(at, expected.nearTieGaps().get(i).length - 1)]);
            }
        }
    }

    @Test
    void speculativeBeamSearchEqualsTargetBeamSearch() throws IOException {
        List<String> failures = new ArrayList<>();
        int c = 0;
        EarlyStopping[] stops = EarlyStopping.values();
        double[] penalties = {1.0, 0.0, 2.0};
        int[] widths = {2, 4, 8};
        for (String[] pair : pairs()) {
            OnnxCausalLm target = MODELS.get(pair[0]);
            OnnxCausalLm draft = MODELS.get(pair[1]);
            List<int[]> prompts = prompts(pair[0], 6, c);
            int eos = likelyEos(pair[0]);
            for (int v = 0; v < 3; v++, c++) {
                int width = widths[(c + v) % 3];
                GenerationConfig.Builder b = GenerationConfig.builder(Mode.SPECULATIVE_BEAM)
                        .beamWidth(width).k(2 + c % 3).treeBranching(2 + c % 2)
                        .maxNewTokens(10 + 4 * (c % 3)).earlyStopping(stops[c % 3])
                        .lengthPenalty(penalties[(c / 3) % 3]).numReturnSequences(1 + c % width)
                        .minNewTokens(c % 4 == 1 ? 3 : 0);
                if (v == 2) {
                    b.eosTokenIds(new int[] {eos});   // EOS-heavy: finished hypotheses every few steps
                }
                GenerationConfig config = b.build();
                GenerationConfig plain = config.toBuilder().build();
                GenerationResult expected = new BeamSearchDecoding(target).generate(prompts, plain, null);
                GenerationResult actual = new SpeculativeBeamDecoding(target, draft).generate(prompts, config, null);
                compare(pair[0] + "<-" + pair[1] + " (" + pair[2] + ") " + config, expected, actual, prompts, failures);
                double stepsPerForward = actual.stats().stepsPerTargetForward();
                REPORT.add(String.format("beam B=%d k=%d %s<-%s (%s): %.2f steps/target forward, acceptance %.2f",
                        width, config.k(), pair[0], pair[1], pair[2], stepsPerForward, actual.stats().acceptanceRate()));
                if (pair[2].equals("draft=target") && v < 2) {
                    assertThat(actual.stats().targetForwards).as("draft=target must save target forwards")
                            .isLessThan(expected.stats().targetForwards);
                }
                assertThat(stepsPerForward).isLessThanOrEqualTo(config.k() + 1);
            }
        }
        REPORT.add("beam comparisons: " + checked + ", certified near-ties: " + nearTies);
        assertThat(failures).isEmpty();
        assertThat(nearTies).isLessThanOrEqualTo(Math.max(2, checked / 10));
    }

    @Test
    void speculativeGreedyEqualsTargetGreedy() throws IOException {
        List<String> failures = new ArrayList<>();
        int c = 0;
        for (String[] pair : pairs()) {
            OnnxCausalLm target = MODELS.get(pair[0]);
            OnnxCausalLm draft = MODELS.get(pair[1]);
            List<int[]> prompts = prompts(pair[0], 8, 100 + c);
            for (int v = 0; v < 2; v++, c++) {
                GenerationConfig.Builder b = GenerationConfig.builder(Mode.SPECULATIVE).k(1 + 2 * (c % 4))
                        .maxNewTokens(24).adaptive(v == 1);
                if (v == 1) {
                    b.eosTokenIds(new int[] {likelyEos(pair[0])});
                }
                GenerationConfig config = b.build();
                GenerationResult expected = new GreedyDecoding(target).generate(prompts, config, null);
                GenerationResult actual = new SpeculativeDecoding(target, draft).generate(prompts, config, null);
                compare(pair[0] + "<-" + pair[1] + " " + config, expected, actual, prompts, failures);
                if (pair[2].equals("draft=target")) {
                    assertThat(actual.stats().acceptanceRate()).isGreaterThan(0.95);
                }
            }
        }
        assertThat(failures).isEmpty();
    }

    @Test
    void raggedBatchesEqualOnePromptAtATime() throws IOException {
        OnnxCausalLm target = MODELS.get("llama");
        List<int[]> prompts = prompts("llama", 5, 7);
        for (Mode mode : new Mode[] {Mode.GREEDY, Mode.BEAM}) {
            GenerationConfig config = GenerationConfig.builder(mode).beamWidth(mode == Mode.BEAM ? 3 : 1)
                    .numReturnSequences(mode == Mode.BEAM ? 2 : 1).maxNewTokens(12).build();
            GenerationResult batched = mode == Mode.BEAM
                    ? new BeamSearchDecoding(target).generate(prompts, config, null)
                    : new GreedyDecoding(target).generate(prompts, config, null);
            List<String> failures = new ArrayList<>();
            for (int i = 0; i < prompts.size(); i++) {
                List<int[]> one = List.of(prompts.get(i));
                GenerationResult single = mode == Mode.BEAM
                        ? new BeamSearchDecoding(target).generate(one, config, null)
                        : new GreedyDecoding(target).generate(one, config, null);
                List<int[]> want = new ArrayList<>();
                single.sequences().get(0).forEach(s -> want.add(s.tokens()));
                int at = NearTie.firstDivergence(want, batched.sequences().get(i), prompts.get(i).length);
                if (at >= 0 && !NearTie.certified(single.nearTieGaps().get(0), at)) {
                    failures.add(mode + " prompt " + i + " diverges at " + at);
                }
            }
            assertThat(failures).isEmpty();
        }
    }
}
