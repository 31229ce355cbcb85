package specbeam.suite;

import java.util.Locale;

/** The grid's axes, named as the JMH {@code @Param} fields of {@code specbeam.bench.DecodeBenchmark}. */
public enum Axis {
    MODE("mode"),
    K("k"),
    BEAM_WIDTH("beamWidth"),
    ADAPTIVE("adaptive"),
    PROVIDER("provider"),
    BATCH("batch"),
    MAX_NEW_TOKENS("maxNewTokens");

    private final String param;

    Axis(String param) {
        this.param = param;
    }

    /** The JMH parameter name, as given with {@code -p name=v1,v2}. */
    public String param() {
        return param;
    }

    public static Axis byParam(String name) {
        for (Axis a : values()) {
            if (a.param.equals(name)) {
                return a;
            }
        }
        return null;
    }

    int parseInt(String value) {
        try {
            return Integer.parseInt(value.trim());
        } catch (NumberFormatException | NullPointerException e) {
            throw new IllegalArgumentException(param + " must be a whole number, got '" + value + "'");
        }
    }

    boolean parseBoolean(String value) {
        String v = value == null ? "" : value.trim().toLowerCase(Locale.ROOT);
        return switch (v) {
            case "true", "on", "1" -> true;
            case "false", "off", "0" -> false;
            default -> throw new IllegalArgumentException(param + " must be true or false, got '" + value + "'");
        };
    }
}
