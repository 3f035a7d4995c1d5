package dev.maskrcnn4j.checkpoint;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.Arrays;

/**
 * One tensor of a checkpoint, in host memory: dtype, shape, strides and storage offset (in
 * elements) of a view into a storage, exactly as torch saved it. Tensors that shared a storage in
 * torch share it here (no copy); the bytes are usually a read-only mapping of the file. Data is
 * materialised on request, contiguous (row-major) and converted: {@link #toFloatArray()} for
 * floating-point tensors (float64, float16 and bfloat16 converted to float32),
 * {@link #toLongArray()} for integer and bool tensors. Immutable and safe to read from several
 * threads.
 */
public final class HostTensor {
    private final Path file;
    private final String name;
    private final Storage storage;
    private final long offset;
    private final long[] shape;
    private final long[] strides;
    private final long numel;

    private HostTensor(Path file, String name, Storage storage, long offset, long[] shape, long[] strides, long numel) {
        this.file = file;
        this.name = name;
        this.storage = storage;
        this.offset = offset;
        this.shape = shape;
        this.strides = strides;
        this.numel = numel;
    }

    /**
     * A view of {@code storage}; checks that every element it addresses lies inside the storage.
     */
    static HostTensor view(Path file, String name, Storage storage, long offset, long[] shape, long[] strides) {
        if (shape.length != strides.length) {
            throw new CheckpointException(file, "tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " and strides " + Arrays.toString(strides) + " differ in rank");
        }
        if (offset < 0) {
            throw new CheckpointException(file, "tensor '" + name + "': negative storage offset " + offset);
        }
        long numel = 1;
        long last = offset;
        try {
            for (int d = 0; d < shape.length; d++) {
                if (shape[d] < 0 || strides[d] < 0) {
                    throw new CheckpointException(file, "tensor '" + name + "': negative size or stride (shape "
                            + Arrays.toString(shape) + ", strides " + Arrays.toString(strides) + ")");
                }
                numel = Math.multiplyExact(numel, shape[d]);
            }
            if (numel > 0) {
                for (int d = 0; d < shape.length; d++) {
                    last = Math.addExact(last, Math.multiplyExact(shape[d] - 1, strides[d]));
                }
            }
        } catch (ArithmeticException e) {
            throw new CheckpointException(file, "tensor '" + name + "': shape " + Arrays.toString(shape)
                    + " with strides " + Arrays.toString(strides) + " overflows");
        }
        if (numel > 0 ? last >= storage.numel : offset > storage.numel) {
            throw new CheckpointException(file, "tensor '" + name + "' (shape " + Arrays.toString(shape) + ", strides "
                    + Arrays.toString(strides) + ", offset " + offset + ") reaches element " + last + " of storage '"
                    + storage.key + "', which has " + storage.numel + " elements");
        }
        return new HostTensor(file, name, storage, offset, shape.clone(), strides.clone(), numel);
    }

    /** The same data under another key (used by key normalisation; no copy). */
    HostTensor renamed(String newName) {
        return new HostTensor(file, newName, storage, offset, shape, strides, numel);
    }

    /** The key of this tensor in its state dict. */
    public String name() {
        return name;
    }

    /** The checkpoint file it was read from. */
    public Path file() {
        return file;
    }

    public ElementType dtype() {
        return storage.dtype;
    }

    public long[] shape() {
        return shape.clone();
    }

    public int dim() {
        return shape.length;
    }

    public long size(int d) {
        return shape[d];
    }

    /** Strides in elements, as torch saved them. */
    public long[] strides() {
        return strides.clone();
    }

    /** Offset of element [0,...,0] in the storage, in elements. */
    public long storageOffset() {
        return offset;
    }

    public long numel() {
        return numel;
    }

    /** True when the shape has {@code expected} exactly. */
    public boolean hasShape(long... expected) {
        return Arrays.equals(shape, expected);
    }

    /** True when the elements are dense and row-major in the storage. */
    public boolean isContiguous() {
        if (numel == 0) {
            return true;
        }
        long expected = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            if (shape[d] != 1 && strides[d] != expected) {
                return false;
            }
            expected *= shape[d];
        }
        return true;
    }

    Storage storage() {
        return storage;
    }

    /** True when both are views of the same storage (as the tensors were in torch). */
    public boolean sharesStorageWith(HostTensor other) {
        return storage == other.storage;
    }

    // ---- data ------------------------------------------------------------------------------

    /**
     * The values as float32, contiguous row-major; float64, float16 and bfloat16 are converted
     * (float64 rounded to nearest). Throws {@link CheckpointException} for integer and bool tensors.
     */
    public float[] toFloatArray() {
        float[] out = new float[arrayLength()];
        copyFloatsTo(FloatBuffer.wrap(out));
        return out;
    }

    /**
     * Writes {@link #numel()} float32 values, contiguous row-major, at the position of
     * {@code dst} (heap or direct, e.g. host memory on the way to a device), advancing it.
     */
    public void copyFloatsTo(FloatBuffer dst) {
        ElementType dt = storage.dtype;
        if (!dt.isFloatingPoint()) {
            throw new CheckpointException(file, "tensor '" + name + "' is " + dt + ", not floating point");
        }
        if (dst.remaining() < numel) {
            throw new IllegalArgumentException("tensor '" + name + "': " + numel + " floats do not fit in "
                    + dst.remaining());
        }
        if (numel == 0) {
            return;
        }
        ByteBuffer src = storage.data();
        if (dt == ElementType.FLOAT32 && isContiguous()) {
            ByteBuffer b = src.duplicate().order(ByteOrder.LITTLE_ENDIAN);
            b.position(Math.toIntExact(offset * 4)).limit(Math.toIntExact((offset + numel) * 4));
            dst.put(b.asFloatBuffer());
            return;
        }
        Walk w = new Walk();
        switch (dt) {
            case FLOAT32:
                for (long i = 0; i < numel; i++) {
                    dst.put(src.getFloat((int) (w.pos * 4)));
                    w.next();
                }
                break;
            case FLOAT64:
                for (long i = 0; i < numel; i++) {
                    dst.put((float) src.getDouble((int) (w.pos * 8)));
                    w.next();
                }
                break;
            case FLOAT16:
                for (long i = 0; i < numel; i++) {
                    dst.put(halfToFloat(src.getShort((int) (w.pos * 2))));
                    w.next();
                }
                break;
            case BFLOAT16:
                for (long i = 0; i < numel; i++) {
                    dst.put(bfloat16ToFloat(src.getShort((int) (w.pos * 2))));
                    w.next();
                }
                break;
            default:
                throw new AssertionError(dt);
        }
    }

    /**
     * The values as int64, contiguous row-major: integer tensors (uint8 read unsigned) and bool
     * tensors (0 or 1). Throws {@link CheckpointException} for floating-point tensors.
     */
    public long[] toLongArray() {
        ElementType dt = storage.dtype;
        if (dt.isFloatingPoint()) {
            throw new CheckpointException(file, "tensor '" + name + "' is " + dt + ", not an integer or bool tensor");
        }
        long[] out = new long[arrayLength()];
        if (numel == 0) {
            return out;
        }
        ByteBuffer src = storage.data();
        Walk w = new Walk();
        for (int i = 0; i < out.length; i++) {
            int at = (int) (w.pos * dt.bytes());
            switch (dt) {
                case INT64:
                    out[i] = src.getLong(at);
                    break;
                case INT32:
                    out[i] = src.getInt(at);
                    break;
                case INT16:
                    out[i] = src.getShort(at);
                    break;
                case INT8:
                    out[i] = src.get(at);
                    break;
                case UINT8:
                    out[i] = src.get(at) & 0xff;
                    break;
                case BOOL:
                    out[i] = src.get(at) != 0 ? 1 : 0;
                    break;
                default:
                    throw new AssertionError(dt);
            }
            w.next();
        }
        return out;
    }

    /**
     * The raw little-endian bytes of the elements in their own dtype, contiguous row-major, as a
     * read-only buffer: a slice of the storage when the tensor is contiguous, else a copy.
     */
    public ByteBuffer contiguousBytes() {
        int es = storage.dtype.bytes();
        ByteBuffer src = storage.data();
        if (isContiguous()) {
            ByteBuffer b = src.duplicate();
            if (numel > 0) {
                b.position(Math.toIntExact(offset * es)).limit(Math.toIntExact((offset + numel) * es));
            } else {
                b.limit(0);
            }
            return b.slice().asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
        }
        ByteBuffer out = ByteBuffer.allocate(Math.multiplyExact(arrayLength(), es)).order(ByteOrder.LITTLE_ENDIAN);
        Walk w = new Walk();
        for (long i = 0; i < numel; i++) {
            int at = (int) (w.pos * es);
            for (int k = 0; k < es; k++) {
                out.put(src.get(at + k));
            }
            w.next();
        }
        out.flip();
        return out.asReadOnlyBuffer().order(ByteOrder.LITTLE_ENDIAN);
    }

    private int arrayLength() {
        if (numel > Integer.MAX_VALUE - 8) {
            throw new CheckpointException(file, "tensor '" + name + "' has " + numel + " elements, too many for a Java array");
        }
        return (int) numel;
    }

    /** Row-major walk over the storage positions of the elements. */
    private final class Walk {
        private final long[] index = new long[shape.length];
        long pos = offset;

        void next() {
            for (int d = shape.length - 1; d >= 0; d--) {
                pos += strides[d];
                if (++index[d] < shape[d]) {
                    return;
                }
                pos -= strides[d] * shape[d];
                index[d] = 0;
            }
        }
    }

    /** IEEE 754 binary16 to binary32, exact (NaN payloads kept). */
    static float halfToFloat(short h) {
        int bits = h & 0xffff;
        int sign = (bits & 0x8000) << 16;
        int exp = (bits >>> 10) & 0x1f;
        int mant = bits & 0x3ff;
        if (exp == 0x1f) {
            return Float.intBitsToFloat(sign | 0x7f800000 | (mant << 13));
        }
        if (exp == 0) {
            float v = mant * 0x1p-24f; // subnormal (or zero): exact
            return sign != 0 ? -v : v;
        }
        return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
    }

    /** bfloat16 to float32: the upper half of the float's bits. */
    static float bfloat16ToFloat(short b) {
        return Float.intBitsToFloat((b & 0xffff) << 16);
    }

    @Override
    public String toString() {
        return name + " " + storage.dtype + Arrays.toString(shape);
    }
}
