package specbeam.report;

import com.fasterxml.jackson.annotation.JsonProperty;
import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;
import specbeam.suite.GridPoint;

/**
 * One CSV row: one grid point of one run. Column names are the components in snake case, units in the name;
 * an empty cell means "not applicable" (k without a draft, acceptance without a draft, identity of a
 * baseline). The first thirteen columns are shared with {@code results/hf_baseline.csv}.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({"engine", "mode", "k", "beam_width", "batch", "provider", "max_new_tokens", "latency_ms_mean",
        "latency_ms_ci999", "tokens_per_s", "acceptance_rate", "target_forwards_per_token", "n"})
public record ResultRow(
        String engine,
        String mode,
        /* draft tokens / tree depth; 0 for modes without a draft (as in hf_baseline.csv) */
        int k,
        int beamWidth,
        int batch,
        String provider,
        int maxNewTokens,
        /* mean milliseconds per generate call (batch prompts), over the measured iterations */
        Double latencyMsMean,
        /* half-width of its 99.9% confidence interval (Student's t) */
        Double latencyMsCi999,
        Double tokensPerS,
        Double acceptanceRate,
        Double targetForwardsPerToken,
        /* measured iterations */
        int n,
        boolean adaptive,
        Double latencyMsSd,
        Double relError,
        Double stepsPerTargetForward,
        Double draftForwardsPerTargetForward,
        Double draftProposedPerRound,
        Double ortShare,
        Double targetMsPerForward,
        Double draftMsPerForward,
        Double kvBytesPerToken,
        /* the part of kv_bytes_per_token moved after being stored (beam reorders, compaction) */
        Double kvBytesMovedPerToken,
        /* positions per forward (target and draft) that were no tree node: 0 at batch 1 */
        Double paddedPositionsPerForward,
        /* label of the target-only point this one is compared with */
        String baseline,
        Double speedupVsBaseline,
        Double speedupRelError,
        /* SpeedupModel: per-token acceptance fitted under i.i.d. acceptance (draft chains only) */
        Double modelAlphaIid,
        /* SpeedupModel: 1 + acceptance x draft tokens per round (chains), measured steps per round (beam trees) */
        Double modelStepsPerRound,
        /* SpeedupModel: expected speedup from steps per round and ONNX Runtime forward costs */
        Double modelSpeedup,
        Double identicalShare,
        Double certifiedTieShare,
        Integer qualityPrompts,
        Double perplexity,
        Double bleu,
        @JsonProperty("rouge1_f1") Double rouge1F1,
        @JsonProperty("rouge2_f1") Double rouge2F1,
        @JsonProperty("rougeL_f1") Double rougeLF1,
        Double distinct1,
        Double distinct2,
        Double selfBleu,
        String levelCoverage,
        String date,
        String cpuModel,
        int cores,
        String jvm,
        String ortVersion,
        String providerUsed,
        @JsonProperty("target_sha256") String targetSha256,
        @JsonProperty("draft_sha256") String draftSha256,
        String jmhSettings,
        /* 1-minute load average when this point started (paired points: mean over their rounds) */
        @JsonProperty("load_avg_1m") Double loadAvg1m,
        /* 99.9% interval of speedup_vs_baseline, from the paired rounds' ratios (see PairedRatio) */
        @JsonProperty("speedup_ci999_low") Double speedupCi999Low,
        @JsonProperty("speedup_ci999_high") Double speedupCi999High,
        /* paired rounds behind the speedup, and the JMH forks they came from */
        Integer speedupRounds,
        Integer speedupForks,
        /* faster / slower / not a win (the interval contains 1) */
        String speedupVerdict,
        /* rounds during which other processes used a quarter of the cores or more (details in rounds.csv) */
        Integer roundsUnderLoad,
        /* the most CPU cores other processes kept busy during one of the rounds */
        Double otherCpuMax,
        /* decode phase: mean tokens fed per row (batch x beams) to one target forward; 1 without a draft */
        Double decodeTargetTokensPerRow,
        /* decode phase: draft forwards per target forward (prompt forwards left out) */
        Double decodeDraftForwardsPerRound,
        /* decode phase: mean tokens fed per row to one draft forward */
        Double decodeDraftTokensPerRow,
        /* share of the measured calls made while ONNX Runtime's workers spun (the fork's automatic thread-pool
           choice, README "Thread pool"); empty in runs before it was recorded */
        @JsonProperty("ort_spinning_share") Double ortSpinningShare,
        /* milliseconds the JIT spent compiling per second of measured calls (README "Warm-up"); empty in runs
           before it was recorded */
        @JsonProperty("jit_ms_per_s") Double jitMsPerS,
        /* speculative points: measured steps per target forward x the baseline's ONNX Runtime ms per forward (same
           rounds) / the point's ms per target forward: the speedup if drafting and Java cost nothing; empty in runs
           before it was recorded */
        Double freeDraftBound,
        /* speculative points: the baseline's ONNX Runtime ms per target forward in the same paired rounds (its
           standalone measurement where the point was not paired): the cost free_draft_bound and model_speedup are
           computed from; empty in runs before it was recorded */
        Double baselineTargetMsPerForward,
        /* where the target kept its KV cache: bound (ONNX Runtime's memory, IoBinding) or host (direct buffers),
           README "The KV cache"; empty in runs before it was recorded */
        String kvCache,
        /* KV-cache bytes Java's own code copied per new token: 0 on the bound cache */
        Double kvBytesThroughJavaPerToken,
        /* bytes that crossed between Java's buffers and the provider per new token (ids, positions, mask, logits;
           on host also the past keys and values fed and the present ones read) */
        Double hostIoBytesPerToken) {

    public static final String ENGINE = "specbeam";

    /** Rows fed to one decode-phase forward: one per prompt (a prompt's beams share its row as a token tree). */
    public int rowsPerForward() {
        return batch;
    }

    /** The grid point this row measured. */
    public GridPoint point() {
        return new GridPoint(Mode.parse(mode), k, beamWidth, adaptive, ExecutionProvider.parse(provider),
                batch, maxNewTokens);
    }

    /** Short label, as the suite prints it. */
    public String label() {
        return point().label();
    }
}
