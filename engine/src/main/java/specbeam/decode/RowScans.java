package specbeam.decode;

import specbeam.model.OrtThreads;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Independent scans of the rows of one forward's logits (each row's log-sum-exp, its largest logits), spread over
 * the cores when there is enough of them to pay: after ONNX Runtime's run returns its threads are idle, and at a
 * 152k vocabulary a 20-node verification reads 3 million logits, milliseconds of single-threaded Java. Each row is
 * scanned by the same code whichever thread takes it, so the results are the same floats as a sequential pass.
 *
 * <p>Runs on the common fork-join pool (the caller takes part). On by default except where ONNX Runtime's workers
 * keep the other cores: with its global pool spinning ({@link OrtThreads}' default on a free machine) a worker
 * still spins on the second core after a run ({@code session.force_spinning_stop} did not stop it), and the
 * parallel scan measured a little slower than one core there (results/scale/scan). With per-session pools
 * ({@code -Dspecbeam.ort.pool=session}: spinning stops when a run ends) or without spinning it halves the scan.
 * {@code -Dspecbeam.parallelScan=true|false} decides instead; {@link #setParallel} for a side-by-side measurement.
 */
public final class RowScans {
    /** Vocabulary below which rows are scanned one after another: a row under ~0.1 ms, against tens of µs to fork. */
    static final int MIN_PARALLEL_VOCAB = 1 << 15;
    private static final int CORES = Runtime.getRuntime().availableProcessors();
    private static volatile Boolean parallel;   // resolved on first use (defaultParallel), or set
    private static final AtomicLong PARALLEL_RUNS = new AtomicLong();   // scans spread over cores, for tests

    private RowScans() {
    }

    /** Whether scans of many logits run on several cores. */
    public static boolean parallel() {
        Boolean p = parallel;
        if (p == null) {
            p = defaultParallel();
            parallel = p;
        }
        return p;
    }

    /** {@code -Dspecbeam.parallelScan}, else on unless ONNX Runtime's global pool spins (see the class comment). */
    private static boolean defaultParallel() {
        String set = System.getProperty("specbeam.parallelScan");
        if (set != null) {
            return Boolean.parseBoolean(set) && CORES > 1;
        }
        OrtThreads ort = OrtThreads.current();
        return CORES > 1 && !(ort.sharedPool() && ort.spin());
    }

    /** Turns the parallel scan on or off (for measuring both in one JVM; outputs are the same either way). */
    public static void setParallel(boolean on) {
        parallel = on && CORES > 1;
    }

    /** {@code body.accept(i)} for {@code i} in {@code [0, count)}, each a scan of a row of {@code vocab} logits. */
    static void forEach(int count, int vocab, IntConsumer body) {
        if (width(vocab) == 1 || count < 2) {
            for (int i = 0; i < count; i++) {
                body.accept(i);
            }
            return;
        }
        PARALLEL_RUNS.incrementAndGet();
        IntStream.range(0, count).parallel().forEach(body);
    }

    /** Back to the default choice (tests). */
    static void resetToDefault() {
        parallel = null;
    }

    /**
     * Rows of {@code vocab} logits worth scanning at once: the cores when the scan runs in parallel and a row is
     * large enough to pay for the fork, else 1 (for a caller that reads rows in order and may stop early).
     */
    static int width(int vocab) {
        return parallel() && vocab >= MIN_PARALLEL_VOCAB ? CORES : 1;
    }

    /** Scans spread over several cores since the JVM started. */
    static long parallelRuns() {
        return PARALLEL_RUNS.get();
    }
}
