package specbeam.cli;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import specbeam.decode.DecodeStats;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationResult;
import specbeam.model.ExecutionProvider;
import specbeam.text.TextTokenizer;

import java.util.List;

/**
 * The JSON object of {@code generate --json}: {@code sequences} (token ids, prompt included, as Hugging Face returns
 * them), {@code sequence_scores}, {@code texts} (the generated part, decoded) and {@code stats}. The {@code serve}
 * API returns the same object (plus its trace), so a field added here shows up in both.
 */
public final class GenerationJson {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    private GenerationJson() {
    }

    public static ObjectNode of(GenerationResult result, TextTokenizer tokenizer, ExecutionProvider provider) {
        return of(result, tokenizer, provider, null);
    }

    /** ... and the KV cache backend the target ran on ({@code kv_cache}: bound or host; left out when null). */
    public static ObjectNode of(GenerationResult result, TextTokenizer tokenizer, ExecutionProvider provider,
                                String kvCache) {
        ObjectNode root = MAPPER.createObjectNode();
        ArrayNode seqs = root.putArray("sequences");
        ArrayNode scores = root.putArray("sequence_scores");
        ArrayNode texts = root.putArray("texts");
        for (List<GeneratedSequence> perPrompt : result.sequences()) {
            for (GeneratedSequence s : perPrompt) {
                ArrayNode a = seqs.addArray();
                for (int t : s.tokens()) {
                    a.add(t);
                }
                scores.add(s.score());
                texts.add(tokenizer.decode(s.generated()));
            }
        }
        DecodeStats st = result.stats();
        ObjectNode stats = root.putObject("stats");
        stats.put("tokens_generated", st.tokensGenerated);
        stats.put("steps", st.steps);
        stats.put("target_forwards", st.targetForwards);
        stats.put("draft_forwards", st.draftForwards);
        stats.put("target_tokens_fed", st.targetTokensFed);
        stats.put("target_prefill_tokens_fed", st.targetPrefillTokensFed);
        stats.put("draft_tokens_proposed", st.draftProposed);
        stats.put("draft_tokens_accepted", st.draftAccepted);
        stats.put("acceptance_rate", Double.isNaN(st.acceptanceRate()) ? null : st.acceptanceRate());
        stats.put("steps_per_target_forward", Double.isNaN(st.stepsPerTargetForward()) ? null : st.stepsPerTargetForward());
        ArrayNode hist = stats.putArray("steps_histogram");
        for (long h : st.stepsHistogram) {
            hist.add(h);
        }
        stats.put("rounds_full_accept", st.roundsFullAccept);
        stats.put("rounds_partial_accept", st.roundsPartialAccept);
        stats.put("rounds_zero_accept", st.roundsZeroAccept);
        stats.put("wall_ms", st.wallNanos / 1e6);
        stats.put("ort_ms", (st.targetOrtNanos + st.draftOrtNanos) / 1e6);
        stats.put("ort_share", st.ortShare());
        stats.put("prefill_ms", st.prefillNanos / 1e6);
        stats.put("logits_ms", st.logitsNanos / 1e6);
        stats.put("verify_ms", st.verifyNanos / 1e6);
        stats.put("verify_ort_ms", st.verifyOrtNanos / 1e6);
        stats.put("verify_forwards", st.verifyForwards);
        stats.put("verify_nodes", st.verifyNodes);
        stats.put("kv_bytes_copied", st.kvBytesCopied);
        stats.put("kv_bytes_moved", st.kvBytesMoved);
        stats.put("padded_positions", st.paddedPositions);
        stats.put("kv_bytes_through_java", st.kvBytesThroughJava);
        stats.put("host_io_bytes", st.hostIoBytes);
        stats.put("provider", provider.id());
        if (kvCache != null) {
            stats.put("kv_cache", kvCache);
        }
        return root;
    }
}
