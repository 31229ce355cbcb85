package specbeam.decode;

import specbeam.model.LanguageModel;
import specbeam.model.LmState;
import specbeam.model.OnnxCausalLm;
import specbeam.model.TreeState;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Exact speculative beam search. Each round:
 * <ol>
 *   <li><b>draft</b>: the draft runs a beam search of its own from the live beams for {@code k} levels
 *       ({@code treeBranching * B} candidates per level, the best {@code B} expanded): a token tree rooted at
 *       each beam's pending token (at most {@code treeBudget} nodes per beam);</li>
 *   <li><b>verify</b>: the target scores every tree node of every beam in one forward: each prompt is one
 *       cache row holding its beams as branches of a token tree ({@link TreeState}), so the forward computes
 *       exactly the new nodes, each seeing its ancestors;</li>
 *   <li><b>replay</b>: the target's own beam-search step ({@link BeamSearch}) runs on the target's log-probs at
 *       the current beams; while every beam it selects is a tree node, the next step's log-probs are known
 *       too, so it replays again. Every round advances at least one step;</li>
 *   <li><b>update caches</b>: the surviving beams become the tree nodes they reached (target and draft); every
 *       other node is dropped. No KV entry is copied; dropped slots are reused by compaction.</li>
 * </ol>
 * The beams equal target-only beam search's, up to floating-point near-ties of the two forward shapes.
 */
public final class SpeculativeBeamDecoding implements DecodingStrategy {
    private final LanguageModel target;
    private final LanguageModel draft;
    private final TreePolicy.Registry policies = new TreePolicy.Registry();
    private final ForwardCosts targetCosts = new ForwardCosts(COST_CURVE_SIZE);   // learnt from every forward
    private final ForwardCosts draftCosts = new ForwardCosts(COST_CURVE_SIZE);
    private static final int COST_CURVE_SIZE = 1024;

    public SpeculativeBeamDecoding(LanguageModel target, LanguageModel draft) {
        this.target = target;
        this.draft = draft;
    }

    /** A draft token tree of one beam: node 0 is the root (the beam's pending token). */
    private static final class Tree {
        final List<Integer> tokens = new ArrayList<>();
        final List<Integer> parents = new ArrayList<>();
        final List<Integer> levels = new ArrayList<>();
        final List<Double> cumulative = new ArrayList<>();
        final List<Integer> draftId = new ArrayList<>();     // node id in the draft's tree state, -1 if not fed
        final List<Integer> draftNode = new ArrayList<>();   // its node index in the draft forward that fed it
        final List<Integer> ranks = new ArrayList<>();       // its order among the prompt's candidates of its level
        int offset;                                          // index of node 0 in the verification forward's row

        int add(int token, int parent, int level, double cum) {
            tokens.add(token);
            parents.add(parent);
            levels.add(level);
            cumulative.add(cum);
            draftId.add(-1);
            draftNode.add(-1);
            ranks.add(0);
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
        // nodes one forward can add to a prompt's row: a verification tree (roots plus k levels), or the draft's
        // catch-up chains (each beam's unfed tokens, at most k + 2)
        int perForward = width * (Math.max(1 + config.k() * config.treeBranching(), config.k() + 2));
        DecodeStats stats = new DecodeStats();
        int n = prompts.size();
        TreePolicy policy = config.adaptive() ? policies.forConfig(config, n) : null;
        if (policy != null && (targetCosts.isEmpty() || draftCosts.isEmpty())) {
            calibrate(longest);
        }
        // Every forward attends over the whole row, so the rows start as tight as plain beam search's plus one
        // round's nodes (a hardware-aware round is mostly small) and grow when a tree needs more.
        int slots = BeamSearchDecoding.initialTreeSlots(longest, config, width)
                + (policy != null ? 0 : perForward);
        int maxSlots = BeamSearchDecoding.maxTreeSlots(longest, config, perForward);
        try (TreeState tgt = target.newTreeState(n, slots, maxSlots, learning(DecodeSupport.targetTimer(stats), targetCosts));
             TreeState drf = draft.newTreeState(n, slots, maxSlots, learning(DecodeSupport.draftTimer(stats), draftCosts))) {
            Run run = new Run(prompts, config, tgt, drf, stats, trace, policy);
            run.prefill();
            stats.prefillNanos = System.nanoTime() - start;
            while (run.anyActive()) {
                TreePolicy.Shape shape = policy != null ? policy.next(targetCosts, draftCosts, run.draftLag())
                        : new TreePolicy.Shape(config.k(), config.treeBranching() * width);
                long roundStart = System.nanoTime();
                long ortBefore = stats.targetOrtNanos + stats.draftOrtNanos;
                long stepsBefore = stats.steps;
                int activePrompts = run.activePrompts();
                Tree[] trees = run.draftTrees(shape);                       // 1. draft
                long verifyStart = System.nanoTime();
                long targetOrtBefore = stats.targetOrtNanos;
                long tokensFedBefore = stats.targetTokensFed;
                LmState.Logits verified = run.verify(trees);                // 2. verify
                stats.verifyNanos += System.nanoTime() - verifyStart;
                stats.verifyOrtNanos += stats.targetOrtNanos - targetOrtBefore;
                stats.verifyForwards++;
                stats.verifyNodes += stats.targetTokensFed - tokensFedBefore;
                long logitsBefore = stats.logitsNanos;
                for (int i = 0; i < n; i++) {
                    if (!run.searches[i].isDone()) {
                        run.replay(i, trees, verified, shape);              // 3. replay, 4. update caches
                    }
                }
                stats.verifyNanos += stats.logitsNanos - logitsBefore;      // the replay's reading of the logits
                if (policy != null) {
                    long wall = System.nanoTime() - roundStart;
                    long ort = stats.targetOrtNanos + stats.draftOrtNanos - ortBefore;
                    policy.observeRound(shape, new TreePolicy.RoundCost(wall, wall - ort, run.catchUpNodes,
                            run.catchUpNanos, (stats.steps - stepsBefore) / (double) activePrompts));
                }
            }
            return BeamSearchDecoding.results(run.searches, prompts, config, stats, start);
        }
    }

    /** A timer that also teaches a forward-cost curve. */
    private static OnnxCausalLm.OrtTimer learning(OnnxCausalLm.OrtTimer stats, ForwardCosts costs) {
        return new OnnxCausalLm.OrtTimer() {
            @Override
            public void ortNanos(long nanos, int tokensFed) {
                stats.ortNanos(nanos, tokensFed);
            }

            @Override
            public void kvBytes(long bytes) {
                stats.kvBytes(bytes);
            }

            @Override
            public void kvBytesMoved(long bytes) {
                stats.kvBytesMoved(bytes);
            }

            @Override
            public void kvBytesThroughJava(long bytes) {
                stats.kvBytesThroughJava(bytes);
            }

            @Override
            public void hostIo(long toProvider, long fromProvider) {
                stats.hostIo(toProvider, fromProvider);
            }

            @Override
            public void forward(long nanos, int fed, long padded) {
                stats.forward(nanos, fed, padded);
                costs.observe(fed + padded, nanos);
            }
        };
    }

    /**
     * A short calibration of both forward-cost curves before the first hardware-aware round: forwards of
     * 1 .. 32 nodes below a prompt-sized chain, on throw-away states. Every later forward refines the curves.
     */
    private void calibrate(int promptLength) {
        OnnxCausalLm.OrtTimer none = new OnnxCausalLm.OrtTimer() {
            @Override
            public void ortNanos(long nanos, int tokensFed) {
            }

            @Override
            public void kvBytes(long bytes) {
            }
        };
        int[] sizes = {1, 2, 4, 8, 12, 16, 24, 32};
        for (int pass = 0; pass < 2; pass++) {   // the first pass warms ONNX Runtime up and is forgotten
            for (LanguageModel model : new LanguageModel[] {target, draft}) {
                ForwardCosts costs = model == target ? targetCosts : draftCosts;
                ForwardCosts warmUp = new ForwardCosts(COST_CURVE_SIZE);
                try (TreeState state = model.newTreeState(1, promptLength + 40, promptLength + 40,
                        learning(none, pass == 0 ? warmUp : costs))) {
                    int[] chain = new int[Math.max(1, promptLength)];
                    java.util.Arrays.fill(chain, model.manifest().fillerTokenId());
                    state.forwardPrompt(new int[][] {chain});
                    int last = chain.length - 1;
                    for (int size : sizes) {
                        int[] tokens = new int[size];
                        int[] parents = new int[size];
                        java.util.Arrays.fill(tokens, model.manifest().fillerTokenId());
                        java.util.Arrays.fill(parents, last);
                        state.forward(new int[][] {tokens}, new int[][] {parents});
                        state.retain(0, new int[] {last});
                    }
                }
            }
        }
    }

    /**
     * The state of one generation call: both models' tree states (row = prompt), the beam searches, and per beam
     * ({@code prompt * B + b}) where it stands in each tree.
     */
    private final class Run {
        final List<int[]> prompts;
        final GenerationConfig config;
        final int width;
        final int beams;
        final TreeState tgt;
        final TreeState drf;
        final DecodeStats stats;
        final SpeculationTrace trace;
        final BeamSearch[] searches;   // per prompt
        final int[] pendingToken;      // per beam: its last token, not yet in any cache
        final int[] targetTail;        // per beam: target node id of the token before it (the beam's last stored)
        final int[] draftTail;         // per beam: draft node id of the deepest of its tokens the draft has stored
        final int[][] draftLag;        // per beam: its tokens after draftTail that the draft has not seen
        final boolean[] active;        // per beam: its prompt's search is still running
        final int[] verifyBase;        // per prompt: target id of the verification forward's first node
        final float[] draftLogits;     // (draft vocab) scratch
        final float[][][] beamLogits;  // (prompts, beams, vocab): the target's raw logits at each beam of a step
        final TreePolicy policy;       // learns from each replay; null for a fixed tree
        int catchUpNodes;              // nodes of this round's draft catch-up forward, per prompt
        long catchUpNanos;             // its time in ONNX Runtime

        Run(List<int[]> prompts, GenerationConfig config, TreeState tgt, TreeState drf, DecodeStats stats,
            SpeculationTrace trace, TreePolicy policy) {
            this.policy = policy;
            this.prompts = prompts;
            this.config = config;
            this.width = config.beamWidth();
            this.beams = prompts.size() * width;
            this.tgt = tgt;
            this.drf = drf;
            this.stats = stats;
            this.trace = trace;
            this.searches = new BeamSearch[prompts.size()];
            this.pendingToken = new int[beams];
            this.targetTail = new int[beams];
            this.draftTail = new int[beams];
            this.draftLag = new int[beams][];
            this.active = new boolean[beams];
            this.verifyBase = new int[prompts.size()];
            int vocab = target.manifest().vocabSize();
            this.draftLogits = new float[draft.manifest().vocabSize()];
            this.beamLogits = new float[prompts.size()][width][vocab];
        }

        /** Prefills both models (one row per prompt, shared by its beams) and takes the first beam step. */
        void prefill() {
            int n = prompts.size();
            int vocab = target.manifest().vocabSize();
            int[] eos = DecodeSupport.eosTokens(config, target.manifest());
            int[][] promptArray = prompts.toArray(new int[0][]);
            LmState.Logits out = tgt.forwardPrompt(promptArray);
            drf.forwardPrompt(promptArray);
            for (int i = 0; i < n; i++) {
                int len = prompts.get(i).length;
                searches[i] = new BeamSearch(len, config, eos);
                out.copy(i, len - 1, beamLogits[i][0]);
                for (int b = 1; b < width; b++) {
                    System.arraycopy(beamLogits[i][0], 0, beamLogits[i][b], 0, vocab);
                }
                searches[i].step(beamLogits[i]);
                stats.steps++;
                for (int b = 0; b < width; b++) {
                    int r = i * width + b;
                    pendingToken[r] = searches[i].token(b);
                    targetTail[r] = len - 1;
                    draftTail[r] = len - 1;
                    draftLag[r] = new int[0];
                }
            }
        }

        /** The most tokens a prompt's active beams hold that the draft has not seen (their catch-up). */
        int draftLag() {
            int most = 0;
            for (int prompt = 0; prompt < prompts.size(); prompt++) {
                int lag = 0;
                for (int r = prompt * width; r < (prompt + 1) * width; r++) {
                    lag += active[r] ? draftLag[r].length + 1 : 0;
                }
                most = Math.max(most, lag);
            }
            return most;
        }

        int activePrompts() {
            int count = 0;
            for (BeamSearch search : searches) {
                count += search.isDone() ? 0 : 1;
            }
            return Math.max(1, count);
        }

        boolean anyActive() {
            boolean any = false;
            for (int r = 0; r < beams; r++) {
                active[r] = !searches[r / width].isDone();
                any |= active[r];
            }
            return any;
        }

        /**
         * Builds every beam's tree by running the draft's own beam search for {@code depth} levels, per prompt: at
         * each level the candidates are the children of all frontier nodes of the prompt's beams, scored like
         * the target will score them (the beam's running score plus the draft's cumulative log-prob), and the
         * best {@code treeBranching * B} non-EOS ones join the trees (at most {@code treeBudget} per beam), the
         * best {@code B} of them becoming the next level's frontier. With a draft equal to the target this
         * reproduces the target's selections exactly.
         */
        Tree[] draftTrees(TreePolicy.Shape shape) {
            int depth = shape.depth();
            Tree[] trees = new Tree[beams];
            for (int r = 0; r < beams; r++) {
                trees[r] = new Tree();
                trees[r].add(pendingToken[r], -1, 0, searches[r / width].runningScore(r % width));
            }
            catchUpNodes = 0;
            catchUpNanos = 0;
            if (depth == 0) {
                return trees;   // no drafting this round: the target takes one plain beam step
            }
            LmState.Logits out = catchUpDraft(trees);
            int keep = shape.perLevel();
            int[][] frontier = new int[beams][];
            for (int r = 0; r < beams; r++) {
                frontier[r] = active[r] ? new int[] {0} : new int[0];
            }
            for (int level = 1; level <= depth; level++) {
                int[][] next = new int[beams][0];
                boolean anyNew = false;
                for (int prompt = 0; prompt < prompts.size(); prompt++) {
                    int[] eos = searches[prompt].eos();
                    List<double[]> cands = new ArrayList<>();   // {score, beam, parentNode, token}
                    for (int r = prompt * width; r < (prompt + 1) * width; r++) {
                        Tree tree = trees[r];
                        for (int node : frontier[r]) {
                            out.copy(prompt, tree.draftNode.get(node), draftLogits);
                            TokenScores.LogNorm norm = TokenScores.logNorm(draftLogits);
                            TokenScores.forbid(draftLogits, eos);   // after the norm: log-probs, then the ban
                            for (int t : topTokens(draftLogits, keep)) {   // log-probs rank like logits
                                cands.add(new double[] {tree.cumulative.get(node) + norm.logProb(draftLogits[t]), r, node, t});
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
                        trees[r].ranks.set(id, taken);
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
                out = feedDraftLevel(trees, frontier);
            }
            for (int r = 0; r < beams; r++) {
                stats.draftProposed += trees[r].size() - 1;
            }
            return trees;
        }

        /**
         * Feeds the draft, per prompt row, each active beam's unseen tokens and its pending token (the tree's root)
         * as chains under the beam's deepest stored node; beams that share those tokens share the nodes.
         */
        private LmState.Logits catchUpDraft(Tree[] trees) {
            DraftNodes[] rows = new DraftNodes[prompts.size()];
            for (int prompt = 0; prompt < rows.length; prompt++) {
                DraftNodes row = rows[prompt] = new DraftNodes(drf.nextId(prompt));
                java.util.Map<Long, Integer> made = new java.util.HashMap<>();   // (parent id, token) -> id
                for (int r = prompt * width; r < (prompt + 1) * width; r++) {
                    if (!active[r]) {
                        continue;
                    }
                    int parent = draftTail[r];
                    for (int token : DecodeSupport.append(draftLag[r], pendingToken[r])) {
                        int under = parent;
                        parent = made.computeIfAbsent(((long) under << 32) | token, key -> row.add(token, under));
                    }
                    trees[r].draftId.set(0, parent);
                    trees[r].draftNode.set(0, parent - row.firstId);
                }
                catchUpNodes = Math.max(catchUpNodes, row.size());
            }
            long before = stats.draftOrtNanos;
            LmState.Logits out = DraftNodes.forward(drf, rows);
            catchUpNanos = stats.draftOrtNanos - before;
            return out;
        }

        /** Feeds the draft's beams of one level (the frontier nodes) through the draft. */
        private LmState.Logits feedDraftLevel(Tree[] trees, int[][] frontier) {
            DraftNodes[] rows = new DraftNodes[prompts.size()];
            for (int prompt = 0; prompt < rows.length; prompt++) {
                DraftNodes row = rows[prompt] = new DraftNodes(drf.nextId(prompt));
                for (int r = prompt * width; r < (prompt + 1) * width; r++) {
                    Tree tree = trees[r];
                    for (int node : frontier[r]) {
                        int id = row.add(tree.tokens.get(node), tree.draftId.get(tree.parents.get(node)));
                        tree.draftNode.set(node, id - row.firstId);
                        tree.draftId.set(node, id);
                    }
                }
            }
            return DraftNodes.forward(drf, rows);
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

        /** One target forward over every node of every active beam's tree, a prompt's beams in its row. */
        LmState.Logits verify(Tree[] trees) {
            int n = prompts.size();
            int[][] tokens = new int[n][];
            int[][] parents = new int[n][];
            for (int prompt = 0; prompt < n; prompt++) {
                int firstId = tgt.nextId(prompt);
                verifyBase[prompt] = firstId;
                int count = 0;
                for (int r = prompt * width; r < (prompt + 1) * width; r++) {
                    trees[r].offset = count;
                    count += active[r] ? trees[r].size() : 0;
                }
                tokens[prompt] = new int[count];
                parents[prompt] = new int[count];
                for (int r = prompt * width; r < (prompt + 1) * width; r++) {
                    if (!active[r]) {
                        continue;
                    }
                    Tree tree = trees[r];
                    for (int t = 0; t < tree.size(); t++) {
                        tokens[prompt][tree.offset + t] = tree.tokens.get(t);
                        int parent = tree.parents.get(t);
                        parents[prompt][tree.offset + t] = parent < 0 ? targetTail[r] : firstId + tree.offset + parent;
                    }
                }
            }
            return tgt.forward(tokens, parents);
        }

        /** Replays the target's beam steps from the verified trees of one prompt, then keeps the surviving paths. */
        void replay(int prompt, Tree[] trees, LmState.Logits out, TreePolicy.Shape shape) {
            BeamSearch search = searches[prompt];
            float[][] logits = beamLogits[prompt];
            int base = prompt * width;
            int[] srcBeam = new int[width];    // per beam: the beam (at round start) whose tree it walks
            int[] node = new int[width];       // per beam: its current tree node
            List<List<Integer>> paths = new ArrayList<>();
            for (int b = 0; b < width; b++) {
                srcBeam[b] = base + b;
                node[b] = 0;
                paths.add(new ArrayList<>(List.of(0)));
            }
            int stepsThisRound = 0;
            int prevWorst = 0;                 // worst draft rank of the selections one level up (roots: 0)
            int[] finalToken = new int[width];
            while (true) {
                long scanStart = System.nanoTime();
                for (int b = 0; b < width; b++) {
                    out.copy(prompt, trees[srcBeam[b]].offset + node[b], logits[b]);
                }
                search.step(logits);
                stats.logitsNanos += System.nanoTime() - scanStart;
                stepsThisRound++;
                int[] nextBeam = new int[width];
                int[] nextNode = new int[width];
                List<List<Integer>> nextPaths = new ArrayList<>();
                boolean allInTree = !search.isDone();
                for (int j = 0; j < width; j++) {
                    int p = search.parent(j);
                    int t = search.token(j);
                    nextBeam[j] = srcBeam[p];
                    finalToken[j] = t;
                    nextPaths.add(paths.get(p));
                    int child = trees[srcBeam[p]].child(node[p], t);
                    nextNode[j] = child;
                    allInTree &= child >= 0;
                }
                prevWorst = observe(shape, stepsThisRound, prevWorst, allInTree, trees, nextBeam, nextNode, search.isDone());
                if (!allInTree) {
                    srcBeam = nextBeam;
                    paths = nextPaths;
                    break;
                }
                for (int j = 0; j < width; j++) {
                    List<Integer> extended = new ArrayList<>(nextPaths.get(j));
                    extended.add(nextNode[j]);
                    nextPaths.set(j, extended);
                }
                srcBeam = nextBeam;
                node = nextNode;
                paths = nextPaths;
            }
            stats.steps += stepsThisRound;
            stats.recordRound(stepsThisRound);
            if (search.isDone()) {
                return;
            }
            if (trace != null) {
                int[][] treeTokens = new int[width][];
                int[][] treeParents = new int[width][];
                for (int b = 0; b < width; b++) {
                    treeTokens[b] = trees[base + b].tokens.stream().mapToInt(Integer::intValue).toArray();
                    treeParents[b] = trees[base + b].parents.stream().mapToInt(Integer::intValue).toArray();
                }
                int[] fromBeam = new int[width];
                int[][] kept = new int[width][];
                for (int j = 0; j < width; j++) {
                    fromBeam[j] = srcBeam[j] - base;
                    kept[j] = paths.get(j).stream().mapToInt(Integer::intValue).toArray();
                }
                trace.beamRound(prompt, new SpeculationTrace.BeamRound(treeTokens, treeParents, fromBeam, kept,
                        finalToken.clone()));
            }
            keepSurvivors(prompt, trees, srcBeam, paths, finalToken);
            if (trace != null) {
                Tree tree = trees[srcBeam[0]];
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
         * Tells the policy the worst draft rank of the target's selections at tree level {@code level}, for levels
         * the replay could reach: within the tree's depth, below a level whose selections all had children
         * (ranked among the draft's best B). Returns that worst rank, -1 if a selection was no tree node.
         */
        private int observe(TreePolicy.Shape shape, int level, int prevWorst, boolean allInTree, Tree[] trees,
                            int[] beam, int[] node, boolean finished) {
            int worst = -1;
            if (allInTree) {
                for (int j = 0; j < width; j++) {
                    worst = Math.max(worst, trees[beam[j]].ranks.get(node[j]));
                }
            }
            if (!finished && level <= shape.depth() && prevWorst < width) {
                stats.levelReached[Math.min(level, DecodeStats.HISTOGRAM_SIZE - 1)]++;
                stats.levelCovered[Math.min(level, DecodeStats.HISTOGRAM_SIZE - 1)] += allInTree ? 1 : 0;
                if (policy != null) {
                    policy.observeLevel(level, shape.perLevel(), worst);
                }
            }
            return worst;
        }

        /**
         * 4. update caches: beam j of the prompt becomes the tree node its path reached — on the target the
         * path's last node; on the draft the deepest path node the draft was fed, with the path's remaining
         * tokens as its lag — and every other node of both trees is dropped. Nothing is copied.
         */
        private void keepSurvivors(int prompt, Tree[] trees, int[] srcBeam, List<List<Integer>> paths,
                                   int[] finalToken) {
            int base = prompt * width;
            java.util.Set<Long> used = new java.util.HashSet<>();
            int[] newTargetTail = new int[width];
            int[] newDraftTail = new int[width];
            int[][] newLag = new int[width][];
            for (int j = 0; j < width; j++) {
                int p = srcBeam[j];
                Tree tree = trees[p];
                List<Integer> path = paths.get(j);
                for (int s = 1; s < path.size(); s++) {
                    used.add(((long) p << 32) | path.get(s));
                }
                newTargetTail[j] = verifyBase[prompt] + tree.offset + path.get(path.size() - 1);
                int fed = 0;   // leading path nodes the draft was fed (the root, then its own beams)
                while (fed < path.size() && tree.draftId.get(path.get(fed)) >= 0) {
                    fed++;
                }
                int[] rest = new int[path.size() - fed];
                for (int s = fed; s < path.size(); s++) {
                    rest[s - fed] = tree.tokens.get(path.get(s));
                }
                if (fed > 0) {
                    newDraftTail[j] = tree.draftId.get(path.get(fed - 1));
                    newLag[j] = rest;
                } else {
                    newDraftTail[j] = draftTail[p];
                    newLag[j] = DecodeSupport.concat(draftLag[p], rest, rest.length);
                }
            }
            stats.draftAccepted += used.size();
            for (int j = 0; j < width; j++) {
                targetTail[base + j] = newTargetTail[j];
                draftTail[base + j] = newDraftTail[j];
                draftLag[base + j] = newLag[j];
                pendingToken[base + j] = finalToken[j];
            }
            tgt.retain(prompt, newTargetTail);
            drf.retain(prompt, newDraftTail);
        }
    }

    /** One prompt row's nodes of a draft forward: tokens and their parents' ids, numbered from the row's next id. */
    private static final class DraftNodes {
        final int firstId;
        private final List<Integer> tokens = new ArrayList<>();
        private final List<Integer> parents = new ArrayList<>();

        DraftNodes(int firstId) {
            this.firstId = firstId;
        }

        /** Appends a node under {@code parent} (an id); returns its own id. */
        int add(int token, int parent) {
            tokens.add(token);
            parents.add(parent);
            return firstId + tokens.size() - 1;
        }

        int size() {
            return tokens.size();
        }

        /** One draft forward over every row's nodes. */
        static LmState.Logits forward(TreeState draft, DraftNodes[] rows) {
            int[][] tokens = new int[rows.length][];
            int[][] parents = new int[rows.length][];
            for (int i = 0; i < rows.length; i++) {
                tokens[i] = rows[i].tokens.stream().mapToInt(Integer::intValue).toArray();
                parents[i] = rows[i].parents.stream().mapToInt(Integer::intValue).toArray();
            }
            return draft.forward(tokens, parents);
        }
    }
}
