package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Arrays;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * {@code torch.nn.functional.max_pool2d} (dilation 1, ceil_mode False) on NHWC activations, bound
 * to {@code mrcnn_<backend>_max_pool2d} of native/include/mrcnn/max_pool2d.h:
 * <pre>
 *   output[n][oy][ox][c] = max over the kernel window at (oy*strideH - padH, ox*strideW - padW)
 *   outH = (H + 2*padH - kernelH) / strideH + 1   (likewise outW)
 * </pre>
 * Padding counts as -inf; a NaN in a window gives NaN. Used by ResNet's stem ({@link Spec#of
 * Spec.of(3, 2, 1)}) and FPN's LastLevelMaxPool ({@code Spec.of(1, 2, 0)}). Input {@code [N, H, W,
 * C]} and output {@code [N, outH, outW, C]} are dense float32 on one device and must not overlap;
 * an empty batch or zero channels gives an empty output.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/max_pool2d.h"}, library = NativeLibrary.NAME)
public final class MaxPool2d {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "max_pool2d";

    private MaxPool2d() {
    }

    /** Kernel, stride and padding per axis; torch requires padding at most half the kernel. */
    public record Spec(int kernelH, int kernelW, int strideH, int strideW, int padH, int padW) {
        public Spec {
            if (kernelH < 1 || kernelW < 1) {
                throw new InvalidArgumentException(OP + ": kernel must be >= 1, got " + kernelH + "x" + kernelW);
            }
            if (strideH < 1 || strideW < 1) {
                throw new InvalidArgumentException(OP + ": stride must be >= 1, got " + strideH + "x" + strideW);
            }
            if (padH < 0 || padW < 0 || 2L * padH > kernelH || 2L * padW > kernelW) {
                throw new InvalidArgumentException(OP + ": padding " + padH + "x" + padW
                        + " must be in [0, kernel/2] for kernel " + kernelH + "x" + kernelW);
            }
        }

        /** The same kernel, stride and padding on both axes. */
        public static Spec of(int kernel, int stride, int padding) {
            return new Spec(kernel, kernel, stride, stride, padding, padding);
        }
    }

    /** Output extent along one axis (0 when the kernel does not fit). */
    public static long outSize(long in, int kernel, int stride, int pad) {
        long span = in + 2L * pad - kernel;
        return span < 0 ? 0 : span / stride + 1;
    }

    /** NHWC output shape for an NHWC input shape; throws if the kernel does not fit. */
    public static long[] outputShape(long[] inputShape, Spec spec) {
        if (spec == null) {
            throw new InvalidArgumentException(OP + ": spec is null");
        }
        if (inputShape == null || inputShape.length != 4) {
            throw new InvalidArgumentException(OP + ": input must be NHWC (rank 4), got shape " + Arrays.toString(inputShape));
        }
        for (long d : inputShape) {
            if (d < 0) {
                throw new InvalidArgumentException(OP + ": negative dimension in input shape " + Arrays.toString(inputShape));
            }
        }
        if (inputShape[1] < 1 || inputShape[2] < 1) {
            throw new InvalidArgumentException(OP + ": input height and width must be >= 1, got " + Arrays.toString(inputShape));
        }
        if (inputShape[1] > Integer.MAX_VALUE / 4 || inputShape[2] > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException(OP + ": input shape " + Arrays.toString(inputShape) + " is too large");
        }
        long oh = outSize(inputShape[1], spec.kernelH(), spec.strideH(), spec.padH());
        long ow = outSize(inputShape[2], spec.kernelW(), spec.strideW(), spec.padW());
        if (oh < 1 || ow < 1) {
            throw new InvalidArgumentException(OP + ": the " + spec.kernelH() + "x" + spec.kernelW()
                    + " kernel does not fit input " + Arrays.toString(inputShape) + " padded by " + spec.padH() + "x" + spec.padW());
        }
        return new long[] {inputShape[0], oh, ow, inputShape[3]};
    }

    /** Max pooling into a new tensor owned by {@code scope}. */
    public static Tensor run(Scope scope, Tensor input, Spec spec) {
        SmallOps.nhwc(OP, "input", input);
        return SmallOps.newOutput(scope, input.device(), outputShape(input.shape(), spec), o -> run(input, spec, o));
    }

    /** Max pooling into {@code output} ({@link #outputShape}, same device, no overlap with the input). */
    public static void run(Tensor input, Spec spec, Tensor output) {
        SmallOps.nhwc(OP, "input", input);
        long[] outShape = outputShape(input.shape(), spec);
        SmallOps.shaped(OP, "output", output, outShape);
        Device device = input.device();
        SmallOps.sameDevice(OP, device, "output", output);
        SmallOps.nhwc(OP, "output", output);
        SmallOps.disjoint(OP, "the input", input, output);
        if (output.numel() == 0) {
            return;
        }
        long[] s = input.shape();
        int n = (int) s[0], h = (int) s[1], w = (int) s[2], c = (int) s[3];
        int oh = (int) outShape[1], ow = (int) outShape[2];
        int status;
        switch (device) {
            case CPU:
                status = cpu(input.address(), n, h, w, c, spec.kernelH(), spec.kernelW(), spec.strideH(), spec.strideW(),
                        spec.padH(), spec.padW(), output.address(), oh, ow, 0);
                break;
            case CUDA:
                status = cuda(input.address(), n, h, w, c, spec.kernelH(), spec.kernelW(), spec.strideH(), spec.strideW(),
                        spec.padH(), spec.padW(), output.address(), oh, ow, 0);
                break;
            default:
                status = emulated(input.address(), n, h, w, c, spec.kernelH(), spec.kernelW(), spec.strideH(),
                        spec.strideW(), spec.padH(), spec.padW(), output.address(), oh, ow, 0);
                break;
        }
        NativeStatus.check(status, OP);
    }

    @Name("mrcnn_cpu_max_pool2d")
    private static native int cpu(@Cast("const float*") long input, int n, int h, int w, int c, int kernelH, int kernelW,
                                  int strideH, int strideW, int padH, int padW, @Cast("float*") long output, int outH,
                                  int outW, @Cast("void*") long stream);

    @Name("mrcnn_cuda_max_pool2d")
    private static native int cuda(@Cast("const float*") long input, int n, int h, int w, int c, int kernelH, int kernelW,
                                   int strideH, int strideW, int padH, int padW, @Cast("float*") long output, int outH,
                                   int outW, @Cast("void*") long stream);

    @Name("mrcnn_emu_max_pool2d")
    private static native int emulated(@Cast("const float*") long input, int n, int h, int w, int c, int kernelH,
                                       int kernelW, int strideH, int strideW, int padH, int padW,
                                       @Cast("float*") long output, int outH, int outW, @Cast("void*") long stream);
}
