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
 * The scatter half of a stride-2 2x2 transposed convolution, bound to
 * {@code mrcnn_<backend>_depth_to_space_2x2} of native/include/mrcnn/depth_to_space_2x2.h:
 * <pre>
 *   output[n][2y+dy][2x+dx][co] = act(input[n][y][x][(dy*2 + dx)*cOut + co])     dy, dx in {0, 1}
 * </pre>
 * with act = torch.relu when {@code relu}. Input {@code [N, H, W, 4*cOut]}, output {@code [N, 2H, 2W,
 * cOut]}, dense float32 on one device, not overlapping. {@link ConvTranspose2x2} composes it with a
 * 1x1 {@link Conv2d} into torch's {@code ConvTranspose2d(kernel_size=2, stride=2)}.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/depth_to_space_2x2.h"}, library = NativeLibrary.NAME)
public final class DepthToSpace2x2 {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "depth_to_space_2x2";

    private DepthToSpace2x2() {
    }

    /** NHWC output shape {@code [N, 2H, 2W, C/4]} of an NHWC input shape whose channel count is a multiple of 4. */
    public static long[] outputShape(long... inputShape) {
        if (inputShape == null || inputShape.length != 4) {
            throw new InvalidArgumentException(OP + ": input must be NHWC (rank 4)");
        }
        for (long d : inputShape) {
            if (d < 0) {
                throw new InvalidArgumentException(OP + ": negative dimension in input shape");
            }
        }
        if (inputShape[3] % 4 != 0) {
            throw new InvalidArgumentException(OP + ": input channels " + inputShape[3] + " are not a multiple of 4");
        }
        return new long[] {inputShape[0], 2 * inputShape[1], 2 * inputShape[2], inputShape[3] / 4};
    }

    /** The scatter into a new tensor owned by {@code scope}. */
    public static Tensor run(Scope scope, Tensor input, boolean relu) {
        SmallOps.nhwc(OP, "input", input);
        return SmallOps.newOutput(scope, input.device(), outputShape(input.shape()), o -> run(input, o, relu));
    }

    /** The scatter into {@code output} ({@link #outputShape}, same device, no overlap with the input). */
    public static void run(Tensor input, Tensor output, boolean relu) {
        SmallOps.nhwc(OP, "input", input);
        long[] s = input.shape();
        SmallOps.shaped(OP, "output", output, outputShape(s));
        Device device = input.device();
        SmallOps.sameDevice(OP, device, "output", output);
        SmallOps.disjoint(OP, "the input", input, output);
        if (s[0] * 4 * s[1] * s[2] > Integer.MAX_VALUE) {
            throw new InvalidArgumentException(OP + ": output of " + s[0] + " x " + 2 * s[1] + " x " + 2 * s[2]
                    + " pixels exceeds the kernels' int range");
        }
        if (input.numel() == 0) {
            return;
        }
        int n = (int) s[0], h = (int) s[1], w = (int) s[2], cOut = (int) (s[3] / 4);
        int r = relu ? 1 : 0;
        int status;
        switch (device) {
            case CPU: status = cpu(input.address(), n, h, w, cOut, output.address(), r, 0); break;
            case CUDA: status = cuda(input.address(), n, h, w, cOut, output.address(), r, 0); break;
            default: status = emulated(input.address(), n, h, w, cOut, output.address(), r, 0); break;
        }
        NativeStatus.check(status, OP);
    }

    @Name("mrcnn_cpu_depth_to_space_2x2")
    private static native int cpu(@Cast("const float*") long input, int n, int h, int w, int cOut,
                                  @Cast("float*") long output, int relu, @Cast("void*") long stream);

    @Name("mrcnn_cuda_depth_to_space_2x2")
    private static native int cuda(@Cast("const float*") long input, int n, int h, int w, int cOut,
                                   @Cast("float*") long output, int relu, @Cast("void*") long stream);

    @Name("mrcnn_emu_depth_to_space_2x2")
    private static native int emulated(@Cast("const float*") long input, int n, int h, int w, int cOut,
                                       @Cast("float*") long output, int relu, @Cast("void*") long stream);
}
