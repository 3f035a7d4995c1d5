package dev.maskrcnn4j.tensor;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.DeviceBuffer;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.DeviceRuntime;
import dev.maskrcnn4j.nativelib.HostMemory;
import java.util.Arrays;

/**
 * A view of device memory: buffer, element offset, shape, strides (in elements), dtype, device.
 * It has no math methods; ops take tensors. Activations are NHWC by convention (see README).
 * Closing a tensor closes its buffer, which invalidates every view of that buffer.
 */
public final class Tensor implements AutoCloseable {
    private final DeviceBuffer buffer;
    private final long offset;
    private final long[] shape;
    private final long[] strides;
    private final DType dtype;

    private Tensor(DeviceBuffer buffer, long offset, long[] shape, long[] strides, DType dtype) {
        this.buffer = buffer;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
        this.dtype = dtype;
    }

    // ---- creation ------------------------------------------------------------------------

    /** A dense, uninitialised tensor owned by {@code scope}. */
    public static Tensor allocate(Scope scope, Device device, DType dtype, long... shape) {
        long n = checkedNumel(shape);
        DeviceBuffer b = scope.allocate(device, n * dtype.bytes(), dtype + Arrays.toString(shape));
        return new Tensor(b, 0, shape.clone(), denseStrides(shape), dtype);
    }

    /** A dense tensor holding a copy of {@code data}. */
    public static Tensor fromFloats(Scope scope, Device device, float[] data, long... shape) {
        requireLength(data.length, shape);
        Tensor t = allocate(scope, device, DType.FLOAT32, shape);
        try {
            t.copyFrom(data);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    public static Tensor fromInts(Scope scope, Device device, int[] data, long... shape) {
        requireLength(data.length, shape);
        Tensor t = allocate(scope, device, DType.INT32, shape);
        try {
            t.copyFrom(data);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    public static Tensor fromLongs(Scope scope, Device device, long[] data, long... shape) {
        requireLength(data.length, shape);
        Tensor t = allocate(scope, device, DType.INT64, shape);
        try {
            t.copyFrom(data);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    public static Tensor fromBytes(Scope scope, Device device, byte[] data, long... shape) {
        requireLength(data.length, shape);
        Tensor t = allocate(scope, device, DType.UINT8, shape);
        try {
            t.copyFrom(data);
        } catch (RuntimeException e) {
            t.close();
            throw e;
        }
        return t;
    }

    /** A view of an existing buffer (the caller keeps ownership of the buffer). */
    public static Tensor view(DeviceBuffer buffer, long offset, DType dtype, long[] shape, long[] strides) {
        if (shape.length != strides.length) {
            throw new InvalidArgumentException("shape " + Arrays.toString(shape) + " and strides "
                    + Arrays.toString(strides) + " differ in rank");
        }
        checkedNumel(shape);
        long maxIndex = offset;
        for (int i = 0; i < shape.length; i++) {
            if (strides[i] < 0) {
                throw new InvalidArgumentException("negative stride " + strides[i]);
            }
            if (shape[i] > 0) {
                maxIndex += (shape[i] - 1) * strides[i];
            }
        }
        if (offset < 0 || (checkedNumel(shape) > 0 && (maxIndex + 1) * dtype.bytes() > buffer.bytes())) {
            throw new InvalidArgumentException("view " + Arrays.toString(shape) + " at offset " + offset
                    + " exceeds buffer of " + buffer.bytes() + " bytes");
        }
        return new Tensor(buffer, offset, shape.clone(), strides.clone(), dtype);
    }

    // ---- views ---------------------------------------------------------------------------

    /** The same elements with another shape; requires a contiguous tensor. */
    public Tensor reshape(long... newShape) {
        requireContiguous("reshape");
        if (checkedNumel(newShape) != numel()) {
            throw new InvalidArgumentException("cannot reshape " + Arrays.toString(shape) + " to "
                    + Arrays.toString(newShape));
        }
        return new Tensor(buffer, offset, newShape.clone(), denseStrides(newShape), dtype);
    }

    /** Elements [start, start+length) along {@code dim}. */
    public Tensor narrow(int dim, long start, long length) {
        checkDim(dim);
        if (start < 0 || length < 0 || start + length > shape[dim]) {
            throw new InvalidArgumentException("narrow(" + dim + ", " + start + ", " + length + ") out of range for "
                    + Arrays.toString(shape));
        }
        long[] s = shape.clone();
        s[dim] = length;
        return new Tensor(buffer, offset + start * strides[dim], s, strides.clone(), dtype);
    }

    // ---- properties ----------------------------------------------------------------------

    public long[] shape() {
        return shape.clone();
    }

    public long shape(int dim) {
        checkDim(dim);
        return shape[dim];
    }

    public long[] strides() {
        return strides.clone();
    }

    public int rank() {
        return shape.length;
    }

    public long numel() {
        return checkedNumel(shape);
    }

    public long bytes() {
        return numel() * dtype.bytes();
    }

    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return buffer.device();
    }

    public DeviceBuffer buffer() {
        return buffer;
    }

    /** Element offset of this view in its buffer. */
    public long offset() {
        return offset;
    }

    /** Device address of the first element. */
    public long address() {
        return buffer.address() + offset * dtype.bytes();
    }

    public boolean isContiguous() {
        if (numel() == 0) {
            return true; // no element to lay out: every empty view is dense
        }
        long expected = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != expected) {
                return false;
            }
            expected *= shape[i];
        }
        return true;
    }

    /** Throws unless the tensor is dense (kernels take dense layouts). */
    public void requireContiguous(String what) {
        if (!isContiguous()) {
            throw new InvalidArgumentException(what + " needs a contiguous tensor, got shape " + Arrays.toString(shape)
                    + " strides " + Arrays.toString(strides));
        }
    }

    // ---- copies (tests, edges of the graph; not the hot path) ---------------------------

    public void copyFrom(float[] src) {
        checkCopy(DType.FLOAT32, src.length);
        copyIn(src.length * 4L, addr -> HostMemory.put(addr, src, 0, src.length));
    }

    public void copyFrom(int[] src) {
        checkCopy(DType.INT32, src.length);
        copyIn(src.length * 4L, addr -> HostMemory.put(addr, src, 0, src.length));
    }

    public void copyFrom(long[] src) {
        checkCopy(DType.INT64, src.length);
        copyIn(src.length * 8L, addr -> HostMemory.put(addr, src, 0, src.length));
    }

    public void copyFrom(byte[] src) {
        checkCopy(DType.UINT8, src.length);
        copyIn(src.length, addr -> HostMemory.put(addr, src, 0, src.length));
    }

    public float[] toFloatArray() {
        float[] out = new float[checkCopy(DType.FLOAT32, -1)];
        copyOut(out.length * 4L, addr -> HostMemory.get(addr, out, 0, out.length));
        return out;
    }

    public int[] toIntArray() {
        int[] out = new int[checkCopy(DType.INT32, -1)];
        copyOut(out.length * 4L, addr -> HostMemory.get(addr, out, 0, out.length));
        return out;
    }

    public long[] toLongArray() {
        long[] out = new long[checkCopy(DType.INT64, -1)];
        copyOut(out.length * 8L, addr -> HostMemory.get(addr, out, 0, out.length));
        return out;
    }

    public byte[] toByteArray() {
        byte[] out = new byte[checkCopy(DType.UINT8, -1)];
        copyOut(out.length, addr -> HostMemory.get(addr, out, 0, out.length));
        return out;
    }

    /**
     * Copies this UINT8 tensor into {@code dst[offset ..]} (a reused array avoids a fresh
     * allocation per call; large results are copied this way).
     */
    public void copyTo(byte[] dst, int offset) {
        int n = checkCopy(DType.UINT8, -1);
        if (dst == null || offset < 0 || offset > dst.length - n) {
            throw new InvalidArgumentException("copy of " + n + " bytes into an array of "
                    + (dst == null ? "null" : dst.length) + " at offset " + offset);
        }
        copyOut(n, addr -> HostMemory.get(addr, dst, offset, n));
    }

    /** Copies this FLOAT32 tensor into {@code dst[offset ..]}. */
    public void copyTo(float[] dst, int offset) {
        int n = checkCopy(DType.FLOAT32, -1);
        if (dst == null || offset < 0 || offset > dst.length - n) {
            throw new InvalidArgumentException("copy of " + n + " floats into an array of "
                    + (dst == null ? "null" : dst.length) + " at offset " + offset);
        }
        copyOut(n * 4L, addr -> HostMemory.get(addr, dst, offset, n));
    }

    /** Copies all elements of {@code src} (same dtype and element count, both contiguous) into this tensor. */
    public void copyFrom(Tensor src) {
        requireContiguous("copy");
        src.requireContiguous("copy");
        if (src.dtype != dtype || src.numel() != numel()) {
            throw new InvalidArgumentException("copy from " + src + " into " + this + ": dtype or size differ");
        }
        long n = bytes();
        if (n == 0) {
            return;
        }
        if (src.device() == device()) {
            DeviceRuntime.of(device()).copyDeviceToDevice(address(), src.address(), n);
        } else if (src.device() == Device.CPU) {
            DeviceRuntime.of(device()).copyToDevice(address(), src.address(), n);
        } else if (device() == Device.CPU) {
            DeviceRuntime.of(src.device()).copyToHost(address(), src.address(), n);
        } else {
            throw new InvalidArgumentException("copies between " + src.device() + " and " + device()
                    + " go through the CPU");
        }
    }

    /** Sets every byte of the tensor to zero. */
    public void zero() {
        requireContiguous("zero");
        DeviceRuntime.of(device()).fill(address(), 0, bytes());
    }

    @Override
    public void close() {
        buffer.close();
    }

    @Override
    public String toString() {
        return "Tensor[" + dtype + " " + Arrays.toString(shape) + " on " + device() + "]";
    }

    // ---- helpers -------------------------------------------------------------------------

    private interface HostAction {
        void run(long hostAddress);
    }

    private int checkCopy(DType expected, int length) {
        if (dtype != expected) {
            throw new InvalidArgumentException("tensor is " + dtype + ", not " + expected);
        }
        requireContiguous("copy");
        long n = numel();
        if (n > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("tensor of " + n + " elements does not fit a Java array");
        }
        if (length >= 0 && length != n) {
            throw new InvalidArgumentException("array of " + length + " elements for a tensor of " + n);
        }
        return (int) n;
    }

    private void copyIn(long bytes, HostAction put) {
        if (bytes == 0) {
            return;
        }
        if (device() == Device.CPU) {
            put.run(address());
            return;
        }
        DeviceRuntime cpu = DeviceRuntime.of(Device.CPU);
        long staging = cpu.allocate(bytes);
        try {
            put.run(staging);
            DeviceRuntime.of(device()).copyToDevice(address(), staging, bytes);
            DeviceRuntime.of(device()).sync();
        } finally {
            cpu.release(staging);
        }
    }

    private void copyOut(long bytes, HostAction get) {
        if (bytes == 0) {
            return;
        }
        if (device() == Device.CPU) {
            get.run(address());
            return;
        }
        DeviceRuntime cpu = DeviceRuntime.of(Device.CPU);
        long staging = cpu.allocate(bytes);
        try {
            DeviceRuntime.of(device()).copyToHost(staging, address(), bytes);
            get.run(staging);
        } finally {
            cpu.release(staging);
        }
    }

    private void checkDim(int dim) {
        if (dim < 0 || dim >= shape.length) {
            throw new InvalidArgumentException("dimension " + dim + " out of range for rank " + shape.length);
        }
    }

    private static void requireLength(int length, long[] shape) {
        if (checkedNumel(shape) != length) {
            throw new InvalidArgumentException("array of " + length + " elements for shape " + Arrays.toString(shape));
        }
    }

    static long checkedNumel(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new InvalidArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            n = Math.multiplyExact(n, d);
        }
        return n;
    }

    static long[] denseStrides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = acc;
            acc *= Math.max(shape[i], 1);
        }
        return s;
    }
}
