package specbeam.decode;

import specbeam.model.LanguageModel;
import specbeam.model.LmState;
import specbeam.model.ModelManifest;
import specbeam.model.OnnxCausalLm;
import specbeam.model.TreeState;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * A fake language model with fixed logits: a pure function of the last few tokens and the position, so
 * every forward shape (chain, tree, batch) yields bit-identical logits. Speculative and target-only outputs
 * must then be exactly equal. {@code noise} perturbs the logits of a second instance to make a draft that
 * agrees partially; a different {@code seed} makes an unrelated draft.
 */
final class FakeLm implements LanguageModel {
    private final ModelManifest manifest;
    private final long seed;
    private final FakeLm base;
    private final double noise;
    private final double scale;

    FakeLm(int vocab, long seed, double scale) {
        this(vocab, seed, scale, null, 0);
    }

    private FakeLm(int vocab, long seed, double scale, FakeLm base, double noise) {
        this.manifest = new ModelManifest(ModelManifest.FORMAT, "fake", "Fake", 1, 1, 1, 1, 1, vocab, 512, null, 1,
                new int[] {0}, null, "float32", -3.4028234663852886E38, 0, 0, Map.of(), Map.of(), null, Map.of(), null);
        this.seed = seed;
        this.scale = scale;
        this.base = base;
        this.noise = noise;
    }

    /** A draft that agrees with this model except for Gaussian noise of the given size on the logits. */
    FakeLm perturbed(long noiseSeed, double noise) {
        return new FakeLm(manifest.vocabSize(), noiseSeed, scale, this, noise);
    }

    @Override
    public ModelManifest manifest() {
        return manifest;
    }

    float[] logits(int[] context, int length) {
        int vocab = manifest.vocabSize();
        float[] out = new float[vocab];
        if (base != null) {
            float[] b = base.logits(context, length);
            SplittableRandom r = random(context, length);
            for (int v = 0; v < vocab; v++) {
                out[v] = (float) (b[v] + noise * r.nextGaussian());
            }
            return out;
        }
        SplittableRandom r = random(context, length);
        for (int v = 0; v < vocab; v++) {
            out[v] = (float) (scale * r.nextGaussian());
        }
        // make end-of-sequence likelier as sequences grow
        out[0] += (float) (0.08 * length - 2.0);
        return out;
    }

    private SplittableRandom random(int[] context, int length) {
        long h = seed * 0x9E3779B97F4A7C15L + length;
        for (int i = Math.max(0, length - 3); i < length; i++) {
            h = h * 31 + context[i] + 17;
        }
        return new SplittableRandom(h);
    }

    @Override
    public LmState newState(int rows, int capacity, OnnxCausalLm.OrtTimer timer) {
        return new State(rows, capacity, timer);
    }

    @Override
    public TreeState newTreeState(int rows, int capacity, int maxCapacity, OnnxCausalLm.OrtTimer timer) {
        return new Tree(rows, maxCapacity, timer);
    }

    /** What the fake's two states share: their rows, their capacity in slots, the ORT timer and the manifest. */
    private abstract class FakeState {
        final int rows;
        final int capacity;
        final OnnxCausalLm.OrtTimer timer;

        FakeState(int rows, int capacity, OnnxCausalLm.OrtTimer timer) {
            this.rows = rows;
            this.capacity = capacity;
            this.timer = timer;
        }

        public ModelManifest manifest() {
            return manifest;
        }

        public int rows() {
            return rows;
        }

        public int capacity() {
            return capacity;
        }
    }

    /** Fixed logits per root path; dropped nodes are forgotten at once (their slots count as free). */
    private final class Tree extends FakeState implements TreeState {
        private final List<List<Integer>> tokens = new ArrayList<>();    // per row, per id
        private final List<List<Integer>> parents = new ArrayList<>();   // per row, per id: parent id or -1
        private final List<List<Boolean>> alive = new ArrayList<>();     // per row, per id
        private final int[] live;

        Tree(int rows, int maxCapacity, OnnxCausalLm.OrtTimer timer) {
            super(rows, maxCapacity, timer);
            this.live = new int[rows];
            for (int r = 0; r < rows; r++) {
                tokens.add(new ArrayList<>());
                parents.add(new ArrayList<>());
                alive.add(new ArrayList<>());
            }
        }

        @Override
        public int maxCapacity() {
            return capacity;
        }

        @Override
        public int nextId(int row) {
            return tokens.get(row).size();
        }

        @Override
        public int liveSlots(int row) {
            return live[row];
        }

        @Override
        public int usedSlots(int row) {
            return live[row];
        }

        @Override
        public int depth(int row, int id) {
            check(row, id);
            int d = 0;
            for (int a = parents.get(row).get(id); a >= 0; a = parents.get(row).get(a)) {
                d++;
            }
            return d;
        }

        private void check(int row, int id) {
            if (id < 0 || id >= tokens.get(row).size() || !alive.get(row).get(id)) {
                throw new IllegalArgumentException("node " + id + " of row " + row + " is not a retained node");
            }
        }

        @Override
        public LmState.Logits forward(int[][] newTokens, int[][] newParents) {
            int q = 1;
            int fed = 0;
            for (int[] t : newTokens) {
                q = Math.max(q, t.length);
                fed += t.length;
            }
            float[][][] out = new float[rows][q][];
            for (int r = 0; r < rows; r++) {
                if (live[r] + newTokens[r].length > capacity) {
                    throw new IllegalStateException("the token tree needs " + (live[r] + newTokens[r].length)
                            + " cache slots in one row, over its limit of " + capacity + " slots");
                }
                int firstId = tokens.get(r).size();
                for (int j = 0; j < newTokens[r].length; j++) {
                    int parent = newParents[r][j];
                    if (parent >= firstId + j) {
                        throw new IllegalArgumentException("parent after child");
                    }
                    if (parent >= 0 && parent < firstId) {
                        check(r, parent);
                    }
                    tokens.get(r).add(newTokens[r][j]);
                    parents.get(r).add(parent);
                    alive.get(r).add(true);
                    live[r]++;
                    List<Integer> path = new ArrayList<>();
                    for (int a = firstId + j; a >= 0; a = parents.get(r).get(a)) {
                        path.add(0, tokens.get(r).get(a));
                    }
                    int[] ctx = path.stream().mapToInt(Integer::intValue).toArray();
                    out[r][j] = logits(ctx, ctx.length);
                }
            }
            timer.forward(1, fed, (long) rows * q - fed);
            return new LmState.Logits() {
                @Override
                public int vocab() {
                    return manifest.vocabSize();
                }

                @Override
                public float get(int row, int node, int token) {
                    return out[row][node][token];
                }

                @Override
                public void copy(int row, int node, float[] dst) {
                    System.arraycopy(out[row][node], 0, dst, 0, dst.length);
                }
            };
        }

        @Override
        public void retain(int row, int[] ids) {
            List<Boolean> flags = alive.get(row);
            boolean[] keep = new boolean[flags.size()];
            int count = 0;
            for (int id : ids) {
                check(row, id);
                for (int a = id; a >= 0 && !keep[a]; a = parents.get(row).get(a)) {
                    keep[a] = true;
                    count++;
                }
            }
            for (int i = 0; i < keep.length; i++) {
                flags.set(i, keep[i]);
            }
            live[row] = count;
        }

        @Override
        public void close() {
        }
    }

    private final class State extends FakeState implements LmState {
        private final List<List<Integer>> prefix = new ArrayList<>();
        private final List<List<Integer>> pendingTokens = new ArrayList<>();
        private final List<List<Integer>> pendingParents = new ArrayList<>();

        State(int rows, int capacity, OnnxCausalLm.OrtTimer timer) {
            super(rows, capacity, timer);
            for (int r = 0; r < rows; r++) {
                prefix.add(new ArrayList<>());
                pendingTokens.add(new ArrayList<>());
                pendingParents.add(new ArrayList<>());
            }
        }

        @Override
        public int length(int row) {
            return prefix.get(row).size();
        }

        @Override
        public int pendingCount(int row) {
            return pendingTokens.get(row).size();
        }

        @Override
        public Logits forward(int firstRow, int[][] tokens, int[][] parents) {
            int q = 1;
            int fed = 0;
            for (int[] t : tokens) {
                q = Math.max(q, t.length);
                fed += t.length;
            }
            float[][][] out = new float[tokens.length][q][];
            for (int i = 0; i < tokens.length; i++) {
                int row = firstRow + i;
                List<Integer> pt = pendingTokens.get(row);
                List<Integer> pp = pendingParents.get(row);
                int before = pt.size();
                if (prefix.get(row).size() + before + tokens[i].length > capacity) {
                    throw new IllegalStateException("capacity exceeded");
                }
                for (int j = 0; j < tokens[i].length; j++) {
                    int parent = parents == null ? before + j - 1 : parents[i][j];
                    if (parent >= before + j) {
                        throw new IllegalArgumentException("parent after child");
                    }
                    pt.add(tokens[i][j]);
                    pp.add(parent);
                    List<Integer> path = new ArrayList<>();
                    for (int a = before + j; a >= 0; a = pp.get(a)) {
                        path.add(0, pt.get(a));
                    }
                    int[] ctx = new int[prefix.get(row).size() + path.size()];
                    for (int c = 0; c < prefix.get(row).size(); c++) {
                        ctx[c] = prefix.get(row).get(c);
                    }
                    for (int c = 0; c < path.size(); c++) {
                        ctx[prefix.get(row).size() + c] = path.get(c);
                    }
                    out[i][j] = logits(ctx, ctx.length);
                }
            }
            timer.ortNanos(1, fed);
            return new Logits() {
                @Override
                public int vocab() {
                    return manifest.vocabSize();
                }

                @Override
                public float get(int row, int node, int token) {
                    return out[row - firstRow][node][token];
                }

                @Override
                public void copy(int row, int node, float[] dst) {
                    System.arraycopy(out[row - firstRow][node], 0, dst, 0, dst.length);
                }
            };
        }

        @Override
        public void commit(int row, int[] nodes) {
            List<Integer> pt = pendingTokens.get(row);
            List<Integer> pp = pendingParents.get(row);
            for (int j = 0; j < nodes.length; j++) {
                if (pp.get(nodes[j]) != (j == 0 ? -1 : nodes[j - 1])) {
                    throw new IllegalArgumentException("not a root path: " + Arrays.toString(nodes));
                }
                prefix.get(row).add(pt.get(nodes[j]));
            }
            pt.clear();
            pp.clear();
        }

        @Override
        public void selectRows(int[] sources) {
            List<List<Integer>> a = new ArrayList<>();
            List<List<Integer>> b = new ArrayList<>();
            List<List<Integer>> c = new ArrayList<>();
            for (int src : sources) {
                a.add(new ArrayList<>(prefix.get(src)));
                b.add(new ArrayList<>(pendingTokens.get(src)));
                c.add(new ArrayList<>(pendingParents.get(src)));
            }
            for (int r = 0; r < rows; r++) {
                prefix.set(r, a.get(r));
                pendingTokens.set(r, b.get(r));
                pendingParents.set(r, c.get(r));
            }
        }

        @Override
        public void truncate(int row, int length) {
            List<Integer> p = prefix.get(row);
            while (p.size() > length) {
                p.remove(p.size() - 1);
            }
            pendingTokens.get(row).clear();
            pendingParents.get(row).clear();
        }

        @Override
        public void close() {
        }
    }
}
