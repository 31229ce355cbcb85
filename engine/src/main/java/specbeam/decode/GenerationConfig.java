package specbeam.decode;

import java.util.Arrays;

/**
 * Everything that parameterises one generation call. Every default is defined here, once, and
 * {@link #validate()} is the one place that checks the values (with messages that say how to fix them).
 *
 * @param mode               decoding strategy
 * @param maxNewTokens       generated tokens at most (Hugging Face's {@code max_new_tokens})
 * @param minNewTokens       end-of-sequence is forbidden before this many new tokens
 * @param beamWidth          beams kept per prompt (beam modes only)
 * @param numReturnSequences sequences returned per prompt (beam modes: at most {@code beamWidth})
 * @param lengthPenalty      finished hypotheses are scored {@code sum_logprobs / generated_len^lengthPenalty}
 * @param earlyStopping      Hugging Face's {@code early_stopping}
 * @param temperature        sampling temperature (sampling modes only)
 * @param topK               sampling keeps the {@code topK} most likely tokens, 0 = off
 * @param topP               sampling keeps the smallest set with probability {@code >= topP}, 1 = off
 * @param seed               seed of the sampling modes' random generator
 * @param k                  speculative modes: draft length (greedy, sampling) or draft tree depth (beam)
 * @param treeBranching      speculative beam: children the draft proposes per tree node
 * @param treeBudget         speculative beam: tree nodes per beam at most (root excluded)
 * @param adaptive           speculative modes: choose the draft length each round from measured costs
 *                           and acceptance, never longer than {@code k}
 * @param eosTokenIds        end-of-sequence ids; {@code null} = the target manifest's
 */
public record GenerationConfig(
        Mode mode,
        int maxNewTokens,
        int minNewTokens,
        int beamWidth,
        int numReturnSequences,
        double lengthPenalty,
        EarlyStopping earlyStopping,
        double temperature,
        int topK,
        double topP,
        long seed,
        int k,
        int treeBranching,
        int treeBudget,
        boolean adaptive,
        int[] eosTokenIds) {

    public static final int DEFAULT_MAX_NEW_TOKENS = 64;
    public static final int DEFAULT_BEAM_WIDTH = 4;
    public static final int DEFAULT_K = 4;
    public static final int DEFAULT_TREE_BRANCHING = 2;

    /** A builder holding every default. */
    public static Builder builder(Mode mode) {
        return new Builder(mode);
    }

    /**
     * Default tree budget per beam: no cap below what the tree can hold ({@code k} levels of
     * {@code branching * beamWidth} nodes could all hang below one beam).
     */
    public static int defaultTreeBudget(int k, int branching, int beamWidth) {
        return k * branching * Math.max(1, beamWidth);
    }

    /** Beams actually kept: 1 for non-beam modes. */
    public int effectiveBeamWidth() {
        return mode.isBeam() ? beamWidth : 1;
    }

    /** Checks every value once; throws {@link IllegalArgumentException} saying what is wrong and how to fix it. */
    public GenerationConfig validate() {
        if (mode == null) {
            throw new IllegalArgumentException("mode is missing: pass --mode greedy|beam|sampling|speculative|speculative_beam|speculative_sampling");
        }
        require(maxNewTokens >= 1, "maxNewTokens must be >= 1 (got " + maxNewTokens + ")");
        require(minNewTokens >= 0 && minNewTokens <= maxNewTokens,
                "minNewTokens must be between 0 and maxNewTokens=" + maxNewTokens + " (got " + minNewTokens + ")");
        require(beamWidth >= 1, "beamWidth must be >= 1 (got " + beamWidth + ")");
        require(numReturnSequences >= 1, "numReturnSequences must be >= 1 (got " + numReturnSequences + ")");
        if (mode.isBeam()) {
            require(numReturnSequences <= beamWidth, "numReturnSequences (" + numReturnSequences
                    + ") must not exceed beamWidth (" + beamWidth + ")");
        } else if (!mode.isSampling()) {
            require(numReturnSequences == 1, "numReturnSequences > 1 needs a beam or sampling mode (mode is " + mode.id() + ")");
        }
        require(Double.isFinite(lengthPenalty), "lengthPenalty must be a finite number (got " + lengthPenalty + ")");
        require(earlyStopping != null, "earlyStopping is missing: use true, false or never");
        require(temperature > 0 && Double.isFinite(temperature), "temperature must be > 0 (got " + temperature + ")");
        require(topK >= 0, "topK must be >= 0, 0 meaning off (got " + topK + ")");
        require(topP > 0 && topP <= 1, "topP must be in (0, 1] (got " + topP + ")");
        require(k >= 1, "k must be >= 1 (got " + k + ")");
        require(treeBranching >= 1, "treeBranching must be >= 1 (got " + treeBranching + ")");
        require(treeBudget >= 1, "treeBudget must be >= 1 (got " + treeBudget + ")");
        if (eosTokenIds != null) {
            for (int id : eosTokenIds) {
                require(id >= 0, "eos token ids must be >= 0 (got " + Arrays.toString(eosTokenIds) + ")");
            }
        }
        return this;
    }

    private static void require(boolean condition, String message) {
        if (!condition) {
            throw new IllegalArgumentException(message);
        }
    }

    public Builder toBuilder() {
        return new Builder(mode).maxNewTokens(maxNewTokens).minNewTokens(minNewTokens).beamWidth(beamWidth)
                .numReturnSequences(numReturnSequences).lengthPenalty(lengthPenalty).earlyStopping(earlyStopping)
                .temperature(temperature).topK(topK).topP(topP).seed(seed).k(k).treeBranching(treeBranching)
                .treeBudget(treeBudget).adaptive(adaptive).eosTokenIds(eosTokenIds);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof GenerationConfig other && toString().equals(other.toString());
    }

    @Override
    public int hashCode() {
        return toString().hashCode();
    }

    @Override
    public String toString() {
        return "GenerationConfig[mode=" + mode.id() + ", maxNewTokens=" + maxNewTokens + ", minNewTokens=" + minNewTokens
                + ", beamWidth=" + beamWidth + ", numReturnSequences=" + numReturnSequences
                + ", lengthPenalty=" + lengthPenalty + ", earlyStopping=" + earlyStopping.id()
                + ", temperature=" + temperature + ", topK=" + topK + ", topP=" + topP + ", seed=" + seed
                + ", k=" + k + ", treeBranching=" + treeBranching + ", treeBudget=" + treeBudget
                + ", adaptive=" + adaptive + ", eosTokenIds=" + Arrays.toString(eosTokenIds) + "]";
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private final Mode mode;
        private int maxNewTokens = DEFAULT_MAX_NEW_TOKENS;
        private int minNewTokens = 0;
        private int beamWidth = DEFAULT_BEAM_WIDTH;
        private int numReturnSequences = 1;
        private double lengthPenalty = 1.0;
        private EarlyStopping earlyStopping = EarlyStopping.FALSE;
        private double temperature = 1.0;
        private int topK = 0;
        private double topP = 1.0;
        private long seed = 42;
        private int k = DEFAULT_K;
        private int treeBranching = DEFAULT_TREE_BRANCHING;
        private Integer treeBudget;
        private boolean adaptive = false;
        private int[] eosTokenIds;

        private Builder(Mode mode) {
            this.mode = mode;
        }

        public Builder maxNewTokens(int v) { maxNewTokens = v; return this; }
        public Builder minNewTokens(int v) { minNewTokens = v; return this; }
        public Builder beamWidth(int v) { beamWidth = v; return this; }
        public Builder numReturnSequences(int v) { numReturnSequences = v; return this; }
        public Builder lengthPenalty(double v) { lengthPenalty = v; return this; }
        public Builder earlyStopping(EarlyStopping v) { earlyStopping = v; return this; }
        public Builder temperature(double v) { temperature = v; return this; }
        public Builder topK(int v) { topK = v; return this; }
        public Builder topP(double v) { topP = v; return this; }
        public Builder seed(long v) { seed = v; return this; }
        public Builder k(int v) { k = v; return this; }
        public Builder treeBranching(int v) { treeBranching = v; return this; }
        public Builder treeBudget(int v) { treeBudget = v; return this; }
        public Builder adaptive(boolean v) { adaptive = v; return this; }
        public Builder eosTokenIds(int[] v) { eosTokenIds = v == null ? null : v.clone(); return this; }

        public GenerationConfig build() {
            int budget = treeBudget != null ? treeBudget : defaultTreeBudget(k, treeBranching, beamWidth);
            return new GenerationConfig(mode, maxNewTokens, minNewTokens, beamWidth, numReturnSequences,
                    lengthPenalty, earlyStopping, temperature, topK, topP, seed, k, treeBranching, budget,
                    adaptive, eosTokenIds).validate();
        }
    }
}
