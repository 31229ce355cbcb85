package specbeam.model;

/** A model directory that cannot be used; the message says what is wrong and how to fix it. */
public class ModelLoadException extends RuntimeException {
    public ModelLoadException(String message) {
        super(message);
    }

    public ModelLoadException(String message, Throwable cause) {
        super(message, cause);
    }
}
