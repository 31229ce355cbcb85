package specbeam.model;

import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import specbeam.TestModels;

import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The tree-structured cache on a real ONNX model: whatever the tree's history (branches dropped, their slots reused
 * by new nodes or compacted away, the cache grown), a node's logits equal those of its root path fed as a plain
 * chain to {@code model.onnx} alone, and the bookkeeping (ids, live slots, padding, bytes moved) says what
 * happened. {@code model} runs the in-place graph where GroupQueryAttention allows it; {@code slotted} is the same
 * model without it.
 */
class OnnxTreeStateTest {
    private static OnnxCausalLm model;
    private static OnnxCausalLm slotted;
    // Logits reach ~40 here; the in-place graph's kernels (GroupQueryAttention) against model.onnx's differ by
    // up to ~1e-4 over 50-token paths (the export check allows 4e-3 on this model), a wrong slot or mask by > 0.1.
    private static final float TOLERANCE = 1e-3f;

    @BeforeAll
    static void load() {
        model = OnnxCausalLm.load(TestModels.tiny("llama"), ExecutionProvider.CPU, 2);
        System.setProperty("specbeam.inplace", "false");
        try {
            slotted = OnnxCausalLm.load(TestModels.tiny("llama"), ExecutionProvider.CPU, 2);
        } finally {
            System.clearProperty("specbeam.inplace");
        }
        assertThat(model.inplaceSession()).isNotNull();
        assertThat(slotted.inplaceSession()).isNull();
    }

    @AfterAll
    static void close() {
        model.close();
        slotted.close();
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

    /** Logits of the last token of {@code path}, fed as one chain to a fresh state on {@code model.onnx}. */
    private static float[] chainLogits(int[] path) {
        try (TreeState s = slotted.newTreeState(1, path.length + 1, path.length + 1, new Counts())) {
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
        assertThat(slotted.buffers().idleBytes()).isPositive();
        long idle = slotted.buffers().idleBytes();
        int[] other = {9, 9, 250, 1, 77, 300, 12, 4};
        chainLogits(other);                           // the same sizes: served from the pool, which fills them
        assertThat(slotted.buffers().idleBytes()).isEqualTo(idle);
        float[] reused = chainLogits(path);
        assertThat(reused).containsExactly(fresh);    // nothing of the other prompt's cache leaks into it
    }

    @ParameterizedTest(name = "in place: {0}, rows: {1}")
    @CsvSource({"true, 1", "false, 1", "true, 2", "false, 2"})
    void randomTreesSurvivingCompactionAndGrowthGiveChainLogits(boolean inPlace, int rows) {
        SplittableRandom random = new SplittableRandom(11 + rows);
        OnnxCausalLm lm = inPlace ? model : slotted;
        int vocab = lm.manifest().vocabSize();
        int[][] prompts = {{3, 17, 42, 8, 99, 5}, {7, 1, 64}};
        Counts counts = new Counts();
        // a tiny starting capacity, so hole reuse or compaction, and growth, all happen
        try (TreeState s = lm.newTreeState(rows, 10, 400, counts)) {
            int[][] firstCall = new int[rows][];
            int[][] firstParents = new int[rows][];
            List<List<int[]>> paths = new ArrayList<>();   // per row, per id: its root path
            int[][] beams = new int[rows][];
            for (int r = 0; r < rows; r++) {
                firstCall[r] = prompts[r];
                firstParents[r] = new int[prompts[r].length];
                paths.add(new ArrayList<>());
                for (int j = 0; j < prompts[r].length; j++) {
                    firstParents[r][j] = j - 1;
                    paths.get(r).add(java.util.Arrays.copyOf(prompts[r], j + 1));
                }
                beams[r] = new int[] {prompts[r].length - 1, prompts[r].length - 1, prompts[r].length - 1};
            }
            s.forward(firstCall, firstParents);
            int checked = 0;
            for (int step = 0; step < 40; step++) {
                // each beam grows one or two children (some chained within the call), then a random subset
                // survives; with two rows every third step feeds one node per row (the in-place graph's batch call)
                boolean onePerRow = rows > 1 && step % 3 == 2;
                int[][] toks = new int[rows][];
                int[][] pars = new int[rows][];
                int[] first = new int[rows];
                for (int r = 0; r < rows; r++) {
                    List<Integer> t = new ArrayList<>();
                    List<Integer> p = new ArrayList<>();
                    first[r] = s.nextId(r);
                    for (int b : onePerRow ? new int[] {beams[r][random.nextInt(3)]} : beams[r]) {
                        int token = random.nextInt(vocab);
                        t.add(token);
                        p.add(b);
                        paths.get(r).add(append(paths.get(r).get(b), token));
                        if (!onePerRow && random.nextBoolean()) {
                            int u = random.nextInt(vocab);
                            int parent = first[r] + t.size() - 1;
                            t.add(u);
                            p.add(parent);
                            paths.get(r).add(append(paths.get(r).get(parent), u));
                        }
                    }
                    toks[r] = t.stream().mapToInt(Integer::intValue).toArray();
                    pars[r] = p.stream().mapToInt(Integer::intValue).toArray();
                }
                LmState.Logits out = s.forward(toks, pars);
                for (int r = 0; r < rows; r++) {
                    assertThat(s.nextId(r)).isEqualTo(first[r] + toks[r].length);
                    if (step % 4 == 0 || onePerRow && step % 6 == 5) {
                        int probe = random.nextInt(toks[r].length);
                        float[] logits = new float[out.vocab()];
                        out.copy(r, probe, logits);
                        assertClose(logits, chainLogits(paths.get(r).get(first[r] + probe)));
                        checked++;
                    }
                    for (int i = 0; i < 3; i++) {
                        beams[r][i] = first[r] + random.nextInt(toks[r].length);   // beams may merge
                    }
                    s.retain(r, beams[r]);
                    assertThat(s.liveSlots(r)).isLessThanOrEqualTo(s.usedSlots(r));
                    for (int b : beams[r]) {
                        assertThat(s.depth(r, b)).isEqualTo(paths.get(r).get(b).length - 1);
                    }
                }
            }
            assertThat(checked).isGreaterThanOrEqualTo(10 * rows);
            assertThat(s.capacity()).as("the cache grew").isGreaterThan(10);
            for (int r = 0; r < rows; r++) {
                assertThat(s.usedSlots(r)).as("dropped nodes' slots were reused or compacted away")
                        .isLessThan(s.nextId(r));
            }
            assertThat(counts.moved).as("growth (and compaction in place) moves entries").isPositive();
            if (rows == 1) {
                assertThat(counts.padded).as("one row: every computed position is a node").isZero();
            }
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
