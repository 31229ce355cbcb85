package specbeam;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/** Locates the committed models (tests run from the engine module or the repository root). */
public final class TestModels {
    private TestModels() {
    }

    public static Path root() {
        String prop = System.getProperty("specbeam.root");
        if (prop != null && Files.isRegularFile(Path.of(prop, "models", "FORMAT.md"))) {
            return Path.of(prop);
        }
        for (Path p = Path.of("").toAbsolutePath(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("models").resolve("FORMAT.md"))) {
                return p;
            }
        }
        throw new IllegalStateException("cannot find the repository root (models/FORMAT.md) from " + Path.of("").toAbsolutePath());
    }

    public static Path tiny(String arch) {
        return root().resolve("models/tiny").resolve(arch);
    }

    public static Path pairTarget() {
        return root().resolve("models/pair/target");
    }

    public static Path pairDraft() {
        return root().resolve("models/pair/draft");
    }

    public static final List<String> TINY = List.of("llama", "qwen2", "gpt2", "gpt_neox", "mistral", "qwen3", "phi3", "gemma2",
            "gemma3");

    /** Every committed model directory with a goldens.json. */
    public static List<Path> withGoldens() {
        try (Stream<Path> s = Files.walk(root().resolve("models"), 3)) {
            return s.filter(p -> p.getFileName().toString().equals("goldens.json"))
                    .map(Path::getParent).sorted().toList();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
