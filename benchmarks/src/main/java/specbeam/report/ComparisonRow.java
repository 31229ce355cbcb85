package specbeam.report;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * The columns shared by this suite's CSV and {@code results/hf_baseline.csv} (written by
 * {@code models/hf_baseline.py}): one row per engine and configuration, both engines in one file.
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({"engine", "mode", "k", "beam_width", "batch", "provider", "max_new_tokens", "latency_ms_mean",
        "latency_ms_ci999", "tokens_per_s", "acceptance_rate", "target_forwards_per_token", "n"})
public record ComparisonRow(String engine, String mode, Integer k, Integer beamWidth, Integer batch, String provider,
                            Integer maxNewTokens, Double latencyMsMean, Double latencyMsCi999, Double tokensPerS,
                            Double acceptanceRate, Double targetForwardsPerToken, Integer n) {

    public static ComparisonRow of(ResultRow r) {
        return new ComparisonRow(r.engine(), r.mode(), r.k(), r.beamWidth(), r.batch(), r.provider(), r.maxNewTokens(),
                r.latencyMsMean(), r.latencyMsCi999(), r.tokensPerS(), r.acceptanceRate(), r.targetForwardsPerToken(),
                r.n());
    }
}
