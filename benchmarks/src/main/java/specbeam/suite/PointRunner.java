package specbeam.suite;

import specbeam.report.RunMetadata;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/** Measures one grid point (JMH in the real suite, a fake in tests). */
public interface PointRunner {

    /**
     * @throws PointFailedException when the point could not be measured; the message says why
     */
    Measurement run(GridPoint point);

    /**
     * Measures {@code rounds} paired rounds of a speculative point and its baseline ({@code candidate.baseline()}),
     * alternating the order from round to round ({@link PairedRound#baselineFirst}).
     *
     * <p>This default pairs whole runs of {@link #run}: each round runs the baseline, then the candidate (or the
     * other way round), one after the other. The JMH runner overrides it to interleave the two call by call
     * inside one fork, which keeps the halves of a round close in time and both sides in the same JVM.
     *
     * @throws PointFailedException when a side could not be measured
     */
    default PairBatch runPair(GridPoint candidate, int rounds) {
        GridPoint baseline = candidate.baseline();
        List<Measurement> baseSide = new ArrayList<>();
        List<Measurement> candidateSide = new ArrayList<>();
        List<PairedRound> out = new ArrayList<>();
        for (int r = 0; r < rounds; r++) {
            boolean baselineFirst = PairedRound.baselineFirst(r);
            double load = RunMetadata.readLoadAverage();
            Measurement first = run(baselineFirst ? baseline : candidate);
            Measurement second = run(baselineFirst ? candidate : baseline);
            Measurement b = baselineFirst ? first : second;
            Measurement c = baselineFirst ? second : first;
            baseSide.add(b.withLoadAverage(load));
            candidateSide.add(c.withLoadAverage(load));
            out.add(new PairedRound(0, r, mean(b.msPerCall()), mean(c.msPerCall()), load, Double.NaN, Double.NaN));
        }
        return new PairBatch(Measurement.merge(baseSide), Measurement.merge(candidateSide), out);
    }

    /** Warm-up/measurement settings in words, for the run's metadata. */
    default String settings() {
        return "";
    }

    /** How {@link #runPair} measures, in words, for the run's metadata. */
    default String pairedSettings() {
        return "each round one run of each side, alternating which goes first";
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

    private static double mean(double[] values) {
        return Arrays.stream(values).average().orElse(Double.NaN);
    }
}
