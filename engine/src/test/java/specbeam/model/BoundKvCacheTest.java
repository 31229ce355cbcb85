package specbeam.model;

import org.junit.jupiter.api.Test;
import specbeam.TestModels;
import specbeam.decode.BeamSearchDecoding;
import specbeam.decode.DecodeStats;
import specbeam.decode.GeneratedSequence;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GenerationResult;
import specbeam.decode.GreedyDecoding;
import specbeam.decode.Mode;
import specbeam.decode.SpeculativeBeamDecoding;
import specbeam.decode.SpeculativeDecoding;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The bound KV cache ({@link KvBackend#BOUND}: memory from ONNX Runtime's allocator, IoBinding, native slot copies)
 * against today's direct buffers ({@link KvBackend#HOST}) on the same models: the same tokens and scores bit for bit
 * in every mode, no cache byte copied by Java, and clear errors instead of crashes on a closed state or model
 * ({@link ResidentMemoryTest} runs the 10,000 generations). The golden and speculative-vs-target suites run on the bound cache
 * (the default here) and again on direct buffers (the surefire execution {@code kv-host}).
 */
class BoundKvCacheTest {

    private static OnnxCausalLm load(Path dir, String kv) {
        String before = System.getProperty("specbeam.kv");
        System.setProperty("specbeam.kv", kv);
        try {
            return OnnxCausalLm.load(dir, ExecutionProvider.CPU, 2);
        } finally {
            if (before == null) {
                System.clearProperty("specbeam.kv");
            } else {
                System.setProperty("specbeam.kv", before);
            }
        }
    }

    private static List<int[]> prompts(int vocab, int count, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        List<int[]> out = new ArrayList<>();
        for (int n = 0; n < count; n++) {
            int[] p = new int[1 + r.nextInt(40)];
            for (int i = 0; i < p.length; i++) {
                p[i] = 3 + r.nextInt(vocab - 3);
            }
            out.add(p);
        }
        return out;
    }

    @Test
    void autoTakesTheBoundCacheWhereTheCApiLoadsAndHostStaysAvailable() {
        try (OnnxCausalLm auto = load(TestModels.tiny("llama"), "auto");
             OnnxCausalLm host = load(TestModels.tiny("llama"), "host")) {
            assertThat(auto.kvBackend()).isEqualTo(KvBackend.BOUND);
            assertThat(host.kvBackend()).isEqualTo(KvBackend.HOST);
        }
        assertThatThrownBy(() -> load(TestModels.tiny("llama"), "device"))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("-Dspecbeam.kv must be 'auto', 'bound' or 'host'");
    }

    /** Every mode, on plain, sliding-window and half-precision graphs and on the trained pair: identical results. */
    @Test
    void boundCacheGivesTheSameResultsAsDirectBuffersWithNoCacheBytesThroughJava() {
        List<String[]> pairs = new ArrayList<>(List.of(new String[] {"llama", "llama"},
                new String[] {"gemma3", "gemma2"}, new String[] {"qwen2", "qwen2"}, new String[] {"gemma3-fp16", "gemma3-fp16"}));
        boolean pair = Files.isRegularFile(TestModels.pairTarget().resolve("manifest.json"));
        int compared = 0;
        for (String[] names : pairs) {
            Path t = TestModels.tiny(names[0]);
            Path d = TestModels.tiny(names[1]);
            compared += compareBackends(t, d, names[0] + "<-" + names[1]);
        }
        if (pair) {
            compared += compareBackends(TestModels.pairTarget(), TestModels.pairDraft(), "pair");
        }
        assertThat(compared).isGreaterThanOrEqualTo(16);
    }

    private int compareBackends(Path targetDir, Path draftDir, String label) {
        int compared = 0;
        try (OnnxCausalLm bt = load(targetDir, "bound"); OnnxCausalLm bd = load(draftDir, "bound");
             OnnxCausalLm ht = load(targetDir, "host"); OnnxCausalLm hd = load(draftDir, "host")) {
            List<int[]> prompts = prompts(bt.manifest().vocabSize(), 3, label.hashCode());
            GenerationConfig greedy = GenerationConfig.builder(Mode.GREEDY).maxNewTokens(12).build();
            GenerationConfig beam = GenerationConfig.builder(Mode.BEAM).beamWidth(4).numReturnSequences(2)
                    .maxNewTokens(10).build();
            GenerationConfig spec = GenerationConfig.builder(Mode.SPECULATIVE).k(3).maxNewTokens(12).build();
            GenerationConfig specBeam = GenerationConfig.builder(Mode.SPECULATIVE_BEAM).beamWidth(4).k(3)
                    .treeBranching(2).maxNewTokens(10).build();
            List<Supplier<GenerationResult[]>> runs = List.of(
                    () -> new GenerationResult[] {new GreedyDecoding(bt).generate(prompts, greedy, null),
                            new GreedyDecoding(ht).generate(prompts, greedy, null)},
                    () -> new GenerationResult[] {new BeamSearchDecoding(bt).generate(prompts, beam, null),
                            new BeamSearchDecoding(ht).generate(prompts, beam, null)},
                    () -> new GenerationResult[] {new SpeculativeDecoding(bt, bd).generate(prompts, spec, null),
                            new SpeculativeDecoding(ht, hd).generate(prompts, spec, null)},
                    () -> new GenerationResult[] {new SpeculativeBeamDecoding(bt, bd).generate(prompts, specBeam, null),
                            new SpeculativeBeamDecoding(ht, hd).generate(prompts, specBeam, null)});
            String[] modes = {"greedy", "beam", "speculative", "speculative_beam"};
            for (int m = 0; m < runs.size(); m++) {
                GenerationResult[] r = runs.get(m).get();
                for (int i = 0; i < prompts.size(); i++) {
                    List<GeneratedSequence> bound = r[0].sequences().get(i);
                    List<GeneratedSequence> host = r[1].sequences().get(i);
                    assertThat(bound).as(label + " " + modes[m] + " prompt " + i).hasSameSizeAs(host);
                    for (int s = 0; s < bound.size(); s++) {
                        assertThat(bound.get(s).tokens()).as(label + " " + modes[m]).isEqualTo(host.get(s).tokens());
                        assertThat(bound.get(s).score()).as(label + " " + modes[m]).isEqualTo(host.get(s).score());
                    }
                }
                DecodeStats b = r[0].stats();
                DecodeStats h = r[1].stats();
                assertThat(b.kvBytesThroughJava).as(label + " " + modes[m] + ": bound, cache bytes copied by Java")
                        .isZero();
                if (modes[m].contains("beam")) {   // rows reordered by Java on direct buffers
                    assertThat(h.kvBytesThroughJava).as(label + " " + modes[m] + ": direct buffers copy some").isPositive();
                }
                assertThat(b.hostIoBytes).as(label + " " + modes[m] + ": host bytes per forward, bound < direct")
                        .isPositive().isLessThan(h.hostIoBytes);
                assertThat(b.kvBytesCopied).as("the same cache traffic, counted alike").isEqualTo(h.kvBytesCopied);
                compared++;
            }
        }
        return compared;
    }

    /**
     * {@code -Dspecbeam.kv.maxBytes}: a state whose cache would take the bound memory past it is refused before it
     * takes a block, with the limit and the way round it in the message; idle blocks are given back to make room
     * for a state that fits; a bad value is refused at load.
     */
    @Test
    void theBoundCacheStaysWithinItsLimitAndSaysSoWhenAStateWouldNot() {
        long small;   // bytes held by one state of capacity 32 after a forward
        long large;   // ... of capacity 128
        try (OnnxCausalLm unlimited = load(TestModels.tiny("llama"), "bound")) {
            small = heldAfterOneForward(unlimited, 32);
            large = heldAfterOneForward(unlimited, 128);
        }
        assertThat(large).isGreaterThan(small);
        System.setProperty("specbeam.kv.maxBytes", Long.toString(large));
        OnnxCausalLm model;
        try {
            model = load(TestModels.tiny("llama"), "bound");
        } finally {
            System.clearProperty("specbeam.kv.maxBytes");
        }
        try (model) {
            assertThat(heldAfterOneForward(model, 32)).isEqualTo(small);   // its blocks are idle now
            assertThat(heldAfterOneForward(model, 128)).as("idle blocks freed to make room").isLessThanOrEqualTo(large);
            assertThat(model.boundKv().allocated()[1]).isLessThanOrEqualTo(large);
            long[] before = model.boundKv().allocated();
            assertThatThrownBy(() -> heldAfterOneForward(model, 512))
                    .isInstanceOf(NativeLimits.LimitExceededException.class)
                    .hasMessageContaining("MiB of memory for the KV cache bound to ONNX Runtime")
                    .hasMessageContaining("-Dspecbeam.kv.maxBytes");
            assertThat(model.boundKv().allocated()).as("no block taken by the refused state").containsExactly(before);
            assertThat(heldAfterOneForward(model, 128)).as("the model works on within its limit").isEqualTo(large);
        }
        System.setProperty("specbeam.kv.maxBytes", "lots");
        try {
            assertThatThrownBy(() -> load(TestModels.tiny("llama"), "bound"))
                    .isInstanceOf(IllegalArgumentException.class)
                    .hasMessageContaining("-Dspecbeam.kv.maxBytes must be a positive size").hasMessageContaining("'lots'");
        } finally {
            System.clearProperty("specbeam.kv.maxBytes");
        }
        assertThat(NativeLimits.parseBytes("16g")).isEqualTo(16L << 30);
        assertThat(NativeLimits.parseBytes("512K")).isEqualTo(512L << 10);
        assertThat(NativeLimits.parseBytes("4096")).isEqualTo(4096);
        assertThatThrownBy(() -> NativeLimits.parseBytes("-1m")).isInstanceOf(IllegalArgumentException.class);
        assertThatThrownBy(() -> NativeLimits.parseBytes("99999999999g")).isInstanceOf(IllegalArgumentException.class);
    }

    /** Bytes of bound memory in use (not idle) by one state of {@code capacity} after a forward of a prompt. */
    private static long heldAfterOneForward(OnnxCausalLm model, int capacity) {
        try (LmState state = model.newState(2, capacity, new NoTimer())) {
            state.forward(0, new int[][] {{5, 6, 7}, {8, 9, 10}}, null);
            return model.boundKv().allocated()[1] - model.boundKv().idleBytes();
        }
    }

    @Test
    void aClosedStateOrModelFailsClearlyInsteadOfTouchingFreedMemory() {
        OnnxCausalLm model = load(TestModels.tiny("llama"), "bound");
        LmState state = model.newState(1, 32, new NoTimer());
        state.forward(0, new int[][] {{5, 6, 7}}, null);
        state.close();
        assertThatThrownBy(() -> state.forward(0, new int[][] {{8}}, null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed decoding state");
        LmState open = model.newState(1, 32, new NoTimer());
        open.forward(0, new int[][] {{5, 6, 7}}, null);
        model.close();
        assertThatThrownBy(() -> open.forward(0, new int[][] {{8}}, null))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
        open.close();   // its memory went with the model: nothing freed twice
        assertThatThrownBy(() -> model.newState(1, 32, new NoTimer()))
                .isInstanceOf(IllegalStateException.class).hasMessageContaining("closed");
    }

    private static final class NoTimer implements OnnxCausalLm.OrtTimer {
        @Override
        public void ortNanos(long nanos, int tokensFed) {
        }

        @Override
        public void kvBytes(long bytes) {
        }
    }
}
