package specbeam.model;

import java.util.Locale;

/** Where ONNX Runtime runs the model. */
public enum ExecutionProvider {
    CPU,
    /** CUDA when its libraries load; otherwise the engine falls back to CPU and logs one line saying so. */
    CUDA;

    public static ExecutionProvider parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "cpu" -> CPU;
            case "cuda", "gpu" -> CUDA;
            default -> throw new IllegalArgumentException("unknown provider '" + text + "': use cpu or cuda");
        };
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
