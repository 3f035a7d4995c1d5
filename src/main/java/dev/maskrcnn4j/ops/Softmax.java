package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import dev.maskrcnn4j.tensor.Tensor;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * {@code F.softmax(x, dim=-1)}: softmax over the last dimension, numerically stable as torch 1.13
 * ({@code exp(x - rowMax)}, summed, times the reciprocal of the sum), bound to
 * {@code mrcnn_<backend>_softmax} of native/include/mrcnn/softmax.h. A NaN in a row makes the row
 * NaN; a row that is all -inf or holds +inf gives NaN, as in torch. Backends agree with torch to
 * about {@code (cols + 7) * 2^-23} relative (different exp implementations and summation orders).
 * Tensors are dense float32 of rank >= 1 and one shape on one device; {@code y} may be {@code x}.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/softmax.h"}, library = NativeLibrary.NAME)
public final class Softmax {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "softmax";

    private Softmax() {
    }

    /** Softmax of {@code x} over its last dimension, into a new tensor owned by {@code scope}. */
    public static Tensor run(Scope scope, Tensor x) {
        SmallOps.denseFloat(OP, "x", x, -1);
        return SmallOps.newOutput(scope, x.device(), x.shape(), o -> run(x, o));
    }

    /** {@code y = softmax(x, dim=-1)}; {@code y} may be {@code x}. */
    public static void run(Tensor x, Tensor y) {
        SmallOps.denseFloat(OP, "x", x, -1);
        if (x.rank() < 1) {
            throw new InvalidArgumentException(OP + ": x must have rank >= 1, got " + x);
        }
        SmallOps.shaped(OP, "y", y, x.shape());
        Device device = x.device();
        SmallOps.sameDevice(OP, device, "y", y);
        SmallOps.sameOrDisjoint(OP, "x", x, y);
        long cols = x.shape(x.rank() - 1);
        if (x.numel() == 0) {
            return;
        }
        long rows = x.numel() / cols;
        if (rows > Integer.MAX_VALUE || cols > Integer.MAX_VALUE) {
            throw new InvalidArgumentException(OP + ": " + rows + " rows of " + cols + " exceed the kernels' int range");
        }
        int status;
        switch (device) {
            case CPU: status = cpu(x.address(), (int) rows, (int) cols, y.address(), 0); break;
            case CUDA: status = cuda(x.address(), (int) rows, (int) cols, y.address(), 0); break;
            default: status = emulated(x.address(), (int) rows, (int) cols, y.address(), 0); break;
        }
        NativeStatus.check(status, OP);
    }

    @Name("mrcnn_cpu_softmax")
    private static native int cpu(@Cast("const float*") long x, int rows, int cols, @Cast("float*") long y,
                                  @Cast("void*") long stream);

    @Name("mrcnn_cuda_softmax")
    private static native int cuda(@Cast("const float*") long x, int rows, int cols, @Cast("float*") long y,
                                   @Cast("void*") long stream);

    @Name("mrcnn_emu_softmax")
    private static native int emulated(@Cast("const float*") long x, int rows, int cols, @Cast("float*") long y,
                                       @Cast("void*") long stream);
}
