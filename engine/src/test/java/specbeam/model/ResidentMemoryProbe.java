package specbeam.model;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;
import specbeam.decode.BeamSearchDecoding;
import specbeam.decode.GenerationConfig;
import specbeam.decode.GreedyDecoding;
import specbeam.decode.Mode;

import java.lang.management.CompilationMXBean;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Runs {@code count} generations (greedy and beam B = 2 in turn, two prompts each: every one makes and closes a
 * decoding state, taking cache memory and handing it back) on one model with the KV backend of
 * {@code -Dspecbeam.kv}, and prints the process's resident memory after the first 100 and after the last:
 * {@code rss <generations> <kB> <native blocks> <native bytes>}. Started in a JVM of its own by
 * {@link ResidentMemoryTest}, so that nothing else the test suite does moves the numbers.
 *
 * <p>Each reading is taken at a quiet point, so that what it shows is what the process keeps, not what the JVM or
 * the C library is about to give back: after a collection, once the JIT has compiled nothing for half a second and
 * HotSpot's chunk-pool cleaner (every 5 s) has freed the compiler's idle arenas, and after glibc's
 * {@code malloc_trim(0)} has returned its free lists to the OS. Without these the same process reads 20-40 MB apart
 * from one reading to the next (compiler arenas and free lists, on the direct-buffer path as much as the bound one).
 *
 * <p>Arguments: the model folder and the number of generations.
 */
public final class ResidentMemoryProbe {
    private static final long QUIET_JIT_MS = 250;
    private static final long CHUNK_POOL_CLEANING_MS = 5_200;   // HotSpot's ChunkPoolCleaner runs every 5,000 ms

    private ResidentMemoryProbe() {
    }

    /** glibc's {@code malloc_trim}: absent elsewhere, where the reading is taken without it. */
    interface CLibrary extends Library {
        int malloc_trim(long pad);
    }

    public static void main(String[] args) throws Exception {
        Path modelDir = Path.of(args[0]);
        int count = Integer.parseInt(args[1]);
        GenerationConfig greedy = GenerationConfig.builder(Mode.GREEDY).maxNewTokens(4).build();
        GenerationConfig beam = GenerationConfig.builder(Mode.BEAM).beamWidth(2).maxNewTokens(3).build();
        try (OnnxCausalLm model = OnnxCausalLm.load(modelDir, ExecutionProvider.CPU, 2)) {
            List<int[]> prompts = prompts(model.manifest().vocabSize());
            for (int g = 1; g <= count; g++) {
                if (g % 2 == 0) {
                    new GreedyDecoding(model).generate(prompts, greedy, null);
                } else {
                    new BeamSearchDecoding(model).generate(prompts, beam, null);
                }
                if (g == 100 || g == count) {
                    long kb = quietResidentKb();
                    long[] blocks = model.kvBackend() == KvBackend.BOUND ? model.boundKv().allocated() : new long[2];
                    System.out.printf("rss %d %d %d %d%n", g, kb, blocks[0], blocks[1]);
                }
            }
        }
    }

    private static List<int[]> prompts(int vocab) {
        SplittableRandom r = new SplittableRandom(7);
        List<int[]> out = new ArrayList<>();
        for (int n = 0; n < 2; n++) {
            int[] p = new int[1 + r.nextInt(40)];
            for (int i = 0; i < p.length; i++) {
                p[i] = 3 + r.nextInt(vocab - 3);
            }
            out.add(p);
        }
        return out;
    }

    private static long quietResidentKb() throws Exception {
        System.gc();
        CompilationMXBean jit = ManagementFactory.getCompilationMXBean();
        long last = -1;
        for (int quiet = 0; quiet < 2; ) {
            long t = jit.getTotalCompilationTime();
            quiet = t == last ? quiet + 1 : 0;
            last = t;
            Thread.sleep(QUIET_JIT_MS);
        }
        Thread.sleep(CHUNK_POOL_CLEANING_MS);
        System.gc();
        try {
            Native.load(Platform.C_LIBRARY_NAME, CLibrary.class).malloc_trim(0);
        } catch (UnsatisfiedLinkError notGlibc) {
            // no malloc_trim: read as it is
        }
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("[^0-9]", ""));
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }
}
