package specbeam.decode;

import specbeam.model.ModelManifest;
import specbeam.model.OnnxCausalLm;

import java.util.List;

/** Checks and helpers shared by all strategies. */
final class DecodeSupport {
    private DecodeSupport() {
    }

    /** End-of-sequence ids: the configuration's, else the target manifest's. */
    static int[] eosTokens(GenerationConfig config, ModelManifest target) {
        return config.eosTokenIds() != null ? config.eosTokenIds() : target.eosTokenIds();
    }

    /**
     * Validates a batch of prompts against the model and returns the longest prompt.
     *
     * @throws IllegalArgumentException for an empty batch or prompt, an out-of-vocabulary id, or a prompt
     *                                  that cannot take {@code maxNewTokens} more positions
     */
    static int checkPrompts(List<int[]> prompts, ModelManifest m, GenerationConfig config) {
        if (prompts == null || prompts.isEmpty()) {
            throw new IllegalArgumentException("no prompts given: pass at least one prompt");
        }
        int longest = 0;
        for (int i = 0; i < prompts.size(); i++) {
            int[] p = prompts.get(i);
            if (p == null || p.length == 0) {
                throw new IllegalArgumentException("prompt " + i + " is empty: give at least one token");
            }
            for (int id : p) {
                if (id < 0 || id >= m.vocabSize()) {
                    throw new IllegalArgumentException("prompt " + i + " has token id " + id
                            + " outside the model's vocabulary 0.." + (m.vocabSize() - 1));
                }
            }
            if (p.length + config.maxNewTokens() > m.maxPositions()) {
                throw new IllegalArgumentException("prompt " + i + " has " + p.length + " tokens; with maxNewTokens="
                        + config.maxNewTokens() + " that exceeds the model's " + m.maxPositions()
                        + " positions: shorten the prompt or lower maxNewTokens");
            }
            longest = Math.max(longest, p.length);
        }
        return longest;
    }

    /**
     * Counts the target's forwards into {@code stats}. Every strategy opens one state per call and prefills it
     * with its first forward, so that forward is counted as the prompt's as well (the forward-cost projection
     * separates the decode phase from the prompt with it).
     */
    static OnnxCausalLm.OrtTimer targetTimer(DecodeStats stats) {
        return new StatsTimer(stats) {
            private boolean prefilled;

            @Override
            public void ortNanos(long nanos, int tokensFed) {
                stats.targetOrtNanos += nanos;
                stats.targetForwards++;
                stats.targetTokensFed += tokensFed;
                if (!prefilled) {
                    prefilled = true;
                    stats.targetPrefillForwards++;
                    stats.targetPrefillTokensFed += tokensFed;
                }
            }

        };
    }

    /** Counts the draft's forwards into {@code stats}; its first forward of a call is the prompt's (see {@link #targetTimer}). */
    static OnnxCausalLm.OrtTimer draftTimer(DecodeStats stats) {
        return new StatsTimer(stats) {
            private boolean prefilled;

            @Override
            public void ortNanos(long nanos, int tokensFed) {
                stats.draftOrtNanos += nanos;
                stats.draftForwards++;
                stats.draftTokensFed += tokensFed;
                if (!prefilled) {
                    prefilled = true;
                    stats.draftPrefillForwards++;
                    stats.draftPrefillTokensFed += tokensFed;
                }
            }

        };
    }

    /** The counters both models' timers share: KV bytes written and moved, padded positions. */
    private abstract static class StatsTimer implements OnnxCausalLm.OrtTimer {
        final DecodeStats stats;

        StatsTimer(DecodeStats stats) {
            this.stats = stats;
        }

        @Override
        public void kvBytes(long bytes) {
            stats.kvBytesCopied += bytes;
        }

        @Override
        public void kvBytesMoved(long bytes) {
            stats.kvBytesCopied += bytes;
            stats.kvBytesMoved += bytes;
        }

        @Override
        public void paddedPositions(long positions) {
            stats.paddedPositions += positions;
        }

        @Override
        public void kvBytesThroughJava(long bytes) {
            stats.kvBytesThroughJava += bytes;
        }

        @Override
        public void hostIo(long toProvider, long fromProvider) {
            stats.hostIoBytes += toProvider + fromProvider;
        }
    }

    static int[] append(int[] tokens, int token) {
        int[] out = java.util.Arrays.copyOf(tokens, tokens.length + 1);
        out[tokens.length] = token;
        return out;
    }

    static int[] concat(int[] a, int[] b, int bLength) {
        int[] out = java.util.Arrays.copyOf(a, a.length + bLength);
        System.arraycopy(b, 0, out, a.length, bLength);
        return out;
    }
}
