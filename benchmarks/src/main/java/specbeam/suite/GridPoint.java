package specbeam.suite;

import specbeam.decode.GenerationConfig;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * One configuration of the benchmark grid. A point is <em>canonical</em> when the axes its mode does not use
 * hold their neutral value: {@code k = 0} for modes without a draft, {@code beamWidth = 1} for modes without
 * beams, {@code adaptive = false} without a draft. Only canonical points are measured, so "greedy with
 * beamWidth 4" is never reported as if it differed from greedy.
 *
 * @param mode         decoding strategy
 * @param k            draft length / tree depth (speculative modes), 0 otherwise
 * @param beamWidth    beams kept (beam modes), 1 otherwise
 * @param adaptive     speculative modes: draft length chosen each round from measured costs, at most {@code k}
 * @param provider     ONNX Runtime execution provider asked for
 * @param batch        prompts per generate call
 * @param maxNewTokens tokens generated per prompt at most
 */
public record GridPoint(Mode mode, int k, int beamWidth, boolean adaptive, ExecutionProvider provider, int batch,
                        int maxNewTokens) {

    /** The same point with the axes its mode ignores set to their neutral values. */
    public GridPoint canonical() {
        boolean speculative = mode.isSpeculative();
        return new GridPoint(mode, speculative ? k : 0, mode.isBeam() ? beamWidth : 1, speculative && adaptive,
                provider, batch, maxNewTokens);
    }

    /** The same point with {@code batch} prompts per generate call. */
    public GridPoint withBatch(int batch) {
        return new GridPoint(mode, k, beamWidth, adaptive, provider, batch, maxNewTokens);
    }

    public boolean isCanonical() {
        return equals(canonical());
    }

    /**
     * Checks the values a user can get wrong; the message says how to fix them.
     *
     * @throws IllegalArgumentException for k &lt; 1 on a speculative mode, beamWidth, batch or maxNewTokens &lt; 1
     */
    public GridPoint validate() {
        if (mode.isSpeculative() && k < 1) {
            throw new IllegalArgumentException(mode.id() + " needs k >= 1 (draft tokens per round), got k=" + k
                    + ": pass e.g. -p k=4");
        }
        if (beamWidth < 1) {
            throw new IllegalArgumentException("beamWidth must be >= 1, got " + beamWidth + ": pass e.g. -p beamWidth=4");
        }
        if (batch < 1) {
            throw new IllegalArgumentException("batch must be >= 1 prompt per call, got " + batch + ": pass e.g. -p batch=1");
        }
        if (maxNewTokens < 1) {
            throw new IllegalArgumentException("maxNewTokens must be >= 1, got " + maxNewTokens
                    + ": pass e.g. -p maxNewTokens=64");
        }
        return this;
    }

    /** The target-only point this one's speed is compared with (itself for target-only modes). */
    public GridPoint baseline() {
        return new GridPoint(mode.baseline(), 0, beamWidth, false, provider, batch, maxNewTokens).canonical();
    }

    /**
     * The generation configuration the engine runs for this point. End-of-sequence is ignored until
     * {@code maxNewTokens} tokens exist ({@code minNewTokens = maxNewTokens}), as {@code models/hf_baseline.py}
     * does by default: every generation does the same amount of work, whatever the prompt, so modes and engines
     * compare at equal output length.
     */
    public GenerationConfig config() {
        GenerationConfig.Builder b = GenerationConfig.builder(mode).maxNewTokens(maxNewTokens).minNewTokens(maxNewTokens);
        if (mode.isBeam()) {
            b.beamWidth(beamWidth);
        }
        if (mode.isSpeculative()) {
            b.k(k).adaptive(adaptive);
        }
        return b.build();
    }

    /** Short readable name, e.g. {@code speculative_beam k=4 B=4 adaptive}. */
    public String label() {
        StringBuilder sb = new StringBuilder(mode.id());
        if (mode.isSpeculative()) {
            sb.append(" k=").append(k);
        }
        if (mode.isBeam()) {
            sb.append(" B=").append(beamWidth);
        }
        if (adaptive) {
            sb.append(" adaptive");
        }
        if (provider != ExecutionProvider.CPU) {
            sb.append(' ').append(provider.id());
        }
        if (batch != 1) {
            sb.append(" batch=").append(batch);
        }
        if (maxNewTokens != GenerationConfig.DEFAULT_MAX_NEW_TOKENS) {
            sb.append(" max_new_tokens=").append(maxNewTokens);
        }
        return sb.toString();
    }

    /** The JMH {@code @Param} values of {@code specbeam.bench.DecodeBenchmark} that select this point. */
    public Map<String, String> jmhParams() {
        Map<String, String> p = new LinkedHashMap<>();
        p.put(Axis.MODE.param(), mode.id());
        p.put(Axis.K.param(), Integer.toString(k));
        p.put(Axis.BEAM_WIDTH.param(), Integer.toString(beamWidth));
        p.put(Axis.ADAPTIVE.param(), Boolean.toString(adaptive));
        p.put(Axis.PROVIDER.param(), provider.id());
        p.put(Axis.BATCH.param(), Integer.toString(batch));
        p.put(Axis.MAX_NEW_TOKENS.param(), Integer.toString(maxNewTokens));
        return p;
    }

    /** Parses the JMH parameter values of one point (the inverse of {@link #jmhParams()}), without canonicalising. */
    public static GridPoint fromParams(Map<String, String> params) {
        return new GridPoint(
                Mode.parse(params.get(Axis.MODE.param())),
                Axis.K.parseInt(params.get(Axis.K.param())),
                Axis.BEAM_WIDTH.parseInt(params.get(Axis.BEAM_WIDTH.param())),
                Axis.ADAPTIVE.parseBoolean(params.get(Axis.ADAPTIVE.param())),
                ExecutionProvider.parse(params.get(Axis.PROVIDER.param())),
                Axis.BATCH.parseInt(params.get(Axis.BATCH.param())),
                Axis.MAX_NEW_TOKENS.parseInt(params.get(Axis.MAX_NEW_TOKENS.param())));
    }
}
