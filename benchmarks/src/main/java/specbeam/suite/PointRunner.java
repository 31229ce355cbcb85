package specbeam.suite;

import java.io.IOException;
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

    /**
     * Writes the runner's own raw result file of all runs (JMH's JSON for the JMH runner).
     *
     * @param defaultFile where it goes unless the user chose another file
     * @return the file written, or {@code null} when this runner keeps none
     */
    default Path writeResultFile(Path defaultFile) throws IOException {
        return null;
    }
}
