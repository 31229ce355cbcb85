package specbeam;

import specbeam.model.ExecutionProvider;

import java.nio.file.Path;

/**
 * How to open an {@link Engine}.
 *
 * @param target   exported target model directory
 * @param draft    exported draft model directory, or {@code null} (speculative modes then unavailable)
 * @param provider requested execution provider
 * @param threads  ONNX Runtime intra-op threads
 */
public record EngineOptions(Path target, Path draft, ExecutionProvider provider, int threads) {

    public static int defaultThreads() {
        return Runtime.getRuntime().availableProcessors();
    }

    public static EngineOptions of(Path target, Path draft) {
        return new EngineOptions(target, draft, ExecutionProvider.CPU, defaultThreads());
    }
}
