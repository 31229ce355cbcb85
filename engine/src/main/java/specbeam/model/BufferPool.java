package specbeam.model;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayDeque;
import java.util.Map;
import java.util.TreeMap;

/**
 * Direct buffers that one model's decoding states hand back when they close or grow, for the next state to take.
 * A fresh direct buffer costs a page fault per 4 KiB when first written: on this project's 2-core VM a batch-4
 * beam generation spent about 100 ms of its 120 ms of Java time faulting in new KV caches (23-50 ms per 14-24 MB
 * allocation), against 0.5 ms for copying the cache itself. A taken buffer is zero-filled like a new one.
 * Buffers no state holds are kept up to {@link #MAX_POOLED_BYTES}; the rest are left to the garbage collector.
 */
final class BufferPool {
    static final long MAX_POOLED_BYTES = 1L << 30;
    private static final byte[] ZEROS = new byte[1 << 16];

    private final TreeMap<Integer, ArrayDeque<ByteBuffer>> idle = new TreeMap<>();   // by capacity in bytes
    private long idleBytes;

    /**
     * A native-order direct buffer of exactly {@code bytes} bytes, zero-filled: a view of an idle buffer of at
     * most twice that size, or a new one. Hand it back with {@link #give}.
     */
    synchronized ByteBuffer take(int bytes) {
        Map.Entry<Integer, ArrayDeque<ByteBuffer>> fit = idle.ceilingEntry(bytes);
        ByteBuffer base;
        if (fit != null && fit.getKey() <= 2L * bytes) {
            base = fit.getValue().pop();
            if (fit.getValue().isEmpty()) {
                idle.remove(fit.getKey());
            }
            idleBytes -= base.capacity();
            for (int at = 0; at < bytes; at += ZEROS.length) {
                base.put(at, ZEROS, 0, Math.min(ZEROS.length, bytes - at));
            }
        } else {
            try {
                base = ByteBuffer.allocateDirect(bytes);
            } catch (OutOfMemoryError e) {   // NativeLimits checked the limit; the JDK's count can still differ
                throw new NativeLimits.LimitExceededException("cannot allocate " + (bytes >> 20) + " MiB of native"
                        + " memory (" + e.getMessage() + "): raise -XX:MaxDirectMemorySize or use fewer prompts or"
                        + " beams, or a shorter prompt or generation");
            }
        }
        return base.slice(0, bytes).order(ByteOrder.nativeOrder());
    }

    /** Hands back a buffer {@link #take} returned (or any direct buffer no one uses any more). */
    synchronized void give(ByteBuffer buffer) {
        if (!buffer.isDirect() || idleBytes + buffer.capacity() > MAX_POOLED_BYTES) {
            return;
        }
        idle.computeIfAbsent(buffer.capacity(), c -> new ArrayDeque<>()).push(buffer);
        idleBytes += buffer.capacity();
    }

    synchronized long idleBytes() {
        return idleBytes;
    }
}
