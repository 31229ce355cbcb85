package specbeam.decode;

import java.util.Locale;

/** Hugging Face's {@code early_stopping} for beam search: {@code True}, {@code False} or {@code "never"}. */
public enum EarlyStopping {
    /** Stop as soon as {@code beamWidth} finished hypotheses exist. */
    TRUE,
    /** Stop when no running beam can beat the worst finished one (heuristic on the current length). */
    FALSE,
    /** Canonical beam search: stop only when no running beam can improve, even at the maximum length. */
    NEVER;

    public static EarlyStopping parse(String text) {
        return switch (text.trim().toLowerCase(Locale.ROOT)) {
            case "true" -> TRUE;
            case "false" -> FALSE;
            case "never" -> NEVER;
            default -> throw new IllegalArgumentException(
                    "unknown early-stopping value '" + text + "': use true, false or never");
        };
    }

    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }
}
