package specbeam.suite;

/** One grid point could not be measured; the suite records it and goes on with the others. */
public class PointFailedException extends RuntimeException {
    public PointFailedException(String message) {
        super(message);
    }
}
