package specbeam.decode;

import java.util.concurrent.atomic.AtomicLong;
import java.util.function.IntConsumer;
import java.util.stream.IntStream;

/**
 * Independent scans of the rows of one forward's logits (each row's log-sum-exp, its largest logits), spread over
 * the cores when there is enough of them to pay: after ONNX Runtime's run returns its threads are idle, and at a
 * 152k vocabulary a 20-node verification reads 3 million logits, milliseconds of single-threaded Java. Each row is
 * scanned by the same code whichever thread takes it, so the results are the same floats as a sequential pass.
 *
 * <p>Runs on the common fork-join pool (the caller takes part); off with {@code -Dspecbeam.parallelScan=false}, or
 * by {@link #setParallel} for a side-by-side measurement in one JVM.
 */
public final class RowScans {
    /** Vocabulary below which rows are scanned one after another: a row under ~0.1 ms, against tens of µs to fork. */
    static final int MIN_PARALLEL_VOCAB = 1 << 15;
    private static final int CORES = Runtime.getRuntime().availableProcessors();
    private static volatile boolean parallel = !"false".equals(System.getProperty("specbeam.parallelScan"))
            && CORES > 1;
    private static final AtomicLong PARALLEL_RUNS = new AtomicLong();   // scans spread over cores, for tests

    private RowScans() {
    }

    /** Whether scans of many logits run on several cores. */
    public static boolean parallel() {
        return parallel;
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

    /**
     * Rows of {@code vocab} logits worth scanning at once: the cores when the scan runs in parallel and a row is
     * large enough to pay for the fork, else 1 (for a caller that reads rows in order and may stop early).
     */
    static int width(int vocab) {
        return parallel && vocab >= MIN_PARALLEL_VOCAB ? CORES : 1;
    }

    /** Scans spread over several cores since the JVM started. */
    static long parallelRuns() {
        return PARALLEL_RUNS.get();
    }
}
