package specbeam.suite;

import org.openjdk.jmh.runner.options.Options;
import specbeam.decode.Mode;
import specbeam.model.ExecutionProvider;
import specbeam.quality.FakeGenerator;
import specbeam.quality.TextGenerator;
import specbeam.tasks.ModelPair;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Wiring without JMH or ONNX Runtime: fixed timings per mode (greedy 100 ms, speculative 50 ms, beam 200 ms,
 * speculative beam 125 ms per generation) and the {@link FakeGenerator}.
 */
final class FakeWiring implements Wiring {
    final List<GridPoint> measured = new ArrayList<>();
    private final String failingLabel;

    FakeWiring() {
        this(null);
    }

    /** A wiring whose runner fails the point with this label. */
    FakeWiring(String failingLabel) {
        this.failingLabel = failingLabel;
    }

    @Override
    public boolean measuresHfBaseline() {
        return false;
    }

    @Override
    public PointRunner pointRunner(Options jmh, Profile profile, Path models, Path scratch) {
        return point -> {
            if (point.label().equals(failingLabel)) {
                throw new PointFailedException("engine exploded");
            }
            measured.add(point);
            double ms = switch (point.mode()) {
                case GREEDY, SAMPLING -> 100;
                case SPECULATIVE, SPECULATIVE_SAMPLING -> 50;
                case BEAM -> 200;
                case SPECULATIVE_BEAM -> 125;
            };
            boolean spec = point.mode().isSpeculative();
            // 30 calls, each with one prompt forward of 20 tokens per model; a speculative round verifies 5 tokens
            // per row and runs 4 one-token draft forwards
            int rows = point.batch() * point.beamWidth();
            CounterTotals c = new CounterTotals(10, 30, 1920, 1920, spec ? 640 : 1890, 1920, spec ? 670 : 1920,
                    spec ? 2590 : 0, spec ? 2560 : 0, spec ? 1280 : 0, spec ? 2_000_000_000L : 2_700_000_000L,
                    spec ? 200_000_000L : 0, 3_000_000_000L, 1 << 20, 1 << 10, 0,
                    600 + (spec ? 640L * 5 : 1890L) * rows, spec ? 600 + 2560L * rows : 0, 30, 600,
                    spec ? 30 : 0, spec ? 600 : 0, 30, 12, 30, 0, 1L << 16);
            return new Measurement(point, new double[] {ms * 0.99, ms, ms * 1.01}, c, 30 * ms / 1000, Double.NaN);
        };
    }

    @Override
    public TextGenerator openGenerator(ModelPair pair, ExecutionProvider provider, boolean withDraft) {
        return new FakeGenerator();
    }

    @Override
    public String onnxRuntimeVersion() {
        return "test-ort";
    }

    @Override
    public Map<String, String> modelFiles(Path modelDir) {
        return Map.of("model.onnx", "sha256:" + modelDir.getFileName());
    }

    static boolean isSpeculative(Mode m) {
        return m.isSpeculative();
    }
}
