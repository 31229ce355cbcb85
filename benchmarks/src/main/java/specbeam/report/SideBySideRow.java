package specbeam.report;

import com.fasterxml.jackson.annotation.JsonPropertyOrder;
import com.fasterxml.jackson.databind.PropertyNamingStrategies;
import com.fasterxml.jackson.databind.annotation.JsonNaming;

/**
 * One row of {@code hf_side_by_side.csv}: a Hugging Face {@code generate} mode and the specbeam point it is
 * compared with, timed call by call in alternation (HF on prompt i, specbeam on prompt i, or the other way round)
 * so that the machine's drift hits both sides; the speedup is the geometric mean of the pairs' ratios.
 *
 * @param hfMode         greedy, beam or assisted
 * @param specbeamPoint  the specbeam grid point's label
 * @param pairs          timed pairs (one prompt on each side)
 * @param speedup        HF ms / specbeam ms, geometric mean over the pairs
 * @param speedupLow     lower end of its 99.9% interval
 * @param speedupHigh    upper end
 * @param loadavg        1-minute load average before and after
 */
@JsonNaming(PropertyNamingStrategies.SnakeCaseStrategy.class)
@JsonPropertyOrder({"hf_mode", "k", "beam_width", "specbeam_point", "pairs", "hf_ms_mean", "specbeam_ms_mean", "speedup",
        "speedup_low", "speedup_high", "measured_at", "loadavg", "torch", "transformers"})
public record SideBySideRow(String hfMode, int k, int beamWidth, String specbeamPoint, int pairs, double hfMsMean,
                            double specbeamMsMean, double speedup, Double speedupLow, Double speedupHigh,
                            String measuredAt, String loadavg, String torch, String transformers) {
}
