package specbeam.suite;

import java.nio.file.Path;

/** Measures one grid point (JMH in the real suite, a fake in tests). */
public interface PointRunner {

    /**
     * @throws PointFailedException when the point could not be measured; the message says why
     */
    Measurement run(GridPoint point);

    /** Warm-up/measurement settings in words, for the run's metadata. */
    default String settings() {
        return "";
    }

    /** Writes a combined raw result file of all runs when the user asked for one; returns it, or {@code null}. */
    default Path writeResultFile(Path defaultDir) {
        return null;
    }
}
