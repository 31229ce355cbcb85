package specbeam.decode;

import specbeam.model.LanguageModel;
import specbeam.model.LmState;

import java.util.List;

/**
 * Speculative decoding with a draft chain: greedy (output identical to target-only greedy) or sampling
 * (Leviathan et al. 2023; Chen et al. 2023: accept a draft token with probability {@code min(1, p/q)}, else
 * resample from {@code norm(max(0, p - q))}; the output distribution equals the target's). Each round:
 * <ol>
 *   <li><b>draft</b>: the draft catches up with the committed tokens and proposes up to {@code k} tokens;</li>
 *   <li><b>verify</b>: one target forward over the pending token and the proposals;</li>
 *   <li><b>accept</b>: keep the longest accepted prefix, then the target's correction or bonus token;</li>
 *   <li><b>update caches</b>: commit the accepted tokens on both models; the rest is forgotten.</li>
 * </ol>
 */
public final class SpeculativeDecoding implements DecodingStrategy {
    private final LanguageModel target;
    private final LanguageModel draft;
    private final AdaptiveDepth.Registry adaptiveDepths = new AdaptiveDepth.Registry();

    public SpeculativeDecoding(LanguageModel target, LanguageModel draft) {
        this.target = target;
        this.draft = draft;
    }

    @Override
    public GenerationResult generate(List<int[]> prompts, GenerationConfig config, SpeculationTrace trace) {
        long start = System.nanoTime();
        boolean sampling = config.mode().isSampling();
        int longest = DecodeSupport.checkPrompts(prompts, target.manifest(), config);
        List<int[]> rowPrompts = sampling ? SamplingDecoding.expand(prompts, config.numReturnSequences()) : prompts;
        int n = rowPrompts.size();
        int[] eos = DecodeSupport.eosTokens(config, target.manifest());
        int vocab = target.manifest().vocabSize();
        int k = config.k();
        DecodeStats stats = new DecodeStats();
        Sampler sampler = new Sampler(config, vocab);
        AdaptiveDepth adaptive = config.adaptive() ? adaptiveDepths.forConfig(config, n) : null;
        float[] logits = new float[vocab];
        double[] p = new double[vocab];
        double[][][] q = new double[n][k][];       // per row, per draft position: draft distribution (sampling)
        int[][] drafted = new int[n][k];           // per row: proposed tokens
        int[] draftedCount = new int[n];
        int[][] committed = new int[n][];          // per row: target-committed tokens
        int[] pendingToken = new int[n];
        GreedyDecoding.RowOutput[] rows = new GreedyDecoding.RowOutput[n];
        int capacity = longest + config.maxNewTokens() + k + 2;
        try (LmState tgt = target.newState(n, capacity, DecodeSupport.targetTimer(stats));
             LmState drf = draft.newState(n, capacity, DecodeSupport.draftTimer(stats))) {
            // 0. prefill: the prompt minus its last token goes into both caches; the last token is pending
            int[][] heads = new int[n][];
            for (int i = 0; i < n; i++) {
                int[] prompt = rowPrompts.get(i);
                rows[i] = new GreedyDecoding.RowOutput(prompt, config.maxNewTokens());
                heads[i] = java.util.Arrays.copyOf(prompt, prompt.length - 1);
                committed[i] = heads[i];
                pendingToken[i] = prompt[prompt.length - 1];
            }
            if (longest > 1) {
                tgt.forwardPrompt(0, heads);
                drf.forwardPrompt(0, heads);
                for (int i = 0; i < n; i++) {
                    tgt.commit(i, GreedyDecoding.range(heads[i].length));
                    drf.commit(i, GreedyDecoding.range(heads[i].length));
                }
            }
            stats.prefillNanos = System.nanoTime() - start;
            while (true) {
                int kk = adaptive != null ? adaptive.next() : k;
                long roundStart = System.nanoTime();
                long tokensBefore = tokensSoFar(rows);
                // 1. draft
                int[][] feed = new int[n][];
                boolean any = false;
                for (int i = 0; i < n; i++) {
                    GreedyDecoding.RowOutput row = rows[i];
                    int remaining = config.maxNewTokens() - row.length;
                    draftedCount[i] = row.finished ? 0 : Math.min(kk, remaining - 1);
                    if (row.finished) {
                        feed[i] = new int[0];
                        continue;
                    }
                    any = true;
                    int lag = committed[i].length - drf.length(i);
                    feed[i] = new int[lag + 1];
                    System.arraycopy(committed[i], drf.length(i), feed[i], 0, lag);
                    feed[i][lag] = pendingToken[i];
                }
                if (!any) {
                    break;
                }
                int maxDraft = 0;
                for (int c : draftedCount) {
                    maxDraft = Math.max(maxDraft, c);
                }
                if (maxDraft > 0) {
                    LmState.Logits dOut = drf.forward(0, feed, null);
                    int[] node = new int[n];
                    for (int i = 0; i < n; i++) {
                        if (feed[i].length > 0) {
                            drf.commit(i, GreedyDecoding.range(feed[i].length));
                            node[i] = feed[i].length - 1;
                        }
                    }
                    for (int d = 0; d < maxDraft; d++) {
                        int[][] next = new int[n][];
                        boolean more = false;
                        for (int i = 0; i < n; i++) {
                            next[i] = new int[0];
                            if (d >= draftedCount[i]) {
                                continue;
                            }
                            dOut.copy(i, node[i], logits);
                            if (rows[i].length + d < config.minNewTokens()) {
                                TokenScores.forbid(logits, eos);
                            }
                            int token;
                            if (sampling) {
                                q[i][d] = q[i][d] == null ? new double[vocab] : q[i][d];
                                sampler.warp(logits, q[i][d]);
                                token = sampler.draw(q[i][d]);
                            } else {
                                token = TokenScores.argmax(logits);
                            }
                            drafted[i][d] = token;
                            if (TokenScores.contains(eos, token)) {
                                draftedCount[i] = d + 1;   // nothing follows an end-of-sequence
                            }
                            if (d + 1 < draftedCount[i]) {
                                next[i] = new int[] {token};
                                more = true;
                            }
                            node[i] = 0;
                        }
                        if (!more) {
                            break;
                        }
                        dOut = drf.forward(0, next, null);
                    }
                }
                // 2. verify: pending token + proposals, one target forward
                int[][] chain = new int[n][];
                for (int i = 0; i < n; i++) {
                    if (rows[i].finished) {
                        chain[i] = new int[0];
                        continue;
                    }
                    chain[i] = new int[draftedCount[i] + 1];
                    chain[i][0] = pendingToken[i];
                    System.arraycopy(drafted[i], 0, chain[i], 1, draftedCount[i]);
                }
                long verifyStart = System.nanoTime();
                long targetOrtBefore = stats.targetOrtNanos;
                long tokensFedBefore = stats.targetTokensFed;
                LmState.Logits out = tgt.forward(0, chain, null);
                stats.verifyNanos += System.nanoTime() - verifyStart;
                stats.verifyOrtNanos += stats.targetOrtNanos - targetOrtBefore;
                stats.verifyForwards++;
                stats.verifyNodes += stats.targetTokensFed - tokensFedBefore;
                // 3. accept, 4. update caches
                for (int i = 0; i < n; i++) {
                    GreedyDecoding.RowOutput row = rows[i];
                    if (row.finished) {
                        continue;
                    }
                    int accepted = 0;
                    int emitted = 0;
                    int startLength = row.length;
                    long scanStart = System.nanoTime();
                    if (!sampling) {
                        accepted = acceptGreedy(out, i, row, drafted[i], draftedCount[i], eos, config.minNewTokens());
                        emitted = row.length - startLength;
                    }
                    for (int pos = 0; sampling && pos <= draftedCount[i] && !row.finished; pos++) {
                        out.copy(i, pos, logits);
                        if (row.length < config.minNewTokens()) {
                            TokenScores.forbid(logits, eos);
                        }
                        TokenScores.LogNorm norm = TokenScores.logNorm(logits);
                        sampler.warp(logits, p);
                        int token;
                        boolean accept;
                        if (pos < draftedCount[i]) {
                            int d = drafted[i][pos];
                            accept = sampler.uniform() < Math.min(1.0, p[d] / q[i][pos][d]);
                            token = accept ? d : sampler.draw(residual(p, q[i][pos]));
                        } else {
                            accept = false;
                            token = sampler.draw(p);
                        }
                        row.add(token, norm.logProb(logits[token]), eos);
                        emitted++;
                        if (!accept) {
                            break;
                        }
                        accepted++;
                    }
                    long scanNanos = System.nanoTime() - scanStart;
                    stats.logitsNanos += scanNanos;
                    stats.verifyNanos += scanNanos;
                    stats.draftProposed += draftedCount[i];
                    stats.draftAccepted += accepted;
                    if (draftedCount[i] > 0) {
                        if (accepted == draftedCount[i]) {
                            stats.roundsFullAccept++;
                        } else if (accepted == 0) {
                            stats.roundsZeroAccept++;
                        } else {
                            stats.roundsPartialAccept++;
                        }
                    }
                    stats.recordRound(emitted);
                    if (trace != null) {
                        trace.round(i, java.util.Arrays.copyOf(drafted[i], draftedCount[i]), accepted,
                                java.util.Arrays.copyOfRange(row.generated, startLength, row.length));
                    }
                    // target keeps the pending token and the accepted proposals; the last emitted token is pending
                    tgt.commit(i, GreedyDecoding.range(accepted + 1));
                    int draftKept = Math.min(accepted, Math.max(0, draftedCount[i] - 1));
                    drf.commit(i, GreedyDecoding.range(draftKept));
                    committed[i] = DecodeSupport.concat(committed[i], chain[i], accepted + 1);
                    pendingToken[i] = row.generated[row.length - 1];
                }
                if (adaptive != null) {
                    adaptive.observe(System.nanoTime() - roundStart, tokensSoFar(rows) - tokensBefore);
                }
            }
        }
        GenerationResult perRow = GreedyDecoding.RowOutput.result(rows, rowPrompts, stats, start);
        return sampling ? SamplingDecoding.group(perRow, prompts.size(), config.numReturnSequences()) : perRow;
    }

    /** Per thread: one logit vector per position scanned at once ({@link RowScans#width}; reused). */
    private static final ThreadLocal<float[][]> CHAIN_LOGITS = ThreadLocal.withInitial(() -> new float[0][]);

    /**
     * Step 3 for greedy verification of row {@code i}'s chain (the pending token and {@code count} proposals):
     * emits the target's argmax at each position while it equals the proposal, then the first that does not
     * (or stops at an end-of-sequence or the length limit, as {@link GreedyDecoding.RowOutput#add} does). At a
     * large vocabulary the positions are scanned a few at a time on several cores ({@link RowScans#width}: each
     * position copied, argmax and log-sum-exp taken while it is in cache), at most one block past the first
     * rejection; the scores are the floats a one-by-one scan gives. Returns the proposals accepted.
     */
    private static int acceptGreedy(LmState.Logits out, int i, GreedyDecoding.RowOutput row, int[] proposals,
                                    int count, int[] eos, int minNewTokens) {
        int vocab = out.vocab();
        float[][] chain = CHAIN_LOGITS.get();   // [position][vocab]
        int block = Math.min(RowScans.width(vocab), count + 1);
        if (chain.length < block || chain[0].length != vocab) {
            chain = new float[block][vocab];
            CHAIN_LOGITS.set(chain);
        }
        float[][] rows = chain;
        TokenScores.Top2[] top = new TokenScores.Top2[block];
        TokenScores.LogNorm[] norms = new TokenScores.LogNorm[block];
        int length = row.length;
        int accepted = 0;
        for (int first = 0; first <= count; first += block) {
            int from = first;
            RowScans.forEach(Math.min(block, count + 1 - first), vocab, j -> {
                out.copy(i, from + j, rows[j]);
                if (length + from + j < minNewTokens) {
                    TokenScores.forbid(rows[j], eos);
                }
                top[j] = TokenScores.top2(rows[j]);
                norms[j] = TokenScores.logNorm(rows[j], top[j]);
            });
            for (int j = 0; j < block && first + j <= count; j++) {
                int pos = first + j;
                int token = top[j].index();
                row.gaps.add(top[j].gap());
                row.add(token, norms[j].logProb(rows[j][token]), eos);
                if (row.finished || pos == count || token != proposals[pos]) {
                    return accepted + (pos < count && token == proposals[pos] ? 1 : 0);
                }
                accepted++;
            }
        }
        return accepted;
    }

    private static long tokensSoFar(GreedyDecoding.RowOutput[] rows) {
        long total = 0;
        for (GreedyDecoding.RowOutput row : rows) {
            total += row.length;
        }
        return total;
    }

    /** {@code norm(max(0, p - q))}, written into {@code p}. */
    private static double[] residual(double[] p, double[] q) {
        double sum = 0;
        for (int v = 0; v < p.length; v++) {
            p[v] = Math.max(0, p[v] - q[v]);
            sum += p[v];
        }
        for (int v = 0; v < p.length; v++) {
            p[v] /= sum;
        }
        return p;
    }
}
