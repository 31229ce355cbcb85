package specbeam.suite;

import org.openjdk.jmh.runner.options.Options;
import specbeam.Engine;
import specbeam.bench.JmhPointRunner;
import specbeam.model.ExecutionProvider;
import specbeam.model.ModelManifest;
import specbeam.quality.EngineTextGenerator;
import specbeam.quality.TextGenerator;
import specbeam.tasks.ModelPair;

import java.nio.file.Path;
import java.util.Map;

/** The real thing: JMH for timing, the engine for quality, manifests for checksums. */
final class DefaultWiring implements Wiring {

    @Override
    public PointRunner pointRunner(Options jmh, Profile profile, Path models, Path scratch) {
        return new JmhPointRunner(jmh, profile, models, scratch);
    }

    @Override
    public TextGenerator openGenerator(ModelPair pair, ExecutionProvider provider, boolean withDraft) {
        return EngineTextGenerator.open(pair, provider, withDraft);
    }

    @Override
    public String onnxRuntimeVersion() {
        return Engine.onnxRuntimeVersion();
    }

    @Override
    public Map<String, String> modelFiles(Path modelDir) {
        Map<String, String> files = ModelManifest.read(modelDir).files();
        return files == null ? Map.of() : files;
    }
}
