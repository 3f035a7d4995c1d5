package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Arrays;
import java.util.function.Consumer;

/**
 * Plumbing shared by the small ops (max_pool2d, upsample_nearest_add, add_relu, sigmoid, softmax,
 * depth_to_space_2x2) and the layers built from conv2d (Linear, ConvTranspose2x2): argument checks,
 * each throwing {@link InvalidArgumentException} naming the op and the argument so that no tensor
 * reaches native code in a state that could crash the JVM, and the allocate-then-fill of outputs.
 */
final class SmallOps {
    private SmallOps() {
    }

    /** A dense, open FLOAT32 tensor of the given rank (any rank when {@code rank < 0}). */
    static void denseFloat(String op, String what, Tensor t, int rank) {
        if (t == null) {
            throw new InvalidArgumentException(op + ": " + what + " is null");
        }
        if (t.dtype() != DType.FLOAT32) {
            throw new InvalidArgumentException(op + ": " + what + " must be FLOAT32, got " + t);
        }
        if (rank >= 0 && t.rank() != rank) {
            throw new InvalidArgumentException(op + ": " + what + " must have rank " + rank + ", got " + t);
        }
        if (t.numel() > 0) { // Tensor.isContiguous() rejects dense shapes with a zero dimension
            t.requireContiguous(op + " " + what);
        }
        if (t.buffer().isClosed()) {
            throw new InvalidArgumentException(op + ": " + what + " is closed");
        }
    }

    /** {@link #denseFloat} of an NHWC tensor whose n*h*w and c fit the kernels' int arguments. */
    static void nhwc(String op, String what, Tensor t) {
        denseFloat(op, what, t, 4);
        long[] s = t.shape();
        if (s[0] > Integer.MAX_VALUE || s[3] > Integer.MAX_VALUE || s[0] * s[1] * s[2] > Integer.MAX_VALUE) {
            throw new InvalidArgumentException(op + ": " + what + " shape " + Arrays.toString(s)
                    + " exceeds the kernels' int range");
        }
    }

    /** {@link #denseFloat} plus an exact shape. */
    static void shaped(String op, String what, Tensor t, long[] shape) {
        denseFloat(op, what, t, shape.length);
        if (!Arrays.equals(t.shape(), shape)) {
            throw new InvalidArgumentException(op + ": " + what + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
    }

    static void sameDevice(String op, Device device, String what, Tensor t) {
        if (t.device() != device) {
            throw new InvalidArgumentException(op + ": " + what + " is on " + t.device() + ", the input on " + device);
        }
    }

    /** True when the two tensors share bytes (same buffer, intersecting ranges). */
    static boolean overlaps(Tensor a, Tensor b) {
        if (a.buffer() != b.buffer() || a.bytes() == 0 || b.bytes() == 0) {
            return false;
        }
        long a0 = a.address();
        long b0 = b.address();
        return a0 < b0 + b.bytes() && b0 < a0 + a.bytes();
    }

    /** Elementwise ops: {@code out} may be {@code in} exactly, but must not partly overlap it. */
    static void sameOrDisjoint(String op, String what, Tensor in, Tensor out) {
        if (overlaps(in, out) && in.address() != out.address()) {
            throw new InvalidArgumentException(op + ": output partly overlaps " + what);
        }
    }

    /** Gather/scatter ops: {@code out} must not share any byte with {@code in}. */
    static void disjoint(String op, String what, Tensor in, Tensor out) {
        if (overlaps(in, out)) {
            throw new InvalidArgumentException(op + ": output overlaps " + what);
        }
    }

    /**
     * A new dense float32 tensor of {@code shape} on {@code device}, owned by {@code scope}, filled by
     * {@code fill}; freed again if {@code fill} throws.
     */
    static Tensor newOutput(Scope scope, Device device, long[] shape, Consumer<Tensor> fill) {
        Tensor out = Tensor.allocate(scope, device, DType.FLOAT32, shape);
        try {
            fill.accept(out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /**
     * A dense, open tensor of {@code dtype}: of exactly {@code shape}, or of rank 1 and any length
     * when {@code shape} is null (a byte workspace, ...).
     */
    static void dense(String op, String what, Tensor t, DType dtype, long[] shape) {
        if (t == null) {
            throw new InvalidArgumentException(op + ": " + what + " is null");
        }
        if (t.dtype() != dtype || (shape == null ? t.rank() != 1 : !Arrays.equals(t.shape(), shape))) {
            throw new InvalidArgumentException(op + ": " + what + " must be " + dtype
                    + (shape == null ? " [n]" : " " + Arrays.toString(shape)) + ", got " + t);
        }
        if (t.numel() > 0) { // Tensor.isContiguous() rejects dense shapes with a zero dimension
            t.requireContiguous(op + " " + what);
        }
        if (t.buffer().isClosed()) {
            throw new InvalidArgumentException(op + ": " + what + " is closed");
        }
    }

    /**
     * A scratch tensor for an op on {@code device}: UINT8, dense, open, of at least {@code needed}
     * bytes; null is accepted when {@code needed} is 0. Returns its bytes (0 for null).
     */
    static long workspace(String op, Device device, Tensor workspace, long needed) {
        long bytes = 0;
        if (workspace != null) {
            dense(op, "workspace", workspace, DType.UINT8, null);
            sameDevice(op, device, "workspace", workspace);
            bytes = workspace.bytes();
        }
        if (bytes < needed) {
            throw new InvalidArgumentException(op + ": workspace of " + bytes + " bytes, " + needed + " needed");
        }
        return bytes;
    }
}
