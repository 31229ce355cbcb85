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

    /**
     * One beam-search step.
     *
     * @param logits per running beam, the target's raw logits at its last token; the step scores them as
     *               {@code log_softmax}, with end-of-sequence forbidden before {@code min_new_tokens}
     */
    void step(float[][] logits) {
        if (done) {
            throw new IllegalStateException("beam search already finished");
        }
        int vocab = logits[0].length;
        // 1. top K+1 accumulated candidates over all beams (one extra for the near-tie gap), best first and the
        //    lower index first on equal scores, as a stable top-k over (beam, token)
        int slots = keep + 1;
        float[] candScore = new float[slots];
        int[] candIndex = new int[slots];
        topCandidates(logits, runningScore, curLength - promptLength < minNewTokens ? eos : new int[0], slots,
                candScore, candIndex);
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

    /**
     * Step 1 of a beam step: the best {@code slots} of {@code log_softmax(logits[b])[v] + runningScore[b]} over
     * all beams and tokens, tokens in {@code banned} excluded (-inf), best first and the lower
     * {@code b * vocab + v} first on equal scores — what a stable top-k over the full score matrix returns, with
     * {@code -inf} / {@code Integer.MAX_VALUE} padding where there are fewer candidates. A beam whose best score
     * cannot enter (the placeholder beams of the first step) is skipped; of the others, only the tokens whose
     * logit can reach the beam's own {@code slots} best are scored ({@link #collect}).
     */
    static void topCandidates(float[][] logits, float[] runningScore, int[] banned, int slots, float[] candScore,
                              int[] candIndex) {
        Top top = new Top(candScore, candIndex);
        TokenScores.LogNorm[] norms = new TokenScores.LogNorm[logits.length];   // independent: on several cores
        RowScans.forEach(logits.length, logits[0].length, b -> norms[b] = TokenScores.logNorm(logits[b]));
        for (int b = 0; b < logits.length; b++) {
            TokenScores.LogNorm norm = norms[b];
            float bound = norm.logProb(norm.max()) + runningScore[b];   // the beam's best score: scores rise with logits
            if (top.full() && !(bound > candScore[slots - 1])) {
                continue;   // its tokens come after every kept one in index order, so not even a tie enters
            }
            collect(logits[b], b, norm, runningScore[b], banned, top);
        }
    }

    /**
     * Offers {@code top} every token of beam {@code b} that can be among the beam's best {@code top.slots()}
     * scores ({@code log_softmax + running score}, computed exactly as a full pass would): the score is monotone
     * in the logit, so these are the tokens whose logit reaches the {@code slots}-th largest one, less a few ulps
     * that rounding can equalise.
     */
    private static void collect(float[] logits, int b, TokenScores.LogNorm norm, float base, int[] banned, Top top) {
        int slots = top.slots();
        float[] largest = new float[slots];   // the slots largest allowed logits, largest first
        Arrays.fill(largest, Float.NEGATIVE_INFINITY);
        for (int v = 0; v < logits.length; v++) {
            float x = logits[v];
            if (x > largest[slots - 1] && !TokenScores.contains(banned, v)) {
                int at = slots - 1;
                while (at > 0 && x > largest[at - 1]) {
                    largest[at] = largest[at - 1];
                    at--;
                }
                largest[at] = x;
            }
        }
        int allowed = 0;
        for (int v = 0; v < logits.length && allowed < slots; v++) {
            allowed += TokenScores.contains(banned, v) ? 0 : 1;
        }
        if (allowed < slots || largest[slots - 1] == Float.NEGATIVE_INFINITY) {   // a tiny vocabulary: every token
            for (int v = 0; v < logits.length; v++) {
                boolean forbidden = TokenScores.contains(banned, v);
                top.offer(forbidden ? Float.NEGATIVE_INFINITY : norm.logProb(logits[v]) + base, b * logits.length + v);
            }
            return;
        }
        float threshold = largest[slots - 1];
        float magnitude = Math.abs(threshold - norm.max()) + Math.abs(norm.logSum()) + Math.abs(base) + 1f;
        float lowest = threshold - 16 * Math.ulp(magnitude);
        for (int v = 0; v < logits.length; v++) {
            if (logits[v] >= lowest && !TokenScores.contains(banned, v)) {
                top.offer(norm.logProb(logits[v]) + base, b * logits.length + v);
            }
        }
    }

    /** The best candidates offered so far, in two arrays: higher score first, lower index first on equal scores. */
    private static final class Top {
        private final float[] score;
        private final int[] index;   // beam * vocab + token
        private int filled;

        Top(float[] score, int[] index) {
            this.score = score;
            this.index = index;
            Arrays.fill(score, Float.NEGATIVE_INFINITY);
            Arrays.fill(index, Integer.MAX_VALUE);
        }

        int slots() {
            return score.length;
        }

        boolean full() {
            return filled == score.length;
        }

        void offer(float s, int i) {
            int slots = score.length;
            if (filled == slots && !before(s, i, score[slots - 1], index[slots - 1])) {
                return;
            }
            int at = filled < slots ? filled++ : slots - 1;
            while (at > 0 && before(s, i, score[at - 1], index[at - 1])) {
                score[at] = score[at - 1];
                index[at] = index[at - 1];
                at--;
            }
            score[at] = s;
            index[at] = i;
        }

        private static boolean before(float s, int i, float otherScore, int otherIndex) {
            return s > otherScore || s == otherScore && i < otherIndex;
        }
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
