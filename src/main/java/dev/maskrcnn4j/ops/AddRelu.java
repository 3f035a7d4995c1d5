package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Arrays;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * Elementwise {@code out = a + b}, or {@code out = torch.relu(a + b)} with {@code relu}, bound to
 * {@code mrcnn_<backend>_add_relu} of native/include/mrcnn/add_relu.h. torch.relu semantics: values
 * below zero become +0, NaN and -0 pass through. The tensors are dense float32 of one shape (no
 * broadcasting) on one device; {@code out} may be {@code a} or {@code b} (in place) but must not
 * partly overlap either.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/add_relu.h"}, library = NativeLibrary.NAME)
public final class AddRelu {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "add_relu";

    private AddRelu() {
    }

    /** {@code a + b} (then ReLU when {@code relu}) into a new tensor owned by {@code scope}. */
    public static Tensor run(Scope scope, Tensor a, Tensor b, boolean relu) {
        SmallOps.denseFloat(OP, "a", a, -1);
        return SmallOps.newOutput(scope, a.device(), a.shape(), o -> run(a, b, o, relu));
    }

    /** {@code out = a + b} (then ReLU when {@code relu}); {@code out} may be {@code a} or {@code b}. */
    public static void run(Tensor a, Tensor b, Tensor out, boolean relu) {
        SmallOps.denseFloat(OP, "a", a, -1);
        long[] shape = a.shape();
        SmallOps.shaped(OP, "b", b, shape);
        SmallOps.shaped(OP, "out", out, shape);
        Device device = a.device();
        SmallOps.sameDevice(OP, device, "b", b);
        SmallOps.sameDevice(OP, device, "out", out);
        SmallOps.sameOrDisjoint(OP, "a", a, out);
        SmallOps.sameOrDisjoint(OP, "b", b, out);
        long count = a.numel();
        if (count == 0) {
            return;
        }
        int r = relu ? 1 : 0;
        int status;
        switch (device) {
            case CPU: status = cpu(a.address(), b.address(), out.address(), count, r, 0); break;
            case CUDA: status = cuda(a.address(), b.address(), out.address(), count, r, 0); break;
            default: status = emulated(a.address(), b.address(), out.address(), count, r, 0); break;
        }
        NativeStatus.check(status, OP + " " + Arrays.toString(shape));
    }

    @Name("mrcnn_cpu_add_relu")
    private static native int cpu(@Cast("const float*") long a, @Cast("const float*") long b, @Cast("float*") long out,
                                  @Cast("size_t") long count, int relu, @Cast("void*") long stream);

    @Name("mrcnn_cuda_add_relu")
    private static native int cuda(@Cast("const float*") long a, @Cast("const float*") long b, @Cast("float*") long out,
                                   @Cast("size_t") long count, int relu, @Cast("void*") long stream);

    @Name("mrcnn_emu_add_relu")
    private static native int emulated(@Cast("const float*") long a, @Cast("const float*") long b,
                                       @Cast("float*") long out, @Cast("size_t") long count, int relu,
                                       @Cast("void*") long stream);
}
