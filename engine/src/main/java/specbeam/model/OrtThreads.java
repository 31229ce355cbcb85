package specbeam.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession.SessionOptions;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Locale;

/**
 * How ONNX Runtime sessions get their intra-op threads on the CPU. The default is the configuration that
 * gave the lowest time per forward in the side-by-side measurements in README ("Thread pool"); each part can
 * be overridden with a system property ({@code -Dspecbeam.ort.pool=session}, ...) to repeat them.
 *
 * @param sharedPool   {@code true}: every session with the pool's thread count runs on the environment's one
 *                     global pool ({@code specbeam.ort.pool=global}); {@code false}: each session has its own
 *                     pool ({@code specbeam.ort.pool=session})
 * @param spin         worker threads spin-wait for the next parallel section instead of sleeping
 *                     ({@code specbeam.ort.spin=auto|true|false}); without it every operator pays a thread
 *                     wake-up. {@code auto} (the default) spins when the cores are free: other processes used
 *                     less than {@link #AUTO_BUSY_LIMIT} of a core in one of up to five 200 ms looks when the first
 *                     model loaded (a reference run's benchmark forks, deciding on one look, ran greedy
 *                     without spinning in some forks: the JMH host was still busy), because a spinning worker
 *                     that the OS preempts stalls every operator
 * @param stopSpinning the workers stop spinning when a run ends ({@code specbeam.ort.spinStop}, ONNX Runtime's
 *                     {@code session.force_spinning_stop}), so they do not take the cores from the Java code or
 *                     the other model between runs; measured effective on per-session pools only (on the global
 *                     pool a worker still held the second core after a run: README "Thread pool")
 * @param draftThreads intra-op threads of a draft session, 0 = as many as the target
 *                     ({@code specbeam.ort.draftThreads}); a count that differs from the shared pool's gives
 *                     the draft its own pool
 * @param spinReason   why {@code spin} has its value: "set", or what the automatic choice measured
 */
public record OrtThreads(boolean sharedPool, boolean spin, boolean stopSpinning, int draftThreads, String spinReason) {

    /** Cores that other processes may keep busy for the automatic choice to spin. */
    public static final double AUTO_BUSY_LIMIT = 0.5;
    private static final long AUTO_WINDOW_MS = 200;
    /** Looks of {@link #AUTO_WINDOW_MS} before the automatic choice gives up spinning (only if all were busy). */
    private static final int AUTO_WINDOWS = 5;

    public static final OrtThreads DEFAULT = new OrtThreads(true, true, true, 1, "default");

    private static OrtThreads current;

    /**
     * {@link #DEFAULT} with the {@code specbeam.ort.*} system properties applied, resolved once per process
     * (the automatic spin choice measures the other processes' CPU use the first time).
     */
    public static synchronized OrtThreads current() {
        if (current == null) {
            current = fromProperties();
        }
        return current;
    }

    /** {@link #DEFAULT} with the {@code specbeam.ort.*} system properties applied, resolved now. */
    static OrtThreads fromProperties() {
        String pool = System.getProperty("specbeam.ort.pool", DEFAULT.sharedPool ? "global" : "session");
        if (!pool.equals("global") && !pool.equals("session")) {
            throw new IllegalArgumentException("-Dspecbeam.ort.pool must be 'global' or 'session', not '" + pool + "'");
        }
        int draft = Integer.getInteger("specbeam.ort.draftThreads", DEFAULT.draftThreads);
        if (draft < 0) {
            throw new IllegalArgumentException("-Dspecbeam.ort.draftThreads must be >= 0 (0 = as many as the target)");
        }
        String spin = System.getProperty("specbeam.ort.spin", "auto");
        boolean spinning;
        String reason;
        switch (spin) {
            case "true", "false" -> {
                spinning = Boolean.parseBoolean(spin);
                reason = "-Dspecbeam.ort.spin=" + spin;
            }
            case "auto" -> {
                // Up to AUTO_WINDOWS looks: a burst that passes (a benchmark fork starting while the JMH host
                // or the previous fork is still busy) must not decide the whole process; sustained work does.
                double busy = Double.NaN;
                int looks = 0;
                while (looks < AUTO_WINDOWS && !(busy < AUTO_BUSY_LIMIT)) {
                    double now = otherProcessesBusyCores(AUTO_WINDOW_MS);
                    busy = Double.isNaN(busy) ? now : Math.min(busy, now);
                    looks++;
                    if (Double.isNaN(now)) {
                        break;
                    }
                }
                spinning = Double.isNaN(busy) || busy < AUTO_BUSY_LIMIT;
                reason = Double.isNaN(busy) ? "auto: CPU use not readable, ONNX Runtime's default"
                        : String.format(Locale.ROOT, "auto: other processes used %.2f cores (least of %d x %d ms)",
                                busy, looks, AUTO_WINDOW_MS);
            }
            default -> throw new IllegalArgumentException(
                    "-Dspecbeam.ort.spin must be 'auto', 'true' or 'false', not '" + spin + "'");
        }
        return new OrtThreads(pool.equals("global"), spinning, flag("specbeam.ort.spinStop", DEFAULT.stopSpinning),
                draft, reason);
    }

    private static boolean flag(String name, boolean fallback) {
        String v = System.getProperty(name);
        return v == null ? fallback : Boolean.parseBoolean(v);
    }

    /**
     * Cores kept busy by processes other than this one over {@code windowMs}, from Linux's {@code /proc/stat}
     * and {@code /proc/self/stat} (both in clock ticks); NaN where they cannot be read.
     */
    static double otherProcessesBusyCores(long windowMs) {
        try {
            long[] before = cpuTicks();
            long t0 = System.nanoTime();
            Thread.sleep(windowMs);
            long[] after = cpuTicks();
            double seconds = (System.nanoTime() - t0) / 1e9;
            long allBusy = after[0] - before[0];
            long selfBusy = after[1] - before[1];
            return Math.max(0, allBusy - selfBusy) / (TICKS_PER_SECOND * seconds);
        } catch (IOException | RuntimeException e) {
            return Double.NaN;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return Double.NaN;
        }
    }

    private static final double TICKS_PER_SECOND = 100;   // USER_HZ of /proc on Linux

    /** {busy ticks of all CPUs, ticks of this process (user + system)}. */
    private static long[] cpuTicks() throws IOException {
        // cpu  user nice system idle iowait irq softirq steal ...
        String[] cpu = Files.readAllLines(Path.of("/proc/stat")).get(0).trim().split("\\s+");
        long busy = 0;
        for (int i : new int[] {1, 2, 3, 6, 7, 8}) {
            busy += Long.parseLong(cpu[i]);
        }
        // pid (comm) state ... field 14 utime, 15 stime; comm may contain spaces, so count after the last ')'
        String self = Files.readString(Path.of("/proc/self/stat"));
        List<String> rest = List.of(self.substring(self.lastIndexOf(')') + 2).trim().split("\\s+"));
        long own = Long.parseLong(rest.get(11)) + Long.parseLong(rest.get(12));
        return new long[] {busy, own};
    }

    /** Intra-op threads for a draft next to a target of {@code targetThreads}. */
    public int forDraft(int targetThreads) {
        return draftThreads > 0 ? draftThreads : targetThreads;
    }

    /** Short label for reports: {@code global+spin+stop, draft 1 thread (auto: ...)}, ... */
    public String label() {
        return (sharedPool ? "global" : "session") + (spin ? "+spin" : "") + (spin && stopSpinning ? "+stop" : "")
                + (draftThreads > 0 ? ", draft " + draftThreads + " thread" + (draftThreads > 1 ? "s" : "") : "")
                + " (" + spinReason + ")";
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
        if (stopSpinning && spin) {
            options.addConfigEntry("session.force_spinning_stop", "1");
        }
    }
}
