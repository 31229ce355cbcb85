package specbeam.suite;

/** Bad input from the user (options, grid values, paths): printed as one line, exit status 2, no stack trace. */
public class UsageException extends RuntimeException {
    public UsageException(String message) {
        super(message);
    }
}
