package dev.maskrcnn4j.nativelib;

import org.bytedeco.javacpp.Loader;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * The JNI library {@code jnimaskrcnn4j}: its build settings, loading, and the status functions
 * of the native boundary. Op classes bind their own functions into the same library by declaring
 * {@code @Platform(include = "mrcnn/<op>.h", library = NativeLibrary.NAME)} and calling
 * {@link #load()} in their static initializer.
 */
@Platform(value = "linux-x86_64", include = {"mrcnn/api.h", "mrcnn/device.h"}, compiler = "cpp17",
        library = NativeLibrary.NAME)
public final class NativeLibrary {
    public static final String NAME = "jnimaskrcnn4j";
    private static volatile boolean loaded;

    static {
        Loader.load();
    }

    private NativeLibrary() {
    }

    /** Loads the native library once (idempotent, thread-safe). */
    public static void load() {
        if (!loaded) {
            synchronized (NativeLibrary.class) {
                if (!loaded) {
                    Loader.load(NativeLibrary.class);
                    loaded = true;
                }
            }
        }
    }

    @Name("mrcnn_status_string")
    static native @Cast("const char*") String statusString(int status);

    @Name("mrcnn_last_error")
    static native @Cast("const char*") String lastError();

    @Name("mrcnn_cuda_built")
    public static native int cudaBuilt();

    @Name("mrcnn_cuda_runtime_version")
    public static native int cudaRuntimeVersion();
}
