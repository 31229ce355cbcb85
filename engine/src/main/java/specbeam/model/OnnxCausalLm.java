package specbeam.model;

import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtException;
import ai.onnxruntime.OrtSession;
import ai.onnxruntime.OrtSession.SessionOptions;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashSet;
import java.util.Map;
import java.util.Set;

/** One exported model loaded into an ONNX Runtime session. Thread-confined: one generation at a time. */
public final class OnnxCausalLm implements LanguageModel, AutoCloseable {
    private final ModelManifest manifest;
    private final OrtEnvironment env;
    private final OrtSession session;
    private final OrtSession inplaceSession;   // the manifest's in-place graph, or null: see inplaceSession()
    private final ExecutionProvider provider;
    private final Set<String> outputNames;
    private final Path dir;
    private final BufferPool buffers = new BufferPool();
    private final KvBackend kvBackend;         // where states keep their cache (KvBackend)
    private final OrtNative nativeApi;         // the C API, on the bound cache only
    private final com.sun.jna.Pointer sessionHandle;    // OrtSession* of session / inplaceSession, bound only
    private final com.sun.jna.Pointer inplaceHandle;

    private OnnxCausalLm(Path dir, ModelManifest manifest, OrtEnvironment env, OrtSession session,
                         OrtSession inplaceSession, ExecutionProvider provider) {
        this.dir = dir;
        this.manifest = manifest;
        this.env = env;
        this.session = session;
        this.inplaceSession = inplaceSession;
        this.provider = provider;
        KvBackend backend = KvBackend.requested();
        this.boundKvLimit = backend == KvBackend.HOST ? Long.MAX_VALUE   // -Dspecbeam.kv=host: never read
                : NativeLimits.boundKvLimit(provider == ExecutionProvider.CUDA);
        OrtNative api = null;
        if (backend != KvBackend.HOST) {
            try {
                api = OrtNative.get(env);
                try (BoundKv probe = new BoundKv(api, OrtNative.session(session), provider == ExecutionProvider.CUDA,
                        Long.MAX_VALUE)) {
                    BoundKv.Block b = probe.alloc(64);   // allocator and copier both work here
                    probe.copy(b, 0, b, 32, 32);
                }
                backend = KvBackend.BOUND;
            } catch (OrtNative.NativeException | UnsatisfiedLinkError e) {
                if (backend == KvBackend.BOUND) {
                    throw new ModelLoadException("-Dspecbeam.kv=bound: the bound KV cache cannot be used here ("
                            + e.getMessage() + "); run with -Dspecbeam.kv=host or auto", e);
                }
                warnFallback(e.getMessage());
                api = null;
                backend = KvBackend.HOST;
            }
        }
        this.kvBackend = backend;
        this.nativeApi = api;
        this.sessionHandle = api == null ? null : OrtNative.session(session);
        this.inplaceHandle = api == null || inplaceSession == null ? null : OrtNative.session(inplaceSession);
        Set<String> names = new LinkedHashSet<>();
        names.add(manifest.outputs().get("logits"));
        for (int i = 0; i < manifest.numLayers(); i++) {
            names.add(manifest.outputName("present_key", i));
            names.add(manifest.outputName("present_value", i));
        }
        this.outputNames = Set.copyOf(names);
    }

    /**
     * Loads {@code dir} (manifest, checksum-verified {@code model.onnx}) into a session.
     *
     * @param requested CUDA is tried when asked for; if its libraries do not load, the session runs on CPU
     *                  and one line on stderr says so
     * @param threads   intra-op threads (CPU)
     */
    public static OnnxCausalLm load(Path dir, ExecutionProvider requested, int threads) {
        ModelManifest manifest = ModelManifest.read(dir);
        Path model = dir.resolve("model.onnx");
        if (!Files.isRegularFile(model)) {
            throw new ModelLoadException(dir + " has no model.onnx (re-export the model with models/export.py)");
        }
        verifyChecksums(dir, manifest);
        OrtEnvironment env = environment(threads);
        ExecutionProvider used = requested;
        try (SessionOptions options = new SessionOptions()) {
            options.setOptimizationLevel(SessionOptions.OptLevel.ALL_OPT);
            options.setExecutionMode(SessionOptions.ExecutionMode.SEQUENTIAL);
            OrtThreads.current().configure(options, threads, poolThreads);
            if (requested == ExecutionProvider.CUDA) {
                try {
                    options.addCUDA(0);
                } catch (OrtException | RuntimeException | UnsatisfiedLinkError e) {
                    System.err.println("specbeam: CUDA provider unavailable (" + oneLine(e.getMessage())
                            + "); running on CPU");
                    used = ExecutionProvider.CPU;
                }
            }
            OrtSession session = env.createSession(model.toString(), options);
            checkSignature(session, manifest, model);
            OrtSession inplace = null;
            if (manifest.inplace() != null && used == ExecutionProvider.CPU && inplaceWanted()) {
                Path file = dir.resolve(manifest.inplace().file());
                if (!Files.isRegularFile(file)) {
                    session.close();
                    throw new ModelLoadException(dir + " lacks " + manifest.inplace().file()
                            + " named in its manifest's 'inplace' entry (re-export the model)");
                }
                try {
                    inplace = env.createSession(file.toString(), options);
                } catch (OrtException e) {
                    session.close();
                    throw new ModelLoadException(file + " cannot be loaded by ONNX Runtime (" + oneLine(e.getMessage())
                            + "); the file is corrupt or not an exported model: re-export it with models/export.py", e);
                }
                for (String key : new String[] {"seqlens_k", "total_sequence_length", "logits_from"}) {
                    String name = key.equals("logits_from") ? manifest.inputs().get(key) : manifest.inplace().inputs().get(key);
                    if (name != null && !inplace.getInputNames().contains(name)) {
                        inplace.close();
                        session.close();
                        throw new ModelLoadException(file + " lacks input '" + name
                                + "' named in its manifest: re-export the model with models/export.py");
                    }
                }
            }
            return new OnnxCausalLm(dir, manifest, env, session, inplace, used);
        } catch (OrtException e) {
            throw new ModelLoadException(model + " cannot be loaded by ONNX Runtime (" + oneLine(e.getMessage())
                    + "); the file is corrupt or not an exported model: re-export it with models/export.py", e);
        }
    }

    private static void checkSignature(OrtSession session, ModelManifest m, Path model) throws OrtException {
        Set<String> inputs = session.getInputNames();
        for (String key : new String[] {"input_ids", "position_ids", "attention_mask"}) {
            if (!inputs.contains(m.inputs().get(key))) {
                session.close();
                throw new ModelLoadException(model + " lacks input '" + m.inputs().get(key)
                        + "' named in its manifest: re-export it with models/export.py");
            }
        }
        if (m.inputs().containsKey("logits_from") && !inputs.contains(m.inputs().get("logits_from"))) {
            session.close();
            throw new ModelLoadException(model + " lacks input '" + m.inputs().get("logits_from")
                    + "' named in its manifest: re-export it with models/export.py");
        }
        if (!inputs.contains(m.inputName("past_key", m.numLayers() - 1))) {
            session.close();
            throw new ModelLoadException(model + " has fewer layers than its manifest says (" + m.numLayers() + ")");
        }
    }

    private static void verifyChecksums(Path dir, ModelManifest manifest) {
        Map<String, String> files = manifest.files();
        if (files == null) {
            return;
        }
        for (Map.Entry<String, String> e : files.entrySet()) {
            if (!e.getKey().endsWith(".onnx") && !e.getKey().startsWith("model.onnx")) {
                continue;
            }
            Path file = dir.resolve(e.getKey());
            if (!Files.isRegularFile(file)) {
                throw new ModelLoadException(dir + " lacks " + e.getKey() + " listed in its manifest (re-export the model)");
            }
            String expected = e.getValue().startsWith("sha256:") ? e.getValue().substring(7) : e.getValue();
            String actual = sha256(file);
            if (!actual.equalsIgnoreCase(expected)) {
                throw new ModelLoadException(file + " does not match its manifest checksum (sha256 " + actual
                        + ", manifest " + expected + "): the file is corrupt or was changed; re-export the model");
            }
        }
    }

    private static OrtEnvironment environment;
    private static int poolThreads;   // threads of the environment's global pool

    /**
     * The process-wide ONNX Runtime environment, created on first use; its global intra-op pool of
     * {@code threads} threads is what sessions share when {@link OrtThreads} says so. ONNX Runtime's own log is
     * off: the engine reports every problem itself (exceptions, and the one CUDA fallback line). So is its
     * telemetry ({@link OrtTelemetry}: on Linux it crashed the JVM on long command lines).
     */
    public static synchronized OrtEnvironment environment(int threads) {
        if (environment == null) {
            OrtTelemetry.disableBeforeFirstEnvironment();   // before ONNX Runtime reads its environment
            try (OrtEnvironment.ThreadingOptions pool = new OrtEnvironment.ThreadingOptions()) {
                OrtThreads.current().configure(pool, threads);
                poolThreads = Math.max(1, threads);
                environment = OrtEnvironment.getEnvironment(ai.onnxruntime.OrtLoggingLevel.ORT_LOGGING_LEVEL_FATAL,
                        "specbeam", pool);
                if (!OrtTelemetry.keptOn()) {   // its events off too, whatever the variable did
                    environment.setTelemetry(false);
                }
            } catch (OrtException e) {
                throw new IllegalStateException("cannot create the ONNX Runtime environment", e);
            }
        }
        return environment;
    }

    static String sha256(Path file) {
        try (InputStream in = Files.newInputStream(file)) {
            MessageDigest digest = MessageDigest.getInstance("SHA-256");
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) > 0; ) {
                digest.update(buf, 0, n);
            }
            return HexFormat.of().formatHex(digest.digest());
        } catch (IOException e) {
            throw new ModelLoadException("cannot read " + file + ": " + e.getMessage(), e);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String oneLine(String s) {
        if (s == null) {
            return "no details";
        }
        String t = s.strip();
        int nl = t.indexOf('\n');
        return nl < 0 ? t : t.substring(0, nl);
    }

    /**
     * A fresh decoding state over {@code rows} rows of {@code capacity} positions each.
     *
     * @param timer receives the nanoseconds spent inside ONNX Runtime and KV bytes copied
     */
    @Override
    public LmState newState(int rows, int capacity, OrtTimer timer) {
        if (capacity > manifest.maxPositions()) {
            capacity = manifest.maxPositions();
        }
        return new OnnxLmState(this, rows, capacity, timer);
    }

    @Override
    public TreeState newTreeState(int rows, int capacity, int maxCapacity, OrtTimer timer) {
        return new OnnxTreeState(this, rows, capacity, maxCapacity, timer);
    }

    public ModelManifest manifest() {
        return manifest;
    }

    public ExecutionProvider provider() {
        return provider;
    }

    public Path directory() {
        return dir;
    }

    private static boolean warned;

    private static synchronized void warnFallback(String why) {
        if (!warned) {
            warned = true;
            System.err.println("specbeam: the bound KV cache is unavailable (" + why + "); keeping the cache in "
                    + "direct buffers (-Dspecbeam.kv=host)");
        }
    }

    /** Where this model's decoding states keep their KV cache. */
    public KvBackend kvBackend() {
        return kvBackend;
    }

    private final long boundKvLimit;   // -Dspecbeam.kv.maxBytes or its default, read at load
    private BoundKv boundKv;   // the bound cache's memory, shared by this model's states; created on first use
    private boolean closed;

    /** The bound cache's memory of this model's states (bound backend only); freed by {@link #close}. */
    synchronized BoundKv boundKv() {
        if (closed) {
            throw new IllegalStateException("the model " + dir + " is closed");
        }
        if (boundKv == null) {
            boundKv = new BoundKv(nativeApi, sessionHandle, provider == ExecutionProvider.CUDA, boundKvLimit);
        }
        return boundKv;
    }

    /** Whether {@link #close} has run: a state's forward then fails instead of touching freed native memory. */
    synchronized boolean isClosed() {
        return closed;
    }

    com.sun.jna.Pointer sessionHandle() {
        return sessionHandle;
    }

    com.sun.jna.Pointer inplaceHandle() {
        return inplaceHandle;
    }

    /** Direct buffers this model's decoding states hand on to each other ({@link BufferPool}). */
    BufferPool buffers() {
        return buffers;
    }

    OrtEnvironment env() {
        return env;
    }

    OrtSession session() {
        return session;
    }

    /**
     * The in-place graph's session (GroupQueryAttention writing new keys/values into the cache buffer), or null
     * when the manifest has none, the model runs on CUDA (the operator has no float32 CUDA kernel), or
     * {@code -Dspecbeam.inplace=false} turns it off for a side-by-side measurement.
     */
    OrtSession inplaceSession() {
        return inplaceSession;
    }

    /** {@code -Dspecbeam.inplace}: {@code true} (default) runs the in-place graph where the manifest has one. */
    static boolean inplaceWanted() {
        String v = System.getProperty("specbeam.inplace", "true");
        if (!v.equals("true") && !v.equals("false")) {
            throw new IllegalArgumentException("-Dspecbeam.inplace must be 'true' or 'false', not '" + v + "'");
        }
        return v.equals("true");
    }

    Set<String> outputNames() {
        return outputNames;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
            if (boundKv != null) {
                boundKv.close();   // before the session its allocator came from
            }
        }
        try {
            if (inplaceSession != null) {
                inplaceSession.close();
            }
            session.close();
        } catch (OrtException e) {
            throw new IllegalStateException("closing the ONNX Runtime session failed", e);
        }
    }

    /** Where a state reports ONNX Runtime time and cache bytes moved. */
    public interface OrtTimer {
        void ortNanos(long nanos, int tokensFed);

        /**
         * Bytes of KV cache written or moved: the new entries of a forward (written by ONNX Runtime in place, or
         * copied from model.onnx's outputs) and every later move.
         */
        void kvBytes(long bytes);

        /** Bytes of KV cache moved after they were stored (rows reordered, paths gathered, compaction, growth). */
        default void kvBytesMoved(long bytes) {
            kvBytes(bytes);
        }

        /** Bytes of KV cache copied by Java code (direct buffers only; the bound cache copies inside ONNX Runtime). */
        default void kvBytesThroughJava(long bytes) {
        }

        /**
         * Bytes of host memory one forward reads as inputs ({@code toProvider}: ids, positions, mask, and on direct
         * buffers the past cache) and writes as outputs ({@code fromProvider}: the logits kept, and on direct
         * buffers the new keys/values): what a device provider would move across the bus.
         */
        default void hostIo(long toProvider, long fromProvider) {
        }

        /** Positions a forward computed that are no tree node (rows padded to the longest row of the call). */
        default void paddedPositions(long positions) {
        }

        /** One forward: {@code fed} real tokens and {@code padded} padding positions took {@code nanos}. */
        default void forward(long nanos, int fed, long padded) {
            ortNanos(nanos, fed);
            paddedPositions(padded);
        }
    }
}
