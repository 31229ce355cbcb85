package specbeam.model;

import com.sun.jna.Library;
import com.sun.jna.Native;
import com.sun.jna.Platform;

/**
 * Turns ONNX Runtime's telemetry off before the process creates its first ONNX Runtime environment.
 *
 * <p>Why: from 1.29 ONNX Runtime on Linux and macOS starts a telemetry client (Microsoft's 1DS SDK) when the
 * first environment is created, unless {@code ORT_DISABLE_TELEMETRY} is set or a CI variable is. Among other
 * things it matches regular expressions against the process's command line with libstdc++'s backtracking
 * {@code std::regex}, whose recursion grows with the string: a command line of ~4 KB (for example
 * {@code generate --prompt-ids} with 700 ids) overflows the calling thread's 1 MB stack, and the JVM dies with
 * SIGSEGV and no crash log (issue 28; the core dump shows ~10,600 frames of {@code std::regex} under
 * {@code OrtEnvironment.createHandle}). The client also writes a device id and an event cache under
 * {@code ~/.cache/Microsoft} and uploads from a thread of its own, which a benchmark does not want either.
 *
 * <p>The variable has to be in the process's C environment when ONNX Runtime reads it, and Java 17 cannot set
 * one, so libc's {@code setenv} is called through JNA. A value the user already exported is left as it is.
 * {@code -Dspecbeam.ort.telemetry=on} keeps ONNX Runtime's default.
 */
public final class OrtTelemetry {
    static final String VARIABLE = "ORT_DISABLE_TELEMETRY";
    private static String state;   // what was done, once decided (later calls return it)

    private OrtTelemetry() {
    }

    /** The C library's environment calls (POSIX). */
    private interface LibC extends Library {
        int setenv(String name, String value, int overwrite);

        String getenv(String name);
    }

    /**
     * Makes sure {@code ORT_DISABLE_TELEMETRY} is set in the C environment; call before the first ONNX Runtime
     * environment is created (later calls change nothing). Returns what it did, in words.
     */
    public static synchronized String disableBeforeFirstEnvironment() {
        if (state != null) {
            return state;
        }
        String wanted = System.getProperty("specbeam.ort.telemetry", "off");
        if (wanted.equals("on")) {
            return state = "on (-Dspecbeam.ort.telemetry=on)";
        }
        if (!wanted.equals("off")) {
            throw new IllegalArgumentException("-Dspecbeam.ort.telemetry must be 'off' or 'on', not '" + wanted + "'");
        }
        if (!Platform.isLinux() && !Platform.isMac() && !Platform.isFreeBSD()) {
            // Windows telemetry is ETW, inert without a listener; setTelemetry(false) turns its events off too
            return state = "off (no POSIX telemetry client on this platform)";
        }
        try {
            LibC libc = Native.load(Platform.C_LIBRARY_NAME, LibC.class);
            String before = libc.getenv(VARIABLE);
            if (before != null) {
                return state = "as exported (" + VARIABLE + "=" + before + ")";
            }
            if (libc.setenv(VARIABLE, "1", 0) != 0) {
                return state = warn("setenv failed");
            }
            return state = "off (" + VARIABLE + "=1 set by specbeam)";
        } catch (UnsatisfiedLinkError | NoClassDefFoundError e) {
            return state = warn(String.valueOf(e.getMessage()).lines().findFirst().orElse("JNA did not load"));
        }
    }

    private static String warn(String why) {
        System.err.println("specbeam: could not turn ONNX Runtime's telemetry off (" + why + "); export "
                + VARIABLE + "=1 yourself: with it on, a command line of a few KB crashes ONNX Runtime 1.29");
        return "on (" + why + ")";
    }

    /** Whether the user asked for ONNX Runtime's default ({@code -Dspecbeam.ort.telemetry=on}). */
    public static boolean keptOn() {
        return System.getProperty("specbeam.ort.telemetry", "off").equals("on");
    }
}
