package specbeam.decode;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

/** The decoding strategies the engine offers; each speculative mode has a target-only counterpart. */
public enum Mode {
    GREEDY(false, false),
    BEAM(false, true),
    SAMPLING(false, false),
    SPECULATIVE(true, false),
    SPECULATIVE_BEAM(true, true),
    SPECULATIVE_SAMPLING(true, false);

    private final boolean speculative;
    private final boolean beam;

    Mode(boolean speculative, boolean beam) {
        this.speculative = speculative;
        this.beam = beam;
    }

    /** Whether this mode needs a draft model and uses {@code k}. */
    public boolean isSpeculative() {
        return speculative;
    }

    /** Whether this mode uses {@code beamWidth}. */
    public boolean isBeam() {
        return beam;
    }

    /** Whether this mode draws random numbers (and so uses temperature, top-k, top-p and the seed). */
    public boolean isSampling() {
        return this == SAMPLING || this == SPECULATIVE_SAMPLING;
    }

    /** The target-only mode whose output this mode must reproduce. */
    public Mode baseline() {
        return switch (this) {
            case SPECULATIVE -> GREEDY;
            case SPECULATIVE_BEAM -> BEAM;
            case SPECULATIVE_SAMPLING -> SAMPLING;
            default -> this;
        };
    }

    /** Lower-case name as used on the command line, in CSV files and JMH parameters. */
    public String id() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** Parses {@code greedy}, {@code speculative_beam}, ... (also accepts {@code speculative_sample}). */
    public static Mode parse(String text) {
        String key = text.trim().toUpperCase(Locale.ROOT).replace('-', '_');
        if (key.equals("SPECULATIVE_SAMPLE")) {
            key = "SPECULATIVE_SAMPLING";
        }
        for (Mode mode : values()) {
            if (mode.name().equals(key)) {
                return mode;
            }
        }
        throw new IllegalArgumentException("unknown mode '" + text + "': use one of "
                + Arrays.stream(values()).map(Mode::id).collect(Collectors.joining(", ")));
    }
}
