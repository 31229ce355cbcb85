package specbeam.model;

import com.fasterxml.jackson.annotation.JsonIgnoreProperties;
import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * The {@code manifest.json} written by {@code models/export.py} (format {@code specbeam-onnx-v1}, see
 * {@code models/FORMAT.md}). Token ids, shapes and I/O names come from here, never from constants.
 */
@JsonIgnoreProperties(ignoreUnknown = true)
public record ModelManifest(
        @JsonProperty("format") String format,
        @JsonProperty("model_type") String modelType,
        @JsonProperty("architecture") String architecture,
        @JsonProperty("num_layers") int numLayers,
        @JsonProperty("num_heads") int numHeads,
        @JsonProperty("num_kv_heads") int numKvHeads,
        @JsonProperty("head_dim") int headDim,
        @JsonProperty("hidden_size") int hiddenSize,
        @JsonProperty("vocab_size") int vocabSize,
        @JsonProperty("max_positions") int maxPositions,
        @JsonProperty("sliding_window") Integer slidingWindow,
        @JsonProperty("bos_token_id") Integer bosTokenId,
        @JsonProperty("eos_token_ids") int[] eosTokenIds,
        @JsonProperty("pad_token_id") Integer padTokenId,
        @JsonProperty("dtype") String dtype,
        @JsonProperty("mask_min") double maskMin,
        @JsonProperty("parameters") long parameters,
        @JsonProperty("flops_per_token") long flopsPerToken,
        @JsonProperty("inputs") Map<String, String> inputs,
        @JsonProperty("outputs") Map<String, String> outputs,
        @JsonProperty("source") JsonNode source,
        @JsonProperty("files") Map<String, String> files,
        @JsonProperty("inplace") Inplace inplace) {

    /**
     * The optional in-place graph next to {@code model.onnx} (FORMAT.md, "In-place graph"): the same model with
     * GroupQueryAttention writing the new keys/values into the cache buffer it reads, over the first
     * {@code total_sequence_length} slots only.
     *
     * @param file   the graph's file in the model directory
     * @param graph  which builder wrote it
     * @param inputs names of its two extra inputs, {@code seqlens_k} and {@code total_sequence_length}
     */
    @JsonIgnoreProperties(ignoreUnknown = true)
    public record Inplace(@JsonProperty("file") String file, @JsonProperty("graph") String graph,
                          @JsonProperty("inputs") Map<String, String> inputs) {
    }

    public static final String FORMAT = "specbeam-onnx-v1";
    /** The {@code inputs} key of the sliding layers' mask in a model whose layers attend differently (Gemma). */
    public static final String SLIDING_MASK = "attention_mask_sliding";
    private static final ObjectMapper JSON = new ObjectMapper()
            .configure(DeserializationFeature.FAIL_ON_NULL_FOR_PRIMITIVES, true);

    /** Reads and checks {@code dir/manifest.json}; errors name the file and what to do. */
    public static ModelManifest read(Path dir) {
        Path file = dir.resolve("manifest.json");
        if (!Files.isDirectory(dir)) {
            throw new ModelLoadException("model directory " + dir + " does not exist: export one with "
                    + "'python models/export.py --model <id> --out " + dir + "'");
        }
        if (!Files.isRegularFile(file)) {
            throw new ModelLoadException(dir + " has no manifest.json: it is not a specbeam model directory "
                    + "(export one with 'python models/export.py --model <id> --out <dir>')");
        }
        ModelManifest m;
        try {
            m = JSON.readValue(file.toFile(), ModelManifest.class);
        } catch (IOException e) {
            throw new ModelLoadException(file + " is not a valid manifest: " + firstLine(e.getMessage())
                    + " (re-export the model)");
        }
        return m.check(file);
    }

    private ModelManifest check(Path file) {
        if (!FORMAT.equals(format)) {
            throw new ModelLoadException(file + " has format '" + format + "', expected '" + FORMAT
                    + "' (re-export the model with models/export.py)");
        }
        if (!"float32".equals(dtype) && !"float16".equals(dtype)) {
            throw new ModelLoadException(file + ": dtype '" + dtype + "' is not supported by the Java engine (export "
                    + "with --dtype float32 or float16)");
        }
        if ("float16".equals(dtype) && headDim % 2 != 0) {
            throw new ModelLoadException(file + ": a float16 model needs an even head_dim (got " + headDim + ")");
        }
        if (numLayers < 1 || numKvHeads < 1 || headDim < 1 || vocabSize < 2 || maxPositions < 2) {
            throw new ModelLoadException(file + " has impossible shapes (layers=" + numLayers + ", kv_heads="
                    + numKvHeads + ", head_dim=" + headDim + ", vocab=" + vocabSize + ")");
        }
        if (slidingWindow != null && slidingWindow < 1) {
            throw new ModelLoadException(file + " has sliding_window " + slidingWindow
                    + ": a window holds at least one position (null for full attention; re-export the model)");
        }
        if (inputs != null && inputs.containsKey(SLIDING_MASK) && slidingWindow == null) {
            throw new ModelLoadException(file + " has a '" + SLIDING_MASK + "' input but no sliding_window (re-export "
                    + "the model)");
        }
        if (eosTokenIds == null) {
            throw new ModelLoadException(file + " lists no eos_token_ids");
        }
        if (inplace != null && (inplace.file() == null || inplace.inputs() == null
                || !inplace.inputs().containsKey("seqlens_k") || !inplace.inputs().containsKey("total_sequence_length"))) {
            throw new ModelLoadException(file + ": its 'inplace' entry needs 'file' and the input names 'seqlens_k' and "
                    + "'total_sequence_length' (re-export the model)");
        }
        return this;
    }

    private static String firstLine(String s) {
        if (s == null) {
            return "unreadable";
        }
        int nl = s.indexOf('\n');
        return nl < 0 ? s : s.substring(0, nl);
    }

    public String inputName(String key, int layer) {
        return inputs.get(key).replace("{i}", Integer.toString(layer));
    }

    public String outputName(String key, int layer) {
        return outputs.get(key).replace("{i}", Integer.toString(layer));
    }

    /** Floats in one KV row per layer and kind: {@code kv_heads * head_dim} per position. */
    public int kvWidth() {
        return numKvHeads * headDim;
    }

    /**
     * The distance below which a key is attended (FORMAT.md "Sliding window"): a node at position {@code p} sees
     * the key at position {@code p'} only if {@code p - p' < attentionWindow()}; {@link Integer#MAX_VALUE} for full
     * attention.
     */
    public int attentionWindow() {
        return slidingWindow == null ? Integer.MAX_VALUE : slidingWindow;
    }

    /**
     * A half-precision graph (FORMAT.md "Half precision"): its past/present keys and values are float16; masks,
     * positions and logits are as in float32.
     */
    public boolean halfPrecision() {
        return "float16".equals(dtype);
    }

    /** Pad id to feed in unused batch slots: the manifest's pad, else its first EOS. */
    public int fillerTokenId() {
        return padTokenId != null ? padTokenId : eosTokenIds.length > 0 ? eosTokenIds[0] : 0;
    }
}
