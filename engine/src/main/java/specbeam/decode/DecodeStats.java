package specbeam.decode;

/**
 * Counters of one generation call, counted (never estimated) by the strategies and the model runner.
 * Names follow ONNX Runtime GenAI: {@code acceptanceRate = draftAccepted / draftProposed}.
 */
public final class DecodeStats {
    /** Largest "steps per target forward" value with its own histogram bucket; larger values land in the last. */
    public static final int HISTOGRAM_SIZE = 33;

    public long targetForwards;
    public long draftForwards;
    /** Tokens fed to the target (prompt tokens and tree nodes; the padding of shorter rows is not counted). */
    public long targetTokensFed;
    /** Tokens fed to the draft. */
    public long draftTokensFed;
    /** Target forwards over the prompt (the first forward of a call's target state: every strategy prefills first). */
    public long targetPrefillForwards;
    /** Prompt tokens fed to the target by those forwards. */
    public long targetPrefillTokensFed;
    /** Draft forwards over the prompt (the first forward of a call's draft state). */
    public long draftPrefillForwards;
    /** Prompt tokens fed to the draft by those forwards. */
    public long draftPrefillTokensFed;
    /** New tokens produced: per prompt, the returned best sequence's generated length (greedy, sampling) or beam steps. */
    public long tokensGenerated;
    /** Decoding steps: tokens for greedy/sampling, beam-search steps for beam modes (summed over prompts). */
    public long steps;
    public long draftProposed;
    public long draftAccepted;
    public long roundsFullAccept;
    public long roundsPartialAccept;
    public long roundsZeroAccept;
    /**
     * Speculative beam search, per tree level {@code l} (index l, 1-based): rounds whose replay reached level
     * {@code l} of a tree at least {@code l} deep (every beam the target selected one level up was a tree node
     * with children) ...
     */
    public final long[] levelReached = new long[HISTOGRAM_SIZE];
    /** ... and of those, the rounds in which all B beams the target selected at level {@code l} were tree nodes. */
    public final long[] levelCovered = new long[HISTOGRAM_SIZE];
    /** stepsHistogram[n] = decode rounds (target forwards after prefill) that advanced n steps. */
    public final long[] stepsHistogram = new long[HISTOGRAM_SIZE];
    public long targetOrtNanos;
    public long draftOrtNanos;
    public long wallNanos;
    public long prefillNanos;
    /**
     * Beam and speculative modes, after the prompt: nanoseconds spent reading the target's logits out of ONNX
     * Runtime's output and scanning them (log-softmax, the top 2B of each beam, a chain's argmax and acceptance
     * test): what a large vocabulary costs outside ONNX Runtime.
     */
    public long logitsNanos;
    /**
     * Speculative modes: nanoseconds of the verifications, each the target's forward over the proposals (its
     * inputs built, ONNX Runtime's run, its outputs taken) plus the reading and scanning of the logits it
     * returned; the cache updates after acceptance are not part of it.
     */
    public long verifyNanos;
    /** ... and of those, the nanoseconds inside ONNX Runtime's run of the target. */
    public long verifyOrtNanos;
    /** Target forwards that were verifications, and the tree or chain nodes they fed. */
    public long verifyForwards;
    public long verifyNodes;
    /** Bytes of KV cache moved by the engine (new entries written, rows reordered, paths gathered). */
    public long kvBytesCopied;
    /** The part of {@link #kvBytesCopied} moved after it was stored: beam reorders, path gathers, compaction. */
    public long kvBytesMoved;
    /** Positions computed by forwards (target and draft) that were no tree node: rows padded to the longest. */
    public long paddedPositions;
    /** The part of {@link #kvBytesCopied} copied by Java code: all of it on direct buffers, 0 on the bound cache. */
    public long kvBytesThroughJava;
    /**
     * Bytes of host memory the forwards read as inputs and wrote as outputs (what a device provider moves across
     * the bus): ids, positions, masks and the logits kept; on direct buffers also the past cache and the new
     * keys/values ({@code specbeam.model.KvBackend}).
     */
    public long hostIoBytes;

    /** Records that one decode round (one target forward after prefill) advanced {@code steps} steps. */
    public void recordRound(int stepsAdvanced) {
        stepsHistogram[Math.min(stepsAdvanced, HISTOGRAM_SIZE - 1)]++;
    }

    public double acceptanceRate() {
        return draftProposed == 0 ? Double.NaN : (double) draftAccepted / draftProposed;
    }

    /** Mean decoding steps per decode-phase target forward (prefill excluded). */
    public double stepsPerTargetForward() {
        long rounds = 0;
        long total = 0;
        for (int i = 0; i < HISTOGRAM_SIZE; i++) {
            rounds += stepsHistogram[i];
            total += i * stepsHistogram[i];
        }
        return rounds == 0 ? Double.NaN : (double) total / rounds;
    }

    /** Target forwards (prefill included) per generated token. */
    public double targetForwardsPerToken() {
        return tokensGenerated == 0 ? Double.NaN : (double) targetForwards / tokensGenerated;
    }

    /** Share of wall time spent inside ONNX Runtime (target and draft). */
    public double ortShare() {
        return wallNanos == 0 ? Double.NaN : (double) (targetOrtNanos + draftOrtNanos) / wallNanos;
    }

    /** Share of the decode phase's wall time (prompt excluded) spent reading and scanning logits (beam modes). */
    public double logitsShare() {
        long decode = wallNanos - prefillNanos;
        return decode <= 0 ? Double.NaN : (double) logitsNanos / decode;
    }

    /** The share of the verifications' time spent outside ONNX Runtime's run of the target (NaN without one). */
    public double verifyOutsideOrtShare() {
        return verifyNanos <= 0 ? Double.NaN : (double) (verifyNanos - verifyOrtNanos) / verifyNanos;
    }

    public double kvBytesPerToken() {
        return tokensGenerated == 0 ? Double.NaN : (double) kvBytesCopied / tokensGenerated;
    }

    public double kvBytesMovedPerToken() {
        return tokensGenerated == 0 ? Double.NaN : (double) kvBytesMoved / tokensGenerated;
    }

    /** Adds another call's counters to these. */
    public void add(DecodeStats o) {
        targetForwards += o.targetForwards;
        draftForwards += o.draftForwards;
        targetTokensFed += o.targetTokensFed;
        draftTokensFed += o.draftTokensFed;
        targetPrefillForwards += o.targetPrefillForwards;
        targetPrefillTokensFed += o.targetPrefillTokensFed;
        draftPrefillForwards += o.draftPrefillForwards;
        draftPrefillTokensFed += o.draftPrefillTokensFed;
        tokensGenerated += o.tokensGenerated;
        steps += o.steps;
        draftProposed += o.draftProposed;
        draftAccepted += o.draftAccepted;
        roundsFullAccept += o.roundsFullAccept;
        roundsPartialAccept += o.roundsPartialAccept;
        roundsZeroAccept += o.roundsZeroAccept;
        for (int i = 0; i < HISTOGRAM_SIZE; i++) {
            stepsHistogram[i] += o.stepsHistogram[i];
        }
        targetOrtNanos += o.targetOrtNanos;
        draftOrtNanos += o.draftOrtNanos;
        wallNanos += o.wallNanos;
        prefillNanos += o.prefillNanos;
        logitsNanos += o.logitsNanos;
        verifyNanos += o.verifyNanos;
        verifyOrtNanos += o.verifyOrtNanos;
        verifyForwards += o.verifyForwards;
        verifyNodes += o.verifyNodes;
        kvBytesCopied += o.kvBytesCopied;
        kvBytesMoved += o.kvBytesMoved;
        paddedPositions += o.paddedPositions;
        kvBytesThroughJava += o.kvBytesThroughJava;
        hostIoBytes += o.hostIoBytes;
    }

    public double hostIoBytesPerToken() {
        return tokensGenerated == 0 ? Double.NaN : (double) hostIoBytes / tokensGenerated;
    }

    public double kvBytesThroughJavaPerToken() {
        return tokensGenerated == 0 ? Double.NaN : (double) kvBytesThroughJava / tokensGenerated;
    }

    /** One readable line, as printed by the {@code generate} command. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        sb.append(String.format("tokens=%d steps=%d target_forwards=%d draft_forwards=%d", tokensGenerated, steps,
                targetForwards, draftForwards));
        if (draftProposed > 0) {
            sb.append(String.format(" acceptance=%.3f (%d/%d) steps/target_forward=%.2f", acceptanceRate(),
                    draftAccepted, draftProposed, stepsPerTargetForward()));
        }
        sb.append(String.format(" wall=%.1fms ort=%.0f%% kv_bytes/token=%.0f (moved %.0f, through Java %.0f)"
                + " host_io_bytes/token=%.0f padded_positions=%d", wallNanos / 1e6, 100 * ortShare(), kvBytesPerToken(),
                kvBytesMovedPerToken(), kvBytesThroughJavaPerToken(), hostIoBytesPerToken(), paddedPositions));
        if (logitsNanos > 0) {
            sb.append(String.format(" logits=%.1fms (%.1f%% of decode)", logitsNanos / 1e6, 100 * logitsShare()));
        }
        if (verifyForwards > 0) {
            sb.append(String.format(" verify=%.1fms (%.1f%% outside ORT, %.1f nodes each)", verifyNanos / 1e6,
                    100 * verifyOutsideOrtShare(), verifyNodes / (double) verifyForwards));
        }
        return sb.toString();
    }
}
