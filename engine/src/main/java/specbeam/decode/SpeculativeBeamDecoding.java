package specbeam.decode;

import specbeam.model.LanguageModel;
import specbeam.model.LmState;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Exact speculative beam search. Each round:
 * <ol>
 *   <li><b>draft</b>: the draft runs a beam search of its own from the live beams for {@code k} levels
 *       ({@code treeBranching * B} candidates at the first level, {@code B} deeper): a token tree rooted at
 *       each beam's pending token (at most {@code treeBudget} nodes per beam);</li>
 *   <li><b>verify</b>: the target scores every tree node of every beam in one forward, through a tree mask
 *       over the beams' caches;</li>
 *   <li><b>replay</b>: the target's own beam-search step ({@link BeamSearch}) runs on the target's log-probs at
 *       the current beams; while every beam it selects is a tree node, the next step's log-probs are known
 *       too, so it replays again. Every round advances at least one step;</li>
 *   <li><b>update caches</b>: rows are reordered to the surviving beams, the KV entries of their tree paths
 *       are kept (target and draft), the rest is dropped.</li>
 * </ol>
 * The beams equal target-only beam search's, up to floating-point near-ties of the two forward shapes.
 */
public final class SpeculativeBeamDecoding implements DecodingStrategy {
    private final LanguageModel target;
    private final LanguageModel draft;
    private final AdaptiveDepth.Registry adaptiveDepths = new AdaptiveDepth.Registry();

    public SpeculativeBeamDecoding(LanguageModel target, LanguageModel draft) {
        this.target = target;
        this.draft = draft;
    }

    /** A draft token tree of one row: node 0 is the root (the beam's pending token). */
    private static final class Tree {
        final List<Integer> tokens = new ArrayList<>();
        final List<Integer> parents = new ArrayList<>();
        final List<Integer> levels = new ArrayList<>();
        final List<Double> cumulative = new ArrayList<>();
        final List<Integer> draftIndex = new ArrayList<>();   // pending index in the draft's state, -1 if not fed

        int add(int token, int parent, int level, double cum) {
            tokens.add(token);
            parents.add(parent);
            levels.add(level);
            cumulative.add(cum);
            draftIndex.add(-1);
            return tokens.size() - 1;
        }

        int child(int node, int token) {
            for (int c = node + 1; c < tokens.size(); c++) {
                if (parents.get(c) == node && tokens.get(c) == token) {
                    return c;
                }
            }
            return -1;
        }

        int size() {
            return tokens.size();
        }
    }

    @Override
    public GenerationResult generate(List<int[]> prompts, GenerationConfig config, SpeculationTrace trace) {
        long start = System.nanoTime();
        int longest = DecodeSupport.checkPrompts(prompts, target.manifest(), config);
        int width = config.beamWidth();
        int treeNodes = Math.min(config.treeBudget(), config.k() * config.treeBranching() * width);
        int capacity = longest + config.maxNewTokens() + treeNodes + 2;
        DecodeStats stats = new DecodeStats();
        int rows = prompts.size() * width;
        AdaptiveDepth adaptive = config.adaptive() ? adaptiveDepths.forConfig(config, rows) : null;
        try (LmState tgt = target.newState(rows, capacity, DecodeSupport.targetTimer(stats));
             LmState drf = draft.newState(rows, capacity, DecodeSupport.draftTimer(stats))) {
            Run run = new Run(prompts, config, tgt, drf, stats, trace);
            run.prefill();
            stats.prefillNanos = System.nanoTime() - start;
            while (run.anyActive()) {
                int depth = adaptive != null ? adaptive.next() : config.k();
                long ortBefore = stats.targetOrtNanos + stats.draftOrtNanos;
                long stepsBefore = stats.steps;
                Tree[] trees = run.draftTrees(depth);                       // 1. draft
                LmState.Logits verified = run.verify(trees);                // 2. verify
                for (int i = 0; i < prompts.size(); i++) {
                    if (!run.searches[i].isDone()) {
                        run.replay(i, trees, verified, depth);              // 3. replay, 4. update caches
                    }
                }
                if (adaptive != null) {
                    adaptive.observe(stats.targetOrtNanos + stats.draftOrtNanos - ortBefore, stats.steps - stepsBefore);
                }
            }
            return BeamSearchDecoding.results(run.searches, prompts, config, stats, start);
        }
    }

    /** The state of one generation call: both models' states, the beam searches, and each row's tokens. */
    private final class Run {
        final List<int[]> prompts;
        final GenerationConfig config;
        final int width;
        final int rows;
        final LmState tgt;
        final LmState drf;
        final DecodeStats stats;
        final SpeculationTrace trace;
        final BeamSearch[] searches;   // per prompt
        final int[][] committed;       // per row: target-committed tokens (prompt + generated)
        final int[] pendingToken;      // per row: the beam's last token, not yet in any cache
        final boolean[] active;        // per row: its prompt's search is still running
        final float[] logits;          // (vocab) scratch
        final float[] draftLogProbs;   // (draft vocab) scratch
        final float[][][] logProbs;    // (prompts, beams, vocab): processed target log-probs of a step

        Run(List<int[]> prompts, GenerationConfig config, LmState tgt, LmState drf, DecodeStats stats,
            SpeculationTrace trace) {
            this.prompts = prompts;
            this.config = config;
            this.width = config.beamWidth();
            this.rows = prompts.size() * width;
            this.tgt = tgt;
            this.drf = drf;
            this.stats = stats;
            this.trace = trace;
            this.searches = new BeamSearch[prompts.size()];
            this.committed = new int[rows][];
            this.pendingToken = new int[rows];
            this.active = new boolean[rows];
            int vocab = target.manifest().vocabSize();
            this.logits = new float[vocab];
            this.draftLogProbs = new float[draft.manifest().vocabSize()];
            this.logProbs = new float[prompts.size()][width][vocab];
        }

        /** Prefills both models (one row per prompt, then copied to its beams) and takes the first beam step. */
        void prefill() {
            int n = prompts.size();
            int vocab = logits.length;
            int[] eos = DecodeSupport.eosTokens(config, target.manifest());
            int[][] promptArray = prompts.toArray(new int[0][]);
            LmState.Logits out = tgt.forward(0, promptArray, null);
            drf.forward(0, promptArray, null);
            for (int i = 0; i < n; i++) {
                int len = prompts.get(i).length;
                tgt.commit(i, GreedyDecoding.range(len));
                drf.commit(i, GreedyDecoding.range(len));
                searches[i] = new BeamSearch(len, config, eos);
                out.copy(i, len - 1, logits);
                searches[i].processLogits(logits, logProbs[i][0]);
                for (int b = 1; b < width; b++) {
                    System.arraycopy(logProbs[i][0], 0, logProbs[i][b], 0, vocab);
                }
            }
            int[] sources = new int[rows];
            for (int r = 0; r < rows; r++) {
                sources[r] = r / width;
            }
            tgt.selectRows(sources);
            drf.selectRows(sources);
            for (int i = 0; i < n; i++) {
                searches[i].step(logProbs[i]);
                stats.steps++;
                for (int b = 0; b < width; b++) {
                    committed[i * width + b] = prompts.get(i);
                    pendingToken[i * width + b] = searches[i].token(b);
                }
            }
        }

        boolean anyActive() {
            boolean any = false;
            for (int r = 0; r < rows; r++) {
                active[r] = !searches[r / width].isDone();
                any |= active[r];
            }
            return any;
        }

        /**
         * Builds every row's tree by running the draft's own beam search for {@code k} levels, per prompt: at
         * each level the candidates are the children of all frontier nodes of the prompt's beams, scored like
         * the target will score them (the beam's running score plus the draft's cumulative log-prob), and the
         * best non-EOS ones become the next level ({@code treeBranching * B} at level 1, {@code B} deeper; at most
         * {@code treeBudget} per row).
         * With a draft equal to the target this reproduces the target's selections exactly.
         */
        Tree[] draftTrees(int depth) {
            Tree[] trees = new Tree[rows];
            int[][] feed = new int[rows][];
            for (int r = 0; r < rows; r++) {
                trees[r] = new Tree();
                trees[r].add(pendingToken[r], -1, 0, searches[r / width].runningScore(r % width));
                if (!active[r] || depth == 0) {
                    feed[r] = new int[0];
                    continue;
                }
                // catch the draft up with the target's committed tokens, then the root
                int lag = committed[r].length - drf.length(r);
                feed[r] = new int[lag + 1];
                System.arraycopy(committed[r], drf.length(r), feed[r], 0, lag);
                feed[r][lag] = pendingToken[r];
            }
            if (depth == 0) {
                return trees;   // no drafting this round: the target takes one plain beam step
            }
            LmState.Logits out = drf.forward(0, feed, null);
            int[] lastNode = new int[rows];
            for (int r = 0; r < rows; r++) {
                if (active[r]) {
                    drf.commit(r, GreedyDecoding.range(feed[r].length));
                    lastNode[r] = feed[r].length - 1;
                }
            }
            // per level and prompt: keep the best treeBranching * B candidates (coverage for the target's
            // choices), expand only the best B of them (the draft's own beams)
            int keep = config.treeBranching() * width;
            int[][] frontier = new int[rows][];
            for (int r = 0; r < rows; r++) {
                frontier[r] = active[r] ? new int[] {0} : new int[0];
            }
            float[] draftLogits = new float[draftLogProbs.length];
            for (int level = 1; level <= depth; level++) {
                int[][] next = new int[rows][0];
                boolean anyNew = false;
                for (int prompt = 0; prompt * width < rows; prompt++) {
                    int[] eos = searches[prompt].eos();
                    List<double[]> cands = new ArrayList<>();   // {score, row, parentNode, token}
                    for (int r = prompt * width; r < (prompt + 1) * width; r++) {
                        Tree tree = trees[r];
                        for (int f = 0; f < frontier[r].length; f++) {
                            int node = frontier[r][f];
                            out.copy(r, level == 1 ? lastNode[r] : f, draftLogits);
                            TokenScores.logSoftmax(draftLogits, draftLogProbs);
                            TokenScores.forbid(draftLogProbs, eos);
                            for (int t : topTokens(draftLogProbs, keep)) {
                                cands.add(new double[] {tree.cumulative.get(node) + draftLogProbs[t], r, node, t});
                            }
                        }
                    }
                    cands.sort((x, y) -> Double.compare(y[0], x[0]));
                    int taken = 0;
                    for (double[] cand : cands) {
                        int r = (int) cand[1];
                        if (taken == keep || Double.isInfinite(cand[0])) {
                            break;
                        }
                        if (trees[r].size() - 1 >= config.treeBudget()) {
                            continue;
                        }
                        int id = trees[r].add((int) cand[3], (int) cand[2], level, cand[0]);
                        if (taken < width) {
                            next[r] = DecodeSupport.append(next[r], id);
                        }
                        taken++;
                    }
                    anyNew |= taken > 0;
                }
                frontier = next;
                if (!anyNew || level == depth) {
                    break;
                }
                // feed the draft's beams of this level through the draft
                int[][] levelTokens = new int[rows][];
                int[][] levelParents = new int[rows][];
                for (int r = 0; r < rows; r++) {
                    Tree tree = trees[r];
                    levelTokens[r] = new int[frontier[r].length];
                    levelParents[r] = new int[frontier[r].length];
                    for (int c = 0; c < frontier[r].length; c++) {
                        int node = frontier[r][c];
                        levelTokens[r][c] = tree.tokens.get(node);
                        levelParents[r][c] = tree.draftIndex.get(tree.parents.get(node));
                        tree.draftIndex.set(node, drf.pendingCount(r) + c);
                    }
                }
                out = drf.forward(0, levelTokens, levelParents);
            }
            for (int r = 0; r < rows; r++) {
                stats.draftProposed += trees[r].size() - 1;
            }
            return trees;
        }

        static int[] topTokens(float[] scores, int count) {
            int[] best = new int[Math.min(count, scores.length)];
            Arrays.fill(best, -1);
            for (int v = 0; v < scores.length; v++) {
                int at = best.length;
                while (at > 0 && (best[at - 1] < 0 || scores[v] > scores[best[at - 1]])) {
                    at--;
                }
                if (at < best.length) {
                    System.arraycopy(best, at, best, at + 1, best.length - at - 1);
                    best[at] = v;
                }
            }
            return best;
        }

        LmState.Logits verify(Tree[] trees) {
            int[][] tokens = new int[rows][];
            int[][] parents = new int[rows][];
            for (int r = 0; r < rows; r++) {
                if (!active[r]) {
                    tokens[r] = new int[0];
                    parents[r] = new int[0];
                    continue;
                }
                Tree tree = trees[r];
                tokens[r] = tree.tokens.stream().mapToInt(Integer::intValue).toArray();
                parents[r] = tree.parents.stream().mapToInt(Integer::intValue).toArray();
            }
            return tgt.forward(0, tokens, parents);
        }

        /** Replays the target's beam steps from the verified trees of one prompt, then keeps the surviving paths. */
        void replay(int prompt, Tree[] trees, LmState.Logits out, int depth) {
            BeamSearch search = searches[prompt];
            float[][] logProbs = this.logProbs[prompt];
            int base = prompt * width;
            int[] srcRow = new int[width];     // per beam: the row (at round start) whose tree it walks
            int[] node = new int[width];       // per beam: its current tree node
            List<List<Integer>> paths = new ArrayList<>();
            for (int b = 0; b < width; b++) {
                srcRow[b] = base + b;
                node[b] = 0;
                paths.add(new ArrayList<>(List.of(0)));
            }
            int stepsThisRound = 0;
            int[] finalToken = new int[width];
            while (true) {
                for (int b = 0; b < width; b++) {
                    out.copy(srcRow[b], node[b], logits);
                    search.processLogits(logits, logProbs[b]);
                }
                search.step(logProbs);
                stepsThisRound++;
                int[] nextRow = new int[width];
                int[] nextNode = new int[width];
                List<List<Integer>> nextPaths = new ArrayList<>();
                boolean allInTree = !search.isDone();
                for (int j = 0; j < width; j++) {
                    int p = search.parent(j);
                    int t = search.token(j);
                    nextRow[j] = srcRow[p];
                    finalToken[j] = t;
                    nextPaths.add(paths.get(p));
                    int child = trees[srcRow[p]].child(node[p], t);
                    nextNode[j] = child;
                    allInTree &= child >= 0;
                }
                if (!allInTree) {
                    srcRow = nextRow;
                    paths = nextPaths;
                    break;
                }
                for (int j = 0; j < width; j++) {
                    List<Integer> extended = new ArrayList<>(nextPaths.get(j));
                    extended.add(nextNode[j]);
                    nextPaths.set(j, extended);
                }
                srcRow = nextRow;
                node = nextNode;
                paths = nextPaths;
            }
            stats.steps += stepsThisRound;
            stats.recordRound(stepsThisRound);
            if (search.isDone()) {
                return;
            }
            keepSurvivors(base, trees, srcRow, paths, finalToken, depth);
            if (trace != null) {
                Tree tree = trees[srcRow[0]];
                List<Integer> path = paths.get(0);
                int[] proposed = new int[path.size() - 1];
                for (int s = 1; s < path.size(); s++) {
                    proposed[s - 1] = tree.tokens.get(path.get(s));
                }
                int[] emitted = DecodeSupport.append(proposed, finalToken[0]);
                trace.round(prompt, proposed, proposed.length, emitted);
            }
        }

        /**
         * 4. update caches: row {@code base + j} becomes the row beam j's tree belonged to, with the tree path it
         * walked committed on the target and, as far as the draft forwarded it, on the draft.
         */
        private void keepSurvivors(int base, Tree[] trees, int[] srcRow, List<List<Integer>> paths, int[] finalToken,
                                   int depth) {
            int[] sources = new int[tgt.rows()];
            for (int r = 0; r < sources.length; r++) {
                sources[r] = r;
            }
            java.util.Set<Long> used = new java.util.HashSet<>();
            int[][] newCommitted = new int[width][];
            for (int j = 0; j < width; j++) {
                sources[base + j] = srcRow[j];
                Tree tree = trees[srcRow[j]];
                List<Integer> path = paths.get(j);
                int[] toks = new int[path.size()];
                for (int s = 0; s < path.size(); s++) {
                    toks[s] = tree.tokens.get(path.get(s));
                    if (s > 0) {
                        used.add(((long) srcRow[j] << 32) | path.get(s));
                    }
                }
                newCommitted[j] = DecodeSupport.concat(committed[srcRow[j]], toks, toks.length);
            }
            stats.draftAccepted += used.size();
            tgt.selectRows(sources);
            drf.selectRows(sources);
            for (int j = 0; j < width; j++) {
                List<Integer> path = paths.get(j);
                Tree tree = trees[srcRow[j]];
                int[] targetPath = path.stream().mapToInt(Integer::intValue).toArray();
                tgt.commit(base + j, targetPath);
                int draftNodes = 0;   // leading path nodes the draft was fed (its own beams)
                while (draftNodes + 1 < path.size() && tree.draftIndex.get(path.get(draftNodes + 1)) >= 0) {
                    draftNodes++;
                }
                int[] draftPath = new int[draftNodes];
                for (int s = 0; s < draftNodes; s++) {
                    draftPath[s] = tree.draftIndex.get(path.get(s + 1));
                }
                drf.commit(base + j, draftPath);
                committed[base + j] = newCommitted[j];
                pendingToken[base + j] = finalToken[j];
            }
        }
    }
}
