package dev.maskrcnn4j.nativelib;

import dev.maskrcnn4j.Device;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Memory and copies on one device, bound to {@code mrcnn_<backend>_*} of native/include/mrcnn/device.h.
 * Addresses are raw device pointers held as longs; ownership is tracked by
 * {@link dev.maskrcnn4j.memory.Scope}, not here.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/device.h"}, library = NativeLibrary.NAME)
public final class DeviceRuntime {
    static {
        NativeLibrary.load();
    }

    private static final DeviceRuntime CPU = new DeviceRuntime(Device.CPU);
    private static final DeviceRuntime CUDA = new DeviceRuntime(Device.CUDA);
    private static final DeviceRuntime EMULATED = new DeviceRuntime(Device.CUDA_EMULATED);

    private final Device device;

    private DeviceRuntime(Device device) {
        this.device = device;
    }

    public static DeviceRuntime of(Device device) {
        switch (device) {
            case CPU: return CPU;
            case CUDA: return CUDA;
            case CUDA_EMULATED: return EMULATED;
            default: throw new AssertionError(device);
        }
    }

    // One switch per call: the three backends expose identical C signatures.
    private int malloc(long bytes, long[] out) {
        switch (device) {
            case CPU: return cpuMalloc(bytes, out);
            case CUDA: return cudaMalloc(bytes, out);
            default: return emuMalloc(bytes, out);
        }
    }

    private int free(long p) {
        switch (device) {
            case CPU: return cpuFree(p);
            case CUDA: return cudaFree(p);
            default: return emuFree(p);
        }
    }

    private int toDevice(long d, long s, long n) {
        switch (device) {
            case CPU: return cpuToDevice(d, s, n, 0);
            case CUDA: return cudaToDevice(d, s, n, 0);
            default: return emuToDevice(d, s, n, 0);
        }
    }

    private int toHost(long d, long s, long n) {
        switch (device) {
            case CPU: return cpuToHost(d, s, n, 0);
            case CUDA: return cudaToHost(d, s, n, 0);
            default: return emuToHost(d, s, n, 0);
        }
    }

    private int deviceToDevice(long d, long s, long n) {
        switch (device) {
            case CPU: return cpuD2D(d, s, n, 0);
            case CUDA: return cudaD2D(d, s, n, 0);
            default: return emuD2D(d, s, n, 0);
        }
    }

    private int memset(long d, int v, long n) {
        switch (device) {
            case CPU: return cpuMemset(d, v, n, 0);
            case CUDA: return cudaMemset(d, v, n, 0);
            default: return emuMemset(d, v, n, 0);
        }
    }

    private int synchronize() {
        switch (device) {
            case CPU: return cpuSync(0);
            case CUDA: return cudaSync(0);
            default: return emuSync(0);
        }
    }

    private int deviceCount(int[] c) {
        switch (device) {
            case CPU: return cpuDeviceCount(c);
            case CUDA: return cudaDeviceCount(c);
            default: return emuDeviceCount(c);
        }
    }

    /** "" when the device is usable, else the reason (from the native runtime). */
    public String probe() {
        int[] count = new int[1];
        int status = deviceCount(count);
        if (status == NativeStatus.OK && count[0] > 0) {
            return "";
        }
        String detail = NativeStatus.lastError();
        return NativeLibrary.statusString(status) + (detail.isEmpty() ? "" : ": " + detail);
    }

    public long allocate(long bytes) {
        long[] out = new long[1];
        NativeStatus.check(malloc(bytes, out), "allocate " + bytes + " bytes");
        return out[0];
    }

    public void release(long address) {
        NativeStatus.check(free(address), "free");
    }

    public void copyToDevice(long dst, long hostSrc, long bytes) {
        NativeStatus.check(toDevice(dst, hostSrc, bytes), "copy to device");
    }

    public void copyToHost(long hostDst, long src, long bytes) {
        NativeStatus.check(toHost(hostDst, src, bytes), "copy to host");
    }

    public void copyDeviceToDevice(long dst, long src, long bytes) {
        NativeStatus.check(deviceToDevice(dst, src, bytes), "copy device to device");
    }

    public void fill(long dst, int byteValue, long bytes) {
        NativeStatus.check(memset(dst, byteValue, bytes), "memset");
    }

    public void sync() {
        NativeStatus.check(synchronize(), "synchronize");
    }

    // ---- bindings -------------------------------------------------------------------------
    @Name("mrcnn_cpu_malloc") static native int cpuMalloc(@Cast("size_t") long bytes, @Cast("void**") long[] out);
    @Name("mrcnn_cpu_free") static native int cpuFree(@Cast("void*") long p);
    @Name("mrcnn_cpu_copy_to_device") static native int cpuToDevice(@Cast("void*") long d, @Cast("const void*") long s, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_cpu_copy_to_host") static native int cpuToHost(@Cast("void*") long d, @Cast("const void*") long s, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_cpu_copy_device_to_device") static native int cpuD2D(@Cast("void*") long d, @Cast("const void*") long s, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_cpu_memset") static native int cpuMemset(@Cast("void*") long d, int v, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_cpu_synchronize") static native int cpuSync(@Cast("void*") long stream);
    @Name("mrcnn_cpu_device_count") static native int cpuDeviceCount(int[] count);

    @Name("mrcnn_cuda_malloc") static native int cudaMalloc(@Cast("size_t") long bytes, @Cast("void**") long[] out);
    @Name("mrcnn_cuda_free") static native int cudaFree(@Cast("void*") long p);
    @Name("mrcnn_cuda_copy_to_device") static native int cudaToDevice(@Cast("void*") long d, @Cast("const void*") long s, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_cuda_copy_to_host") static native int cudaToHost(@Cast("void*") long d, @Cast("const void*") long s, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_cuda_copy_device_to_device") static native int cudaD2D(@Cast("void*") long d, @Cast("const void*") long s, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_cuda_memset") static native int cudaMemset(@Cast("void*") long d, int v, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_cuda_synchronize") static native int cudaSync(@Cast("void*") long stream);
    @Name("mrcnn_cuda_device_count") static native int cudaDeviceCount(int[] count);

    @Name("mrcnn_emu_malloc") static native int emuMalloc(@Cast("size_t") long bytes, @Cast("void**") long[] out);
    @Name("mrcnn_emu_free") static native int emuFree(@Cast("void*") long p);
    @Name("mrcnn_emu_copy_to_device") static native int emuToDevice(@Cast("void*") long d, @Cast("const void*") long s, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_emu_copy_to_host") static native int emuToHost(@Cast("void*") long d, @Cast("const void*") long s, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_emu_copy_device_to_device") static native int emuD2D(@Cast("void*") long d, @Cast("const void*") long s, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_emu_memset") static native int emuMemset(@Cast("void*") long d, int v, @Cast("size_t") long n, @Cast("void*") long stream);
    @Name("mrcnn_emu_synchronize") static native int emuSync(@Cast("void*") long stream);
    @Name("mrcnn_emu_device_count") static native int emuDeviceCount(int[] count);
}
