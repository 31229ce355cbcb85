package specbeam.report;

/** REPORT.md's markers cannot be used; the message says where, and the file is left unchanged. */
public class ReportFormatException extends RuntimeException {
    public ReportFormatException(String message) {
        super(message);
    }
}
