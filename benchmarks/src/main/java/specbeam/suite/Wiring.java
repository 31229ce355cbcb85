package specbeam.suite;

import org.openjdk.jmh.runner.options.Options;
import specbeam.model.ExecutionProvider;
import specbeam.quality.TextGenerator;
import specbeam.tasks.ModelPair;

import java.nio.file.Path;
import java.util.Map;

/** What the suite needs from the outside world: JMH, the engine and the models' facts. Tests pass fakes. */
public interface Wiring {

    PointRunner pointRunner(Options jmh, Profile profile, Path models, Path scratch);

    /** Opens the engine for the quality pass; {@code withDraft} when a speculative point is in the grid. */
    TextGenerator openGenerator(ModelPair pair, ExecutionProvider provider, boolean withDraft);

    String onnxRuntimeVersion();

    /** The {@code files} map (name to checksum) of a model directory's manifest. */
    Map<String, String> modelFiles(Path modelDir);

    /** Whether the run may time Hugging Face {@code generate} itself ({@link HfBaseline}); fakes say no. */
    default boolean measuresHfBaseline() {
        return true;
    }
}
