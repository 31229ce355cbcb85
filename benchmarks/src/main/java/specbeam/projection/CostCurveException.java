package specbeam.projection;

/** A cost-curve file that is missing, unreadable or malformed; the message says which and how to fix it. */
public class CostCurveException extends RuntimeException {
    public CostCurveException(String message) {
        super(message);
    }
}
