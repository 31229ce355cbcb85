package specbeam.model;

import com.sun.jna.Native;
import com.sun.jna.NativeLibrary;
import com.sun.jna.Platform;
import com.sun.jna.Pointer;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Memory owned through ONNX Runtime for a decoding state's keys and values (the bound cache, {@code -Dspecbeam.kv}):
 * blocks from the session's own allocator (CPU memory on the CPU provider, device memory on CUDA), tensors over
 * them handed to IoBinding, and copies between them made natively ({@link Copier}: libc's {@code memmove} for CPU
 * memory, the CUDA runtime's {@code cudaMemcpy} for device memory), so that no cache byte passes through Java on
 * any provider. One per model, shared by its states like {@link BufferPool}: a block a state hands back is kept
 * (up to {@link BufferPool#MAX_POOLED_BYTES}) for the next state, so that generation after generation neither the
 * allocator nor the process grows; {@link #close} (with the model) frees every block.
 *
 * <p>Why not ONNX Runtime's own {@code CopyTensors} (C API 1.23): it copies through the data transfers that plugin
 * execution providers register with the environment, and the built-in CPU and CUDA providers register none; on
 * 1.29 it answers "Data transfer implementation between source and destination device was not found" even for
 * CPU to CPU.
 */
final class BoundKv implements AutoCloseable {
    private final OrtNative api;
    private final Pointer info;        // the provider's memory
    private final Pointer allocator;   // the session's allocator for it
    private final Copier copier;       // native copies within the provider's memory
    private final List<Block> blocks = new ArrayList<>();            // every block not freed
    private final TreeMap<Long, ArrayDeque<Block>> idle = new TreeMap<>();   // handed back, by size
    private long idleBytes;
    private long allocatedBytes;        // bytes of every block not freed (held and idle)
    private final long limit;           // most bytes held at once (NativeLimits.boundKvLimit)
    private boolean closed;

    /** A block of provider memory: {@code bytes} bytes at {@code address}. */
    static final class Block {
        final Pointer address;
        final long bytes;
        private boolean freed;
        private boolean idle;

        private Block(Pointer address, long bytes) {
            this.address = address;
            this.bytes = bytes;
        }
    }

    /** {@code limit}: the most bytes its blocks may hold at once ({@link NativeLimits#boundKvLimit}). */
    BoundKv(OrtNative api, Pointer session, boolean cuda, long limit) {
        this.api = api;
        this.info = api.memoryInfo(cuda, 0);
        Pointer a;
        try {
            a = api.allocator(session, info);
        } catch (RuntimeException e) {
            api.releaseMemoryInfo(info);
            throw e;
        }
        this.allocator = a;
        this.copier = cuda ? Copier.cuda() : Copier.cpu();
        this.limit = limit;
    }

    /** Copies and clears within one kind of memory, natively. */
    interface Copier {
        void copy(Pointer dst, Pointer src, long bytes);

        void clear(Pointer dst, long bytes);

        /** CPU memory: libc's memmove and memset, direct-mapped. */
        static Copier cpu() {
            return new Copier() {
                @Override
                public void copy(Pointer dst, Pointer src, long bytes) {
                    LibC.memmove(dst, src, bytes);
                }

                @Override
                public void clear(Pointer dst, long bytes) {
                    LibC.memset(dst, 0, bytes);
                }
            };
        }

        /**
         * CUDA device memory: the CUDA runtime the CUDA provider loaded ({@code cudaMemcpy} device to device,
         * {@code cudaMemset}), both ordered after the work queued on the default stream. Not run on this
         * project's machines (no GPU with Java): see the README's GPU section.
         */
        static Copier cuda() {
            NativeLibrary cudart = NativeLibrary.getInstance("cudart");
            com.sun.jna.Function memcpy = cudart.getFunction("cudaMemcpy");
            com.sun.jna.Function memset = cudart.getFunction("cudaMemset");
            return new Copier() {
                @Override
                public void copy(Pointer dst, Pointer src, long bytes) {
                    check(memcpy.invokeInt(new Object[] {dst, src, bytes, 3}), "cudaMemcpy");   // DeviceToDevice
                }

                @Override
                public void clear(Pointer dst, long bytes) {
                    check(memset.invokeInt(new Object[] {dst, 0, bytes}), "cudaMemset");
                }

                private void check(int error, String what) {
                    if (error != 0) {
                        throw new OrtNative.NativeException(what + " failed with CUDA error " + error);
                    }
                }
            };
        }
    }

    /** libc, direct-mapped (a call costs about a JNI call). */
    private static final class LibC {
        static {
            Native.register(Platform.C_LIBRARY_NAME);
        }

        static native Pointer memmove(Pointer dst, Pointer src, long bytes);

        static native Pointer memset(Pointer dst, int value, long bytes);
    }

    /**
     * Checks, before a state takes any of the blocks of one region, that {@code bytes} more fit beside the blocks
     * other states hold ({@link NativeLimits#checkBoundKv}), and frees idle blocks where the new ones would
     * otherwise take the total past the limit: what the region takes afterwards stays within it.
     */
    synchronized void reserve(String what, long bytes) {
        open();
        NativeLimits.checkBoundKv(what, bytes, allocatedBytes - idleBytes, limit);
        while (allocatedBytes + bytes > limit && !idle.isEmpty()) {
            var largest = idle.lastEntry();
            Block b = largest.getValue().pop();
            if (largest.getValue().isEmpty()) {
                idle.remove(largest.getKey());
            }
            idleBytes -= b.bytes;
            b.idle = false;
            release(b);
        }
    }

    /**
     * A zeroed block of {@code bytes} bytes (masked slots are read as 0 times their weight: never garbage): an idle
     * one of exactly that size, or a new one.
     */
    synchronized Block alloc(long bytes) {
        open();
        ArrayDeque<Block> same = idle.get(bytes);
        Block b;
        if (same != null) {
            b = same.pop();
            if (same.isEmpty()) {
                idle.remove(bytes);
            }
            idleBytes -= bytes;
            b.idle = false;
        } else {
            b = new Block(api.alloc(allocator, bytes), bytes);
            blocks.add(b);
            allocatedBytes += bytes;
        }
        copier.clear(b.address, bytes);
        return b;
    }

    /** Hands a block back: kept for the next state while the idle ones stay under the pool's limit, else freed. */
    synchronized void free(Block b) {
        if (b == null || b.freed || b.idle || closed) {
            return;
        }
        if (idleBytes + b.bytes <= BufferPool.MAX_POOLED_BYTES) {
            b.idle = true;
            idle.computeIfAbsent(b.bytes, k -> new ArrayDeque<>()).push(b);
            idleBytes += b.bytes;
            return;
        }
        release(b);
    }

    private void release(Block b) {
        b.freed = true;
        blocks.remove(b);
        allocatedBytes -= b.bytes;
        api.free(allocator, b.address);
    }

    /** A tensor over {@code shape} elements of {@code type} at byte {@code offset} of a block (release it). */
    Pointer view(Block b, long offset, long bytes, long[] shape, int type) {
        open();
        if (offset < 0 || offset + bytes > b.bytes) {
            throw new IllegalArgumentException("a view of bytes " + offset + ".." + (offset + bytes) + " of a block of "
                    + b.bytes);
        }
        return api.tensor(info, b.address.share(offset), bytes, shape, type);
    }

    void release(Pointer value) {
        if (value != null) {
            api.releaseValue(value);
        }
    }

    /** Copies {@code bytes} bytes between blocks (or within one; overlapping ranges are allowed). */
    void copy(Block from, long fromOffset, Block to, long toOffset, long bytes) {
        if (bytes <= 0) {
            return;
        }
        open();
        if (fromOffset < 0 || fromOffset + bytes > from.bytes || toOffset < 0 || toOffset + bytes > to.bytes) {
            throw new IllegalArgumentException("a copy of " + bytes + " bytes from " + fromOffset + " of a block of "
                    + from.bytes + " to " + toOffset + " of a block of " + to.bytes);
        }
        copier.copy(to.address.share(toOffset), from.address.share(fromOffset), bytes);
    }

    OrtNative api() {
        return api;
    }

    /** Blocks allocated and not freed (held by states or idle), and their bytes: what the pool holds natively. */
    synchronized long[] allocated() {
        long bytes = 0;
        for (Block b : blocks) {
            bytes += b.bytes;
        }
        return new long[] {blocks.size(), bytes};
    }

    /** Bytes of the idle blocks, kept for the next state. */
    synchronized long idleBytes() {
        return idleBytes;
    }

    /** Refuses work once closed (its allocator and memory are gone): an exception, never a crash. */
    private void open() {
        if (closed) {
            throw new IllegalStateException("the bound KV cache is closed (its model or state was closed)");
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        for (Block b : blocks) {
            b.freed = true;
            api.free(allocator, b.address);
        }
        blocks.clear();
        idle.clear();
        idleBytes = 0;
        allocatedBytes = 0;
        api.releaseAllocator(allocator);
        api.releaseMemoryInfo(info);
    }
}
