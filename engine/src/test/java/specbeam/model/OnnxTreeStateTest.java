package specbeam.model;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import specbeam.TestModels;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tree-structured cache on a real ONNX model: whatever the tree's history (branches dropped, their slots reused
 * by new nodes, the cache grown), a node's logits equal those of its root path fed as a plain chain, and the
 * bookkeeping (ids, live slots, padding, bytes moved) says what happened.
 */
class OnnxTreeStateTest {
    private static OnnxCausalLm model;
    private static final float TOLERANCE = 1e-4f;

    @BeforeAll
    static void load() {
        model = OnnxCausalLm.load(TestModels.tiny("llama"), ExecutionProvider.CPU, 2);
    }

    @AfterAll
    static void close() {
        model.close();
    }

    /** Counts what the state reports. */
    private static final class Counts implements OnnxCausalLm.OrtTimer {
        long forwards;
        long fed;
        long padded;
        long bytes;
        long moved;

        @Override
        public void ortNanos(long nanos, int tokensFed) {
            forwards++;
            fed += tokensFed;
        }

        @Override
        public void kvBytes(long b) {
            bytes += b;
        }

        @Override
        public void kvBytesMoved(long b) {
            bytes += b;
            moved += b;
        }

        @Override
        public void paddedPositions(long positions) {
            padded += positions;
        }
    }

    /** Logits of the last token of {@code path}, fed as one chain to a fresh state. */
    private static float[] chainLogits(int[] path) {
        try (TreeState s = model.newTreeState(1, path.length + 1, path.length + 1, new Counts())) {
            int[] parents = new int[path.length];
            for (int j = 0; j < path.length; j++) {
                parents[j] = j - 1;
            }
            LmState.Logits out = s.forward(new int[][] {path}, new int[][] {parents});
            float[] logits = new float[out.vocab()];
            out.copy(0, path.length - 1, logits);
            return logits;
        }
    }

    private static void assertClose(float[] actual, float[] expected) {
        float worst = 0;
        for (int v = 0; v < expected.length; v++) {
            worst = Math.max(worst, Math.abs(actual[v] - expected[v]));
        }
        assertThat(worst).isLessThan(TOLERANCE);
    }

    @Test
    void aStateOnBuffersHandedBackByAnotherGivesTheSameLogits() {
        int[] path = {3, 17, 42, 8, 99, 5, 61, 7};
        float[] fresh = chainLogits(path);            // its buffers go back to the model's pool on close
        assertThat(model.buffers().idleBytes()).isPositive();
        long idle = model.buffers().idleBytes();
        int[] other = {9, 9, 250, 1, 77, 300, 12, 4};
        chainLogits(other);                           // the same sizes: served from the pool, which fills them
        assertThat(model.buffers().idleBytes()).isEqualTo(idle);
        float[] reused = chainLogits(path);
        assertThat(reused).containsExactly(fresh);    // nothing of the other prompt's cache leaks into it
    }

    @Test
    void randomTreesSurvivingCompactionAndGrowthGiveChainLogits() {
        SplittableRandom random = new SplittableRandom(11);
        int vocab = model.manifest().vocabSize();
        int[] prompt = {3, 17, 42, 8, 99, 5};
        Counts counts = new Counts();
        // a tiny starting capacity, so slot reuse and growth both happen
        try (TreeState s = model.newTreeState(1, prompt.length + 4, 400, counts)) {
            s.forward(new int[][] {prompt}, new int[][] {{-1, 0, 1, 2, 3, 4}});
            List<int[]> paths = new ArrayList<>();   // per id: its root path
            for (int j = 0; j < prompt.length; j++) {
                paths.add(java.util.Arrays.copyOf(prompt, j + 1));
            }
            int[] beams = {prompt.length - 1, prompt.length - 1, prompt.length - 1};
            int checked = 0;
            for (int step = 0; step < 40; step++) {
                // each beam grows one or two children (some chained within the call), then a random subset survives
                List<Integer> toks = new ArrayList<>();
                List<Integer> pars = new ArrayList<>();
                int first = s.nextId(0);
                for (int b : beams) {
                    int t = random.nextInt(vocab);
                    toks.add(t);
                    pars.add(b);
                    paths.add(append(paths.get(b), t));
                    if (random.nextBoolean()) {
                        int u = random.nextInt(vocab);
                        int parent = first + toks.size() - 1;
                        toks.add(u);
                        pars.add(parent);
                        paths.add(append(paths.get(parent), u));
                    }
                }
                LmState.Logits out = s.forward(new int[][] {toks.stream().mapToInt(Integer::intValue).toArray()},
                        new int[][] {pars.stream().mapToInt(Integer::intValue).toArray()});
                assertThat(s.nextId(0)).isEqualTo(first + toks.size());
                int probe = random.nextInt(toks.size());
                if (step % 4 == 0) {
                    float[] logits = new float[out.vocab()];
                    out.copy(0, probe, logits);
                    assertClose(logits, chainLogits(paths.get(first + probe)));
                    checked++;
                }
                for (int i = 0; i < beams.length; i++) {
                    beams[i] = first + random.nextInt(toks.size());   // beams may merge: the others' branches die
                }
                s.retain(0, beams);
                assertThat(s.liveSlots(0)).isLessThanOrEqualTo(s.usedSlots(0));
                for (int b : beams) {
                    assertThat(s.depth(0, b)).isEqualTo(paths.get(b).length - 1);
                }
            }
            assertThat(checked).isEqualTo(10);
            assertThat(s.capacity()).as("the cache grew").isGreaterThan(prompt.length + 4);
            assertThat(s.usedSlots(0)).as("dropped nodes' slots were reused").isLessThan(s.nextId(0));
            assertThat(counts.moved).as("only growth moves entries").isPositive();
            assertThat(counts.padded).as("one row: every computed position is a node").isZero();
        }
    }

    @Test
    void paddingIsCountedOnlyWhenRowsDifferInLength() {
        Counts counts = new Counts();
        try (TreeState s = model.newTreeState(2, 16, 16, counts)) {
            s.forward(new int[][] {{5, 6, 7}, {8}}, new int[][] {{-1, 0, 1}, {-1}});
            assertThat(counts.padded).isEqualTo(2);
            s.forward(new int[][] {{9}, {10}}, new int[][] {{2}, {0}});
            assertThat(counts.padded).isEqualTo(2);
            assertThat(counts.fed).isEqualTo(6);
        }
    }

    @Test
    void exhaustingTheLimitIsAClearErrorNamingIt() {
        try (TreeState s = model.newTreeState(1, 4, 6, new Counts())) {
            s.forward(new int[][] {{1, 2, 3, 4}}, new int[][] {{-1, 0, 1, 2}});
            s.forward(new int[][] {{5, 6}}, new int[][] {{3, 3}});   // grows to the limit
            assertThatThrownBy(() -> s.forward(new int[][] {{7}}, new int[][] {{4}}))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("limit of 6 slots");
            // dropping a branch makes room again: its slot is reused
            s.retain(0, new int[] {4});
            LmState.Logits out = s.forward(new int[][] {{7}}, new int[][] {{4}});
            float[] logits = new float[out.vocab()];
            out.copy(0, 0, logits);
            assertClose(logits, chainLogits(new int[] {1, 2, 3, 4, 5, 7}));
        }
    }

    @Test
    void droppedNodesCannotBeExtended() {
        try (TreeState s = model.newTreeState(1, 8, 8, new Counts())) {
            s.forward(new int[][] {{1, 2, 3}}, new int[][] {{-1, 0, 0}});
            s.retain(0, new int[] {1});
            assertThatThrownBy(() -> s.forward(new int[][] {{4}}, new int[][] {{2}}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("not a retained node");
            assertThatThrownBy(() -> s.forward(new int[][] {{4, 5}}, new int[][] {{1, 4}}))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("parents must precede children");
        }
    }

    private static int[] append(int[] a, int t) {
        int[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = t;
        return out;
    }
}
