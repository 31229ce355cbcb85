package specbeam.text;

/**
 * A chat template that is missing, malformed or refuses its messages, or a messages file that is not a
 * conversation: a user's mistake, reported in one line (exit 2 on the command line, HTTP 400 from {@code serve}).
 */
public final class ChatTemplateException extends IllegalArgumentException {
    public ChatTemplateException(String message) {
        super(message);
    }
}
