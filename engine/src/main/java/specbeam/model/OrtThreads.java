package specbeam.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession.SessionOptions;

/**
 * How ONNX Runtime sessions get their intra-op threads on the CPU. The default is the configuration that
 * gave the lowest time per forward in the side-by-side measurements in README ("Thread pool"); each part can
 * be overridden with a system property ({@code -Dspecbeam.ort.pool=session}, ...) to repeat them.
 *
 * @param sharedPool   {@code true}: every session with the pool's thread count runs on the environment's one
 *                     global pool ({@code specbeam.ort.pool=global}); {@code false}: each session has its own
 *                     pool ({@code specbeam.ort.pool=session})
 * @param spin         worker threads spin-wait for the next parallel section instead of sleeping
 *                     ({@code specbeam.ort.spin}); without it every operator pays a thread wake-up
 * @param stopSpinning the workers stop spinning when a run ends ({@code specbeam.ort.spinStop}, ONNX Runtime's
 *                     {@code session.force_spinning_stop}), so they do not take the cores from the Java code or
 *                     the other model between runs
 * @param draftThreads intra-op threads of a draft session, 0 = as many as the target
 *                     ({@code specbeam.ort.draftThreads}); a count that differs from the shared pool's gives
 *                     the draft its own pool
 */
public record OrtThreads(boolean sharedPool, boolean spin, boolean stopSpinning, int draftThreads) {

    public static final OrtThreads DEFAULT = new OrtThreads(true, false, false, 1);

    /** {@link #DEFAULT} with the {@code specbeam.ort.*} system properties applied. */
    public static OrtThreads current() {
        String pool = System.getProperty("specbeam.ort.pool", DEFAULT.sharedPool ? "global" : "session");
        if (!pool.equals("global") && !pool.equals("session")) {
            throw new IllegalArgumentException("-Dspecbeam.ort.pool must be 'global' or 'session', not '" + pool + "'");
        }
        int draft = Integer.getInteger("specbeam.ort.draftThreads", DEFAULT.draftThreads);
        if (draft < 0) {
            throw new IllegalArgumentException("-Dspecbeam.ort.draftThreads must be >= 0 (0 = as many as the target)");
        }
        return new OrtThreads(pool.equals("global"),
                flag("specbeam.ort.spin", DEFAULT.spin), flag("specbeam.ort.spinStop", DEFAULT.stopSpinning), draft);
    }

    private static boolean flag(String name, boolean fallback) {
        String v = System.getProperty(name);
        return v == null ? fallback : Boolean.parseBoolean(v);
    }

    /** Intra-op threads for a draft next to a target of {@code targetThreads}. */
    public int forDraft(int targetThreads) {
        return draftThreads > 0 ? draftThreads : targetThreads;
    }

    /** Short label for reports: {@code global+spin}, {@code session+spin+stop, draft 1 thread}, ... */
    public String label() {
        return (sharedPool ? "global" : "session") + (spin ? "+spin" : "") + (stopSpinning ? "+stop" : "")
                + (draftThreads > 0 ? ", draft " + draftThreads + " thread" + (draftThreads > 1 ? "s" : "") : "");
    }

    void configure(OrtEnvironment.ThreadingOptions global, int threads) throws OrtException {
        global.setGlobalIntraOpNumThreads(Math.max(1, threads));
        global.setGlobalInterOpNumThreads(1);
        global.setGlobalSpinControl(spin);
    }

    /** Session options for a session of {@code threads} next to a global pool of {@code poolThreads}. */
    void configure(SessionOptions options, int threads, int poolThreads) throws OrtException {
        if (sharedPool && threads == poolThreads) {
            options.disablePerSessionThreads();
        } else {
            options.setIntraOpNumThreads(threads);
            options.setInterOpNumThreads(1);
            options.addConfigEntry("session.intra_op.allow_spinning", spin ? "1" : "0");
        }
        if (stopSpinning) {
            options.addConfigEntry("session.force_spinning_stop", "1");
        }
    }
}
