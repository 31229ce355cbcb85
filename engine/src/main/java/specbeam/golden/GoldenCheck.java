package specbeam.golden;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import specbeam.decode.EarlyStopping;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.Mode;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Hugging Face {@code generate} goldens ({@code goldens.json}, written by models/goldens.py; FORMAT.md "Goldens")
 * and the comparison of an engine result with one: same sequences in the same order, same sequence scores
 * (1e-3 relative), a divergence allowed only at a certified {@link NearTie}. Used by the golden tests and by
 * {@code SpecbeamCli check-goldens}, which runs the goldens of any exported model (models/real_shapes.py).
 */
public final class GoldenCheck {
    private static final ObjectMapper JSON = new ObjectMapper();

    private GoldenCheck() {
    }

    /** One golden case: HF's sequences (prompt included, cut after the first EOS), scores and step gaps. */
    public record Case(String id, int[] prompt, GenerationConfig config, List<int[]> sequences, double[] scores,
                       double[] gaps) {
    }

    /** How a result compares with its case. */
    public enum Verdict { SAME, NEAR_TIE, DIFFERENT }

    public record Outcome(Verdict verdict, String detail) {
    }

    /** The cases of a goldens file; a missing or malformed file is a user error naming it. */
    public static List<Case> read(Path file) {
        JsonNode root;
        try {
            root = JSON.readTree(Files.readString(file));
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read goldens " + file + ": " + e.getMessage());
        }
        if (root == null || !root.path("cases").isArray()) {
            throw new IllegalArgumentException(file + " is not a goldens file (no 'cases' array): write it with models/goldens.py");
        }
        List<Case> cases = new ArrayList<>();
        for (JsonNode c : root.get("cases")) {
            GenerationConfig config = config(c.get("config"));
            List<int[]> sequences = new ArrayList<>();
            int[] prompt = ints(c.get("prompt_ids"));
            for (JsonNode s : c.get("sequences")) {
                sequences.add(cutAtEos(ints(s), prompt.length, config.eosTokenIds()));
            }
            double[] scores = c.has("sequence_scores") ? doubles(c.get("sequence_scores")) : null;
            cases.add(new Case(c.get("id").asText(), prompt, config, sequences, scores, doubles(c.get("step_gaps"))));
        }
        return cases;
    }

    /**
     * The largest difference between ONNX Runtime's and PyTorch's logits that the model's export check measured
     * (manifest {@code check}, every scenario of both graphs); 0 when the manifest has none.
     */
    public static double logitError(Path modelDir) {
        double most = 0;
        try {
            JsonNode manifest = JSON.readTree(modelDir.resolve("manifest.json").toFile());
            for (JsonNode check : List.of(manifest.path("check"), manifest.path("inplace").path("check"))) {
                for (var field : (Iterable<java.util.Map.Entry<String, JsonNode>>) check::fields) {
                    if (field.getKey().endsWith("_max_abs_diff")) {
                        most = Math.max(most, field.getValue().asDouble());
                    }
                }
            }
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot read " + modelDir.resolve("manifest.json") + ": " + e.getMessage());
        }
        return most;
    }

    /**
     * The gap below which a step is a near-tie: {@link NearTie#TOLERANCE}, or twice the model's measured logit
     * error where that is larger (a log-prob carries the error of its logit and of the log-sum-exp). On the
     * committed models the error is 1e-6 to 1e-5 and the tolerance stays 1e-3; a random model with logits in the
     * hundreds (models/real_shapes.py) differs by up to 1e-2.
     */
    public static double tieTolerance(double logitError) {
        return Math.max(NearTie.TOLERANCE, 2 * logitError);
    }

    /** Compares the engine's result for one prompt with the case (committed models: logit error below 5e-4). */
    public static Outcome compare(Case c, GenerationResult result) {
        return compare(c, result, 0);
    }

    /**
     * Compares the engine's result for one prompt with the case, for a model whose logits agree with PyTorch's to
     * {@code logitError}: near-ties below {@link #tieTolerance}; a sequence score (the sum of its n log-probs over
     * n^length_penalty) within 1e-3 relative or 2 x logitError x n / n^length_penalty, whichever is larger.
     */
    public static Outcome compare(Case c, GenerationResult result, double logitError) {
        int divergence = NearTie.firstDivergence(c.sequences(), result.sequences().get(0), c.prompt().length);
        if (divergence >= 0) {
            if (NearTie.certified(c.gaps(), divergence, tieTolerance(logitError))) {
                return new Outcome(Verdict.NEAR_TIE, "near-tie at step " + divergence);
            }
            return new Outcome(Verdict.DIFFERENT, "diverges at step " + divergence + " (gap "
                    + c.gaps()[Math.min(divergence, c.gaps().length - 1)] + "): HF "
                    + Arrays.toString(generated(c.sequences().get(0), c.prompt().length)) + ", engine "
                    + Arrays.toString(result.best(0).generated()));
        }
        if (c.scores() != null) {
            for (int s = 0; s < c.scores().length; s++) {
                double want = c.scores()[s];
                GeneratedSequence seq = result.sequences().get(0).get(s);
                double got = seq.score();
                int n = Math.max(1, seq.generatedLength());
                double allowed = Math.max(1e-3 * Math.max(1, Math.abs(want)),
                        2 * logitError * n / Math.pow(n, c.config().lengthPenalty()));
                if (Math.abs(want - got) > allowed) {
                    return new Outcome(Verdict.DIFFERENT, "score of sequence " + s + " is " + got + ", HF says " + want);
                }
            }
        }
        return new Outcome(Verdict.SAME, "");
    }

    /** The case's decoding run speculatively: greedy as speculative greedy, beam as speculative beam search. */
    public static GenerationConfig speculative(GenerationConfig c, int k, boolean adaptive) {
        Mode mode = c.mode() == Mode.BEAM ? Mode.SPECULATIVE_BEAM : Mode.SPECULATIVE;
        return GenerationConfig.builder(mode).maxNewTokens(c.maxNewTokens()).minNewTokens(c.minNewTokens())
                .beamWidth(c.beamWidth()).numReturnSequences(c.numReturnSequences()).lengthPenalty(c.lengthPenalty())
                .earlyStopping(c.earlyStopping()).eosTokenIds(c.eosTokenIds()).k(k).adaptive(adaptive).build();
    }

    /** A golden's config (FORMAT.md): greedy or beam with HF's options. */
    static GenerationConfig config(JsonNode c) {
        boolean beam = c.get("mode").asText().equals("beam");
        JsonNode es = c.get("early_stopping");
        EarlyStopping early = es.isBoolean() ? (es.asBoolean() ? EarlyStopping.TRUE : EarlyStopping.FALSE)
                : EarlyStopping.parse(es.asText());
        return GenerationConfig.builder(beam ? Mode.BEAM : Mode.GREEDY)
                .beamWidth(beam ? c.get("num_beams").asInt() : 1)
                .maxNewTokens(c.get("max_new_tokens").asInt())
                .minNewTokens(c.get("min_new_tokens").asInt())
                .lengthPenalty(c.get("length_penalty").asDouble())
                .earlyStopping(early)
                .numReturnSequences(c.get("num_return_sequences").asInt())
                .eosTokenIds(ints(c.get("eos_token_ids")))
                .build();
    }

    /** A sequence ends at its first generated EOS; what follows is HF's padding. */
    static int[] cutAtEos(int[] seq, int promptLength, int[] eos) {
        for (int i = promptLength; i < seq.length; i++) {
            for (int e : eos) {
                if (seq[i] == e) {
                    return Arrays.copyOf(seq, i + 1);
                }
            }
        }
        return seq;
    }

    private static int[] generated(int[] seq, int promptLength) {
        return Arrays.copyOfRange(seq, promptLength, seq.length);
    }

    private static int[] ints(JsonNode a) {
        int[] out = new int[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asInt();
        }
        return out;
    }

    private static double[] doubles(JsonNode a) {
        double[] out = new double[a.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = a.get(i).asDouble();
        }
        return out;
    }
}
