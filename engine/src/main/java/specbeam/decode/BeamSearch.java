package specbeam.decode;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Beam-search bookkeeping of one prompt, a step-for-step port of Hugging Face's vectorised
 * {@code _beam_search} (transformers 5): top {@code K = max(2, 1 + |eos|) * B} candidates, running beams
 * chosen among candidates that hit no stopping criterion, finished hypotheses kept in {@code B} slots with
 * {@code score / generated_len^length_penalty}, and the three early-stopping modes. Scores are float32 like
 * PyTorch's. A step needs only the log-probabilities at the current running beams, which is what lets the
 * speculative strategy replay several steps from one tree-verification forward.
 */
final class BeamSearch {
    private static final float NEG = -1.0e9f;

    private final int beams;
    private final int keep;
    private final int promptLength;
    private final int maxLength;
    private final int minNewTokens;
    private final int[] eos;
    private final double lengthPenalty;
    private final EarlyStopping earlyStopping;

    private int[][] running;          // (B, generated): tokens of each running beam
    private float[] runningScore;     // (B): sum of log-probs
    private int curLength;            // prompt + generated tokens of the running beams

    private final int[][] finishedTokens; // (B slots, generated)
    private final float[] finishedScore;  // (B slots)
    private final boolean[] finishedDone; // (B slots)
    private boolean improvable = true;    // HF's is_early_stop_heuristic_unsatisfied
    private boolean done;

    private final int[] parent;       // (B): for the last step, the running beam each new beam extends
    private final int[] token;        // (B): ... and the token it appended
    private final List<Double> gaps = new ArrayList<>();

    BeamSearch(int promptLength, GenerationConfig config, int[] eos) {
        this.beams = config.beamWidth();
        this.keep = Math.max(2, 1 + eos.length) * beams;
        this.promptLength = promptLength;
        this.maxLength = promptLength + config.maxNewTokens();
        this.minNewTokens = config.minNewTokens();
        this.eos = eos;
        this.lengthPenalty = config.lengthPenalty();
        this.earlyStopping = config.earlyStopping();
        this.running = new int[beams][0];
        this.runningScore = new float[beams];
        Arrays.fill(runningScore, 1, beams, NEG);
        this.curLength = promptLength;
        this.finishedTokens = new int[beams][0];
        this.finishedScore = new float[beams];
        Arrays.fill(finishedScore, NEG);
        this.finishedDone = new boolean[beams];
        this.parent = new int[beams];
        this.token = new int[beams];
    }

    boolean isDone() {
        return done;
    }

    int beams() {
        return beams;
    }

    int generatedLength() {
        return curLength - promptLength;
    }

    /** Turns raw logits of running beam {@code b} into the processed log-probs a step consumes. */
    void processLogits(float[] logits, float[] out) {
        TokenScores.logSoftmax(logits, out);
        if (curLength - promptLength < minNewTokens) {
            TokenScores.forbid(out, eos);
        }
    }

    /**
     * One beam-search step.
     *
     * @param logProbs per running beam, processed log-probabilities ({@link #processLogits})
     */
    void step(float[][] logProbs) {
        if (done) {
            throw new IllegalStateException("beam search already finished");
        }
        int vocab = logProbs[0].length;
        // 1. top K+1 accumulated candidates over all beams (one extra for the near-tie gap)
        int slots = keep + 1;
        float[] candScore = new float[slots];
        int[] candIndex = new int[slots];
        Arrays.fill(candScore, Float.NEGATIVE_INFINITY);
        Arrays.fill(candIndex, Integer.MAX_VALUE);
        int filled = 0;
        for (int b = 0; b < beams; b++) {
            float base = runningScore[b];
            float[] lp = logProbs[b];
            for (int v = 0; v < vocab; v++) {
                float s = lp[v] + base;
                if (filled == slots && !(s > candScore[slots - 1])) {
                    continue;
                }
                int at = filled < slots ? filled++ : slots - 1;
                while (at > 0 && s > candScore[at - 1]) {
                    candScore[at] = candScore[at - 1];
                    candIndex[at] = candIndex[at - 1];
                    at--;
                }
                candScore[at] = s;
                candIndex[at] = b * vocab + v;
            }
        }
        double gap = Double.POSITIVE_INFINITY;
        for (int i = 0; i + 1 < slots; i++) {
            gap = Math.min(gap, (double) candScore[i] - candScore[i + 1]);
        }
        gaps.add(gap);
        boolean[] hits = new boolean[keep];
        boolean allHit = true;
        for (int i = 0; i < keep; i++) {
            int t = candIndex[i] % vocab;
            hits[i] = curLength + 1 >= maxLength || TokenScores.contains(eos, t);
            allHit &= hits[i];
        }
        // 2. finished hypotheses (uses the slots' state from before this step)
        updateFinished(candScore, candIndex, hits, vocab);
        // 3. next running beams: best B candidates that hit no stopping criterion
        float[] masked = new float[keep];
        for (int i = 0; i < keep; i++) {
            masked[i] = candScore[i] + (hits[i] ? NEG : 0f);
        }
        int[] order = topIndices(masked, beams);
        int[][] nextRunning = new int[beams][];
        float[] nextScore = new float[beams];
        for (int j = 0; j < beams; j++) {
            int c = order[j];
            parent[j] = candIndex[c] / vocab;
            token[j] = candIndex[c] % vocab;
            nextRunning[j] = DecodeSupport.append(running[parent[j]], token[j]);
            nextScore[j] = masked[c];
        }
        running = nextRunning;
        runningScore = nextScore;
        curLength++;
        // 4. stopping
        int bestLength = earlyStopping == EarlyStopping.NEVER && lengthPenalty > 0
                ? maxLength - promptLength : curLength - promptLength;
        float bestPossible = runningScore[0] / (float) Math.pow(bestLength, lengthPenalty);
        float minFinished = Float.POSITIVE_INFINITY;
        for (float s : finishedScore) {
            minFinished = Math.min(minFinished, s);
        }
        boolean anyBetter = false;
        for (int s = 0; s < beams; s++) {
            anyBetter |= bestPossible > (finishedDone[s] ? minFinished : NEG);
        }
        improvable &= anyBetter;
        boolean allFinished = allFinished();
        boolean openBeam = !(allFinished && earlyStopping == EarlyStopping.TRUE);
        done = !(improvable && openBeam && !allHit);
    }

    private void updateFinished(float[] candScore, int[] candIndex, boolean[] hits, int vocab) {
        float denom = (float) Math.pow(curLength + 1 - promptLength, lengthPenalty);
        boolean full = allFinished() && earlyStopping == EarlyStopping.TRUE;
        float[] merged = new float[beams + keep];
        System.arraycopy(finishedScore, 0, merged, 0, beams);
        for (int i = 0; i < keep; i++) {
            float v = candScore[i] / denom;
            if (full) {
                v += NEG;
            }
            if (!improvable) {
                v += NEG;
            }
            if (!(hits[i] && i < beams)) {
                v += NEG;
            }
            merged[beams + i] = v;
        }
        int[] order = topIndices(merged, beams);
        int[][] tokens = new int[beams][];
        float[] scores = new float[beams];
        boolean[] isDone = new boolean[beams];
        for (int j = 0; j < beams; j++) {
            int m = order[j];
            if (m < beams) {
                tokens[j] = finishedTokens[m];
                isDone[j] = finishedDone[m];
            } else {
                int c = m - beams;
                tokens[j] = DecodeSupport.append(running[candIndex[c] / vocab], candIndex[c] % vocab);
                isDone[j] = hits[c] && c < beams;
            }
            scores[j] = merged[m];
        }
        for (int j = 0; j < beams; j++) {
            finishedTokens[j] = tokens[j];
            finishedScore[j] = scores[j];
            finishedDone[j] = isDone[j];
        }
    }

    private boolean allFinished() {
        for (boolean d : finishedDone) {
            if (!d) {
                return false;
            }
        }
        return true;
    }

    /** Indices of the {@code k} largest values, largest first; earlier index first on ties. */
    private static int[] topIndices(float[] values, int k) {
        Integer[] idx = new Integer[values.length];
        for (int i = 0; i < idx.length; i++) {
            idx[i] = i;
        }
        Arrays.sort(idx, (a, b) -> Float.compare(values[b], values[a]));
        int[] out = new int[k];
        for (int i = 0; i < k; i++) {
            out[i] = idx[i];
        }
        return out;
    }

    /** Sum of log-probs of running beam {@code b} (-1e9 for a placeholder beam). */
    float runningScore(int b) {
        return runningScore[b];
    }

    int[] eos() {
        return eos;
    }

    /** After a step: the running beam that new beam {@code j} extends. */
    int parent(int j) {
        return parent[j];
    }

    /** After a step: the token new beam {@code j} appended. */
    int token(int j) {
        return token[j];
    }

    double[] gaps() {
        return gaps.stream().mapToDouble(Double::doubleValue).toArray();
    }

    /** The best {@code count} finished hypotheses, best first. */
    List<GeneratedSequence> results(int[] prompt, int count) {
        List<GeneratedSequence> out = new ArrayList<>(count);
        for (int s = 0; s < count; s++) {
            int[] gen = finishedTokens[s];
            FinishReason reason = gen.length > 0 && TokenScores.contains(eos, gen[gen.length - 1])
                    ? FinishReason.EOS : FinishReason.LENGTH;
            out.add(new GeneratedSequence(DecodeSupport.concat(prompt, gen, gen.length), prompt.length,
                    finishedScore[s], reason));
        }
        return out;
    }
}
