package specbeam.model;

import ai.onnxruntime.OnnxTensor;
import ai.onnxruntime.OnnxTensorLike;
import ai.onnxruntime.OrtEnvironment;
import ai.onnxruntime.OrtSession;
import com.sun.jna.Function;
import com.sun.jna.Memory;
import com.sun.jna.Pointer;
import com.sun.jna.ptr.PointerByReference;

import java.lang.reflect.Field;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The parts of ONNX Runtime's C API that its Java API lacks: IoBinding, allocators, tensors over native memory
 * and device copies (microsoft/onnxruntime issue 26209), called through JNA on the library the Java API has
 * already loaded.
 *
 * <p>Why JNA: it is on Maven Central and runs on the JDK 17 every machine here has; the foreign function API is
 * final only from JDK 22, and a JNI shim would need a compiler and a native build per platform. The calls made
 * per forward are a handful (rebinding the host inputs and {@code RunWithBinding}), so JNA's microseconds per
 * call do not show next to a forward.
 *
 * <p>How it reaches the API: the Java API keeps the {@code const OrtApi*} it got from {@code OrtGetApiBase()} in
 * {@code ai.onnxruntime.OnnxRuntime.ortApiHandle}, and every Java object keeps its native pointer in a
 * {@code nativeHandle} field; both are read by reflection. {@code OrtApi} is a table of function pointers that
 * only ever grows at its end, so a function's index is fixed from the version that added it on; the indices
 * below were counted from {@code onnxruntime_c_api.h} (API version 30) and checked against the offsets the Java
 * API's own JNI library calls ({@code CreateRunOptions} 39, {@code GetAllocatorWithDefaultOptions} 78,
 * {@code ReleaseRunOptions} 97). The newest function used, {@code SynchronizeBoundOutputs} (203), is in every
 * runtime from 1.10 on; an older one is refused by {@link #get} with a message saying so.
 */
final class OrtNative {
    // Indices into OrtApi (onnxruntime_c_api.h). Checked: see the class comment and OrtNativeTest.
    private static final int CREATE_STATUS = 0;
    private static final int GET_ERROR_MESSAGE = 2;
    private static final int CREATE_TENSOR_WITH_DATA = 49;
    private static final int CREATE_CPU_MEMORY_INFO = 69;
    private static final int CREATE_MEMORY_INFO = 68;
    private static final int ALLOCATOR_ALLOC = 75;
    private static final int ALLOCATOR_FREE = 76;
    private static final int RELEASE_MEMORY_INFO = 94;
    private static final int RELEASE_STATUS = 93;
    private static final int RELEASE_VALUE = 96;
    private static final int CREATE_IO_BINDING = 134;
    private static final int RELEASE_IO_BINDING = 135;
    private static final int BIND_INPUT = 136;
    private static final int BIND_OUTPUT = 137;
    private static final int RUN_WITH_BINDING = 133;
    private static final int CREATE_ALLOCATOR = 131;
    private static final int RELEASE_ALLOCATOR = 132;
    private static final int SYNCHRONIZE_BOUND_OUTPUTS = 203;

    static final int FLOAT = 1;      // ONNXTensorElementDataType
    static final int FLOAT16 = 10;
    private static final int ARENA_ALLOCATOR = 1;   // OrtAllocatorType
    private static final int DEVICE_ALLOCATOR = 0;
    private static final int MEM_TYPE_DEFAULT = 0;  // OrtMemType

    /** The oldest ONNX Runtime whose C API has every function used here (IoBinding: 1.x; tested on 1.29). */
    static final int[] MIN_VERSION = {1, 10};

    private static OrtNative instance;
    private static String unavailable;   // why the API cannot be used here, once known

    private final Pointer api;
    private final Function[] functions = new Function[512];

    private final Map<String, Memory> names = new ConcurrentHashMap<>();   // graph names as C strings (a few hundred)
    private final ThreadLocal<PointerByReference> out = ThreadLocal.withInitial(PointerByReference::new);   // one per
                                             // thread, reused: no native garbage per call for the collector to find

    private OrtNative(long apiHandle) {
        this.api = new Pointer(apiHandle);
    }

    /** A failure inside ONNX Runtime's C API: its own message. */
    static final class NativeException extends IllegalStateException {
        NativeException(String message) {
            super(message);
        }
    }

    /**
     * The C API of the ONNX Runtime that {@code env} runs on. Throws {@link NativeException} saying why when it
     * cannot be used (the runtime too old, JNA missing, the Java API's fields not where this version expects).
     */
    static synchronized OrtNative get(OrtEnvironment env) {
        if (instance != null) {
            return instance;
        }
        if (unavailable != null) {
            throw new NativeException(unavailable);
        }
        try {
            String version = env.getVersion();
            if (!atLeast(version, MIN_VERSION)) {
                throw new NativeException("ONNX Runtime " + version + " is older than " + MIN_VERSION[0] + "."
                        + MIN_VERSION[1] + ", whose C API this binding was not written for");
            }
            Class<?> runtime = Class.forName("ai.onnxruntime.OnnxRuntime");
            long apiHandle = staticLong(runtime, "ortApiHandle");
            if (apiHandle == 0) {
                throw new NativeException("the ONNX Runtime Java API has not loaded its C API yet");
            }
            OrtNative n = new OrtNative(apiHandle);
            n.selfCheck();
            return instance = n;
        } catch (NativeException e) {
            unavailable = e.getMessage();
            throw e;
        } catch (ReflectiveOperationException | RuntimeException | LinkageError e) {
            unavailable = "the ONNX Runtime C API cannot be reached from Java (" + e + ")";
            throw new NativeException(unavailable);
        }
    }

    private static boolean atLeast(String version, int[] min) {
        String[] parts = version.split("[.-]");
        for (int i = 0; i < min.length; i++) {
            int v = i < parts.length && parts[i].matches("\\d+") ? Integer.parseInt(parts[i]) : 0;
            if (v != min[i]) {
                return v > min[i];
            }
        }
        return true;
    }

    private static long staticLong(Class<?> type, String name) throws ReflectiveOperationException {
        Field f = type.getDeclaredField(name);
        f.setAccessible(true);
        return f.getLong(null);
    }

    private static final Map<Class<?>, Field> HANDLES = new ConcurrentHashMap<>();   // nativeHandle, per class

    /** The native pointer a Java API object keeps in its {@code nativeHandle} field (declared on {@code type}). */
    private static long handle(Object o, Class<?> type) {
        try {
            Field f = HANDLES.get(type);
            if (f == null) {
                f = type.getDeclaredField("nativeHandle");
                f.setAccessible(true);
                HANDLES.put(type, f);
            }
            return f.getLong(o);
        } catch (ReflectiveOperationException e) {
            throw new NativeException("this ONNX Runtime Java API keeps no nativeHandle in " + type.getName());
        }
    }

    /** The {@code OrtSession*} of a Java session. */
    static Pointer session(OrtSession s) {
        return new Pointer(handle(s, OrtSession.class));
    }

    /** The {@code OrtValue*} of a Java tensor (it stays owned by the tensor). */
    static Pointer value(OnnxTensor t) {
        return new Pointer(handle(t, OnnxTensorLike.class));
    }

    private Function fn(int index) {
        Function f = functions[index];
        if (f == null) {
            Pointer p = api.getPointer(8L * index);
            if (p == null) {
                throw new NativeException("ONNX Runtime's C API has no function at index " + index);
            }
            f = functions[index] = Function.getFunction(p);
        }
        return f;
    }

    /** Calls a function returning {@code OrtStatus*}; a non-null status becomes a {@link NativeException}. */
    private void call(int index, String what, Object... args) {
        Pointer status = fn(index).invokePointer(args);
        if (status != null) {
            String message = fn(GET_ERROR_MESSAGE).invokeString(new Object[] {status}, false);
            fn(RELEASE_STATUS).invokeVoid(new Object[] {status});
            throw new NativeException(what + ": " + message);
        }
    }

    /** A status made and read back: the first indices (0, 2 and ReleaseStatus) point where they should. */
    private void selfCheck() {
        Pointer status = fn(CREATE_STATUS).invokePointer(new Object[] {1, "specbeam self-check"});
        String message = fn(GET_ERROR_MESSAGE).invokeString(new Object[] {status}, false);
        fn(RELEASE_STATUS).invokeVoid(new Object[] {status});
        if (!"specbeam self-check".equals(message)) {
            throw new NativeException("ONNX Runtime's C API table is not laid out as expected (read back '"
                    + message + "')");
        }
    }

    /** The memory info of the provider's memory: the CPU arena, or CUDA device {@code device}. */
    Pointer memoryInfo(boolean cuda, int device) {
        PointerByReference out = this.out.get();
        if (cuda) {
            call(CREATE_MEMORY_INFO, "CreateMemoryInfo(Cuda)", "Cuda", DEVICE_ALLOCATOR, device, MEM_TYPE_DEFAULT, out);
        } else {
            call(CREATE_CPU_MEMORY_INFO, "CreateCpuMemoryInfo", ARENA_ALLOCATOR, MEM_TYPE_DEFAULT, out);
        }
        return out.getValue();
    }

    void releaseMemoryInfo(Pointer info) {
        fn(RELEASE_MEMORY_INFO).invokeVoid(new Object[] {info});
    }

    /** The session's allocator for {@code info}'s memory. */
    Pointer allocator(Pointer session, Pointer info) {
        PointerByReference out = this.out.get();
        call(CREATE_ALLOCATOR, "CreateAllocator", session, info, out);
        return out.getValue();
    }

    void releaseAllocator(Pointer allocator) {
        fn(RELEASE_ALLOCATOR).invokeVoid(new Object[] {allocator});
    }

    Pointer alloc(Pointer allocator, long bytes) {
        PointerByReference out = this.out.get();
        call(ALLOCATOR_ALLOC, "AllocatorAlloc(" + bytes + " bytes)", allocator, bytes, out);
        return out.getValue();
    }

    void free(Pointer allocator, Pointer p) {
        call(ALLOCATOR_FREE, "AllocatorFree", allocator, p);
    }

    /** A tensor over {@code bytes} bytes at {@code data} (not owned: release the value, free the memory). */
    Pointer tensor(Pointer info, Pointer data, long bytes, long[] shape, int type) {
        PointerByReference out = this.out.get();
        call(CREATE_TENSOR_WITH_DATA, "CreateTensorWithDataAsOrtValue", info, data, bytes, shape, (long) shape.length,
                type, out);
        return out.getValue();
    }

    void releaseValue(Pointer value) {
        fn(RELEASE_VALUE).invokeVoid(new Object[] {value});
    }

    Pointer ioBinding(Pointer session) {
        PointerByReference out = this.out.get();
        call(CREATE_IO_BINDING, "CreateIoBinding", session, out);
        return out.getValue();
    }

    void releaseIoBinding(Pointer binding) {
        fn(RELEASE_IO_BINDING).invokeVoid(new Object[] {binding});
    }

    void bindInput(Pointer binding, String name, Pointer value) {
        call(BIND_INPUT, "BindInput(" + name + ")", binding, cString(name), value);
    }

    void bindOutput(Pointer binding, String name, Pointer value) {
        call(BIND_OUTPUT, "BindOutput(" + name + ")", binding, cString(name), value);
    }

    /** A graph's input or output name as a C string, made once (JNA would allocate one per call). */
    private Memory cString(String name) {
        return names.computeIfAbsent(name, n -> {
            byte[] utf8 = n.getBytes(StandardCharsets.UTF_8);
            Memory m = new Memory(utf8.length + 1L);
            m.write(0, utf8, 0, utf8.length);
            m.setByte(utf8.length, (byte) 0);
            return m;
        });
    }

    void runWithBinding(Pointer session, Pointer binding) {
        call(RUN_WITH_BINDING, "RunWithBinding", session, null, binding);
    }

    /** Waits until the bound outputs are written (a no-op on CPU; device work is asynchronous). */
    void synchronizeOutputs(Pointer binding) {
        call(SYNCHRONIZE_BOUND_OUTPUTS, "SynchronizeBoundOutputs", binding);
    }
}
