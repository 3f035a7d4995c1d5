package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import dev.maskrcnn4j.tensor.Tensor;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * {@code torch.sigmoid}: {@code y = 1 / (1 + exp(-x))} elementwise in float32, bound to
 * {@code mrcnn_<backend>_sigmoid} of native/include/mrcnn/sigmoid.h. Backends agree with torch to a
 * few ulps (different exp implementations), not bit for bit. Tensors are dense float32 of one shape
 * on one device; {@code y} may be {@code x} (in place) but must not partly overlap it.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/sigmoid.h"}, library = NativeLibrary.NAME)
public final class Sigmoid {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "sigmoid";

    private Sigmoid() {
    }

    /** {@code sigmoid(x)} into a new tensor owned by {@code scope}. */
    public static Tensor run(Scope scope, Tensor x) {
        SmallOps.denseFloat(OP, "x", x, -1);
        return SmallOps.newOutput(scope, x.device(), x.shape(), o -> run(x, o));
    }

    /** {@code y = sigmoid(x)}; {@code y} may be {@code x}. */
    public static void run(Tensor x, Tensor y) {
        SmallOps.denseFloat(OP, "x", x, -1);
        SmallOps.shaped(OP, "y", y, x.shape());
        Device device = x.device();
        SmallOps.sameDevice(OP, device, "y", y);
        SmallOps.sameOrDisjoint(OP, "x", x, y);
        long count = x.numel();
        if (count == 0) {
            return;
        }
        int status;
        switch (device) {
            case CPU: status = cpu(x.address(), y.address(), count, 0); break;
            case CUDA: status = cuda(x.address(), y.address(), count, 0); break;
            default: status = emulated(x.address(), y.address(), count, 0); break;
        }
        NativeStatus.check(status, OP);
    }

    @Name("mrcnn_cpu_sigmoid")
    private static native int cpu(@Cast("const float*") long x, @Cast("float*") long y, @Cast("size_t") long count,
                                  @Cast("void*") long stream);

    @Name("mrcnn_cuda_sigmoid")
    private static native int cuda(@Cast("const float*") long x, @Cast("float*") long y, @Cast("size_t") long count,
                                   @Cast("void*") long stream);

    @Name("mrcnn_emu_sigmoid")
    private static native int emulated(@Cast("const float*") long x, @Cast("float*") long y,
                                       @Cast("size_t") long count, @Cast("void*") long stream);
}
