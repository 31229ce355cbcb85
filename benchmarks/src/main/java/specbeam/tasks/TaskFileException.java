package specbeam.tasks;

/** A model pair or task file that cannot be used; the message says which file and how to fix it. */
public class TaskFileException extends RuntimeException {
    public TaskFileException(String message) {
        super(message);
    }
}
