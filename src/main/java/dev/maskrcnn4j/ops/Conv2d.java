package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnException;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Arrays;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * A 2-D convolution layer (groups = 1) on NHWC activations, bound to
 * {@code mrcnn_<backend>_conv2d} of native/include/mrcnn/conv2d.h:
 * <pre>
 *   output[n][oy][ox][co] = act(bias[co] + residual[n][oy][ox][co]
 *                               + sum_{ky,kx,ci} input[n][iy][ix][ci] * weight[co][ci][ky][kx])
 *   iy = oy*strideH - padH + ky*dilH,  ix = ox*strideW - padW + kx*dilW  (outside: zero)
 * </pre>
 * with act = ReLU when {@link Spec#relu()} is set, so a ResNet block's "conv, + shortcut, ReLU"
 * is one call. The weight is given once in torch's OIHW layout and packed at construction into
 * the device's own layout; the packed weight and the bias live in a child scope of the scope
 * given, freed by {@link #close()} (or when that scope closes). Instances are immutable apart
 * from closing, and {@link #run} may be called from several threads.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/conv2d.h"}, library = NativeLibrary.NAME)
public final class Conv2d implements AutoCloseable {
    static {
        NativeLibrary.load();
    }

    /** Stride, padding, dilation (per axis) and the fused ReLU. */
    public record Spec(int strideH, int strideW, int padH, int padW, int dilH, int dilW, boolean relu) {
        public Spec {
            if (strideH < 1 || strideW < 1) {
                throw new InvalidArgumentException("conv2d: stride must be >= 1, got " + strideH + "x" + strideW);
            }
            if (padH < 0 || padW < 0) {
                throw new InvalidArgumentException("conv2d: padding must be >= 0, got " + padH + "x" + padW);
            }
            if (dilH < 1 || dilW < 1) {
                throw new InvalidArgumentException("conv2d: dilation must be >= 1, got " + dilH + "x" + dilW);
            }
        }

        /** The same stride, padding and dilation on both axes. */
        public static Spec of(int stride, int padding, int dilation, boolean relu) {
            return new Spec(stride, stride, padding, padding, dilation, dilation, relu);
        }
    }

    /**
     * Arithmetic of the convolution. {@link #TF32} runs CUDA devices on tensor cores (inputs and
     * weights rounded to TF32's 10-bit mantissa, fp32 accumulation: ~1e-3 relative error, as
     * torch's {@code allow_tf32}); the CPU has no TF32 path and always computes {@link #FP32}.
     */
    public enum Precision { FP32, TF32 }

    private final Device device;
    private final int cOut;
    private final int cIn;
    private final int kernelH;
    private final int kernelW;
    private final Spec spec;
    private final Scope scope;
    private final Tensor packed;
    private final Tensor bias; // null when the layer has none

    /**
     * Packs {@code weightOihw} ([cOut][cIn][kh][kw], float32, contiguous, on any device) for
     * {@code device} and copies {@code bias} ([cOut] float32, or null) there.
     */
    public Conv2d(Scope owner, Device device, Tensor weightOihw, Tensor bias, Spec spec) {
        this(owner, device, hostFloats(weightOihw, "weight", 4), dims(weightOihw),
                bias == null ? null : hostFloats(bias, "bias", 1), spec);
    }

    /**
     * Packs {@code weightOihw} (cOut*cIn*kh*kw floats in OIHW order) for {@code device} and copies
     * {@code bias} (cOut floats, or null) there.
     */
    public Conv2d(Scope owner, Device device, float[] weightOihw, int cOut, int cIn, int kernelH, int kernelW,
                  float[] bias, Spec spec) {
        this(owner, device, weightOihw, new int[] {cOut, cIn, kernelH, kernelW}, bias, spec);
    }

    private Conv2d(Scope owner, Device device, float[] weight, int[] oihw, float[] bias, Spec spec) {
        if (owner == null || device == null || weight == null || spec == null) {
            throw new InvalidArgumentException("conv2d: owner scope, device, weight and spec must not be null");
        }
        for (int d : oihw) {
            if (d < 1) {
                throw new InvalidArgumentException("conv2d: weight dims must be >= 1, got " + Arrays.toString(oihw));
            }
        }
        this.cOut = oihw[0];
        this.cIn = oihw[1];
        this.kernelH = oihw[2];
        this.kernelW = oihw[3];
        long k = (long) cIn * kernelH * kernelW;
        if (k > Integer.MAX_VALUE / 4 || (long) cOut * k > Integer.MAX_VALUE - 8) {
            throw new InvalidArgumentException("conv2d: weight " + Arrays.toString(oihw) + " is too large");
        }
        if (weight.length != cOut * (int) k) {
            throw new InvalidArgumentException("conv2d: weight has " + weight.length + " floats, expected "
                    + cOut * k + " for " + Arrays.toString(oihw));
        }
        if (bias != null && bias.length != cOut) {
            throw new InvalidArgumentException("conv2d: bias has " + bias.length + " elements for " + cOut
                    + " output channels");
        }
        device.requireAvailable();
        this.device = device;
        this.spec = spec;
        this.scope = owner.child("conv2d " + cOut + "x" + cIn + "x" + kernelH + "x" + kernelW);
        try {
            this.packed = pack(weight);
            this.bias = bias == null ? null : Tensor.fromFloats(scope, device, bias, cOut);
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    private Tensor pack(float[] weight) {
        long size = packedSize(device, cOut, cIn, kernelH, kernelW);
        if (size <= 0) {
            throw new MaskRcnnException("conv2d: packed weight size " + size);
        }
        Scope host = scope.child("pack"); // host staging, freed on every path
        try {
            Tensor src = Tensor.fromFloats(host, Device.CPU, weight, cOut, cIn, kernelH, kernelW);
            Tensor dst = Tensor.allocate(device == Device.CPU ? scope : host, Device.CPU, DType.FLOAT32, size);
            int status;
            switch (device) {
                case CPU: status = cpuPack(src.address(), cOut, cIn, kernelH, kernelW, dst.address()); break;
                case CUDA: status = cudaPack(src.address(), cOut, cIn, kernelH, kernelW, dst.address()); break;
                default: status = emuPack(src.address(), cOut, cIn, kernelH, kernelW, dst.address()); break;
            }
            NativeStatus.check(status, "conv2d_pack_weight");
            if (device == Device.CPU) {
                return dst;
            }
            Tensor onDevice = Tensor.allocate(scope, device, DType.FLOAT32, size);
            onDevice.copyFrom(dst);
            return onDevice;
        } finally {
            host.release();
        }
    }

    private static long packedSize(Device device, int cOut, int cIn, int kh, int kw) {
        switch (device) {
            case CPU: return cpuPackedSize(cOut, cIn, kh, kw);
            case CUDA: return cudaPackedSize(cOut, cIn, kh, kw);
            default: return emuPackedSize(cOut, cIn, kh, kw);
        }
    }

    public Device device() {
        return device;
    }

    public int outChannels() {
        return cOut;
    }

    public int inChannels() {
        return cIn;
    }

    public int kernelH() {
        return kernelH;
    }

    public int kernelW() {
        return kernelW;
    }

    public Spec spec() {
        return spec;
    }

    public boolean hasBias() {
        return bias != null;
    }

    /** Output extent along one axis: floor((in + 2*pad - dil*(k-1) - 1) / stride) + 1 (or <= 0 if it does not fit). */
    public static long outSize(long in, int k, int stride, int pad, int dil) {
        long num = in + 2L * pad - (long) dil * (k - 1) - 1;
        return num < 0 ? 0 : num / stride + 1;
    }

    /** NHWC output shape {n, outH, outW, cOut} for an NHWC input shape; throws if the kernel does not fit. */
    public long[] outputShape(long... inputShape) {
        if (inputShape == null || inputShape.length != 4) {
            throw new InvalidArgumentException("conv2d: input must be NHWC (rank 4), got shape "
                    + Arrays.toString(inputShape));
        }
        for (long d : inputShape) {
            if (d < 0) {
                throw new InvalidArgumentException("conv2d: negative dimension in input shape " + Arrays.toString(inputShape));
            }
        }
        if (inputShape[3] != cIn) {
            throw new InvalidArgumentException("conv2d: input has " + inputShape[3] + " channels, the layer takes " + cIn);
        }
        if (inputShape[1] < 1 || inputShape[2] < 1) {
            throw new InvalidArgumentException("conv2d: input height and width must be >= 1, got shape "
                    + Arrays.toString(inputShape));
        }
        if (inputShape[1] > Integer.MAX_VALUE / 4 || inputShape[2] > Integer.MAX_VALUE / 4
                || inputShape[0] > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("conv2d: input shape " + Arrays.toString(inputShape) + " is too large");
        }
        long oh = outSize(inputShape[1], kernelH, spec.strideH(), spec.padH(), spec.dilH());
        long ow = outSize(inputShape[2], kernelW, spec.strideW(), spec.padW(), spec.dilW());
        if (oh < 1 || ow < 1) {
            throw new InvalidArgumentException("conv2d: the " + kernelH + "x" + kernelW + " kernel (dilation "
                    + spec.dilH() + "x" + spec.dilW() + ") does not fit input " + Arrays.toString(inputShape)
                    + " padded by " + spec.padH() + "x" + spec.padW());
        }
        return new long[] {inputShape[0], oh, ow, cOut};
    }

    /** A new output tensor for {@code input}, owned by {@code scope}. */
    public Tensor allocateOutput(Scope scope, Tensor input) {
        return Tensor.allocate(scope, device, DType.FLOAT32, outputShape(input.shape()));
    }

    /** {@code output = act(conv(input) + bias)}. */
    public void run(Tensor input, Tensor output) {
        run(input, null, output);
    }

    /**
     * {@code output = act(conv(input) + bias + residual)}; {@code residual} (same shape as the output,
     * or null) may be the output tensor itself. All tensors are dense float32 on this layer's device;
     * the output must not overlap the input.
     */
    public void run(Tensor input, Tensor residual, Tensor output) {
        run(input, residual, output, Precision.FP32);
    }

    /** {@link #run(Tensor, Tensor, Tensor)} with the given arithmetic on CUDA devices. */
    public void run(Tensor input, Tensor residual, Tensor output, Precision precision) {
        if (precision == null) {
            throw new InvalidArgumentException("conv2d: precision must not be null");
        }
        if (input == null || output == null) {
            throw new InvalidArgumentException("conv2d: input and output must not be null");
        }
        if (packed.buffer().isClosed()) {
            throw new InvalidArgumentException("conv2d: the layer is closed");
        }
        long[] outShape = outputShape(input.shape());
        checkTensor(input, "input", input.shape());
        checkTensor(output, "output", outShape);
        if (residual != null) {
            checkTensor(residual, "residual", outShape);
            if (residual.address() != output.address() && overlaps(residual, output)) {
                throw new InvalidArgumentException("conv2d: residual partly overlaps the output");
            }
        }
        if (overlaps(input, output)) {
            throw new InvalidArgumentException("conv2d: output overlaps the input");
        }
        long pixels = outShape[0] * outShape[1] * outShape[2];
        if (pixels > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("conv2d: " + pixels + " output pixels exceed the kernels' int range");
        }
        if (outShape[0] == 0) {
            return;
        }
        int n = (int) outShape[0];
        int h = (int) input.shape(1);
        int w = (int) input.shape(2);
        int oh = (int) outShape[1];
        int ow = (int) outShape[2];
        long in = input.address();
        long wt = packed.address();
        long b = bias == null ? 0 : bias.address();
        long r = residual == null ? 0 : residual.address();
        long out = output.address();
        Spec s = spec;
        int relu = s.relu() ? 1 : 0;
        boolean tf32 = precision == Precision.TF32;
        int status;
        switch (device) {
            case CPU:
                status = cpu(in, n, h, w, cIn, wt, cOut, kernelH, kernelW, b, r, out, oh, ow, s.strideH(), s.strideW(),
                        s.padH(), s.padW(), s.dilH(), s.dilW(), relu, 0, 0, 0);
                break;
            case CUDA:
                status = tf32
                        ? cudaTf32(in, n, h, w, cIn, wt, cOut, kernelH, kernelW, b, r, out, oh, ow, s.strideH(),
                                s.strideW(), s.padH(), s.padW(), s.dilH(), s.dilW(), relu, 0, 0, 0)
                        : cuda(in, n, h, w, cIn, wt, cOut, kernelH, kernelW, b, r, out, oh, ow, s.strideH(),
                                s.strideW(), s.padH(), s.padW(), s.dilH(), s.dilW(), relu, 0, 0, 0);
                break;
            default:
                status = tf32
                        ? emulatedTf32(in, n, h, w, cIn, wt, cOut, kernelH, kernelW, b, r, out, oh, ow, s.strideH(),
                                s.strideW(), s.padH(), s.padW(), s.dilH(), s.dilW(), relu, 0, 0, 0)
                        : emulated(in, n, h, w, cIn, wt, cOut, kernelH, kernelW, b, r, out, oh, ow, s.strideH(),
                                s.strideW(), s.padH(), s.padW(), s.dilH(), s.dilW(), relu, 0, 0, 0);
                break;
        }
        NativeStatus.check(status, tf32 && device != Device.CPU ? "conv2d_tf32" : "conv2d");
    }

    /** Frees the packed weight and the bias. Idempotent. */
    @Override
    public void close() {
        scope.release();
    }

    @Override
    public String toString() {
        return "Conv2d[" + cOut + "x" + cIn + "x" + kernelH + "x" + kernelW + " " + spec + " on " + device + "]";
    }

    // ---- validation ---------------------------------------------------------------------------

    private void checkTensor(Tensor t, String what, long[] shape) {
        if (t.dtype() != DType.FLOAT32) {
            throw new InvalidArgumentException("conv2d: " + what + " must be FLOAT32, got " + t.dtype());
        }
        if (t.device() != device) {
            throw new InvalidArgumentException("conv2d: " + what + " is on " + t.device() + ", the layer on " + device);
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new InvalidArgumentException("conv2d: " + what + " has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        t.requireContiguous("conv2d " + what);
        if (t.buffer().isClosed()) {
            throw new InvalidArgumentException("conv2d: " + what + " is closed");
        }
    }

    private static boolean overlaps(Tensor a, Tensor b) {
        if (a.buffer() != b.buffer() || a.bytes() == 0 || b.bytes() == 0) {
            return false;
        }
        long a0 = a.address();
        long b0 = b.address();
        return a0 < b0 + b.bytes() && b0 < a0 + a.bytes();
    }

    private static float[] hostFloats(Tensor t, String what, int rank) {
        if (t == null) {
            throw new InvalidArgumentException("conv2d: " + what + " must not be null");
        }
        if (t.dtype() != DType.FLOAT32 || t.rank() != rank) {
            throw new InvalidArgumentException("conv2d: " + what + " must be a rank-" + rank + " FLOAT32 tensor, got " + t);
        }
        return t.toFloatArray();
    }

    private static int[] dims(Tensor weight) {
        long[] s = weight.shape();
        int[] d = new int[4];
        for (int i = 0; i < 4; i++) {
            if (s[i] < 1 || s[i] > Integer.MAX_VALUE) {
                throw new InvalidArgumentException("conv2d: bad weight shape " + Arrays.toString(s));
            }
            d[i] = (int) s[i];
        }
        return d;
    }

    // ---- bindings -----------------------------------------------------------------------------

    @Name("mrcnn_cpu_conv2d_packed_weight_size")
    private static native @Cast("size_t") long cpuPackedSize(int cOut, int cIn, int kh, int kw);

    @Name("mrcnn_cuda_conv2d_packed_weight_size")
    private static native @Cast("size_t") long cudaPackedSize(int cOut, int cIn, int kh, int kw);

    @Name("mrcnn_emu_conv2d_packed_weight_size")
    private static native @Cast("size_t") long emuPackedSize(int cOut, int cIn, int kh, int kw);

    @Name("mrcnn_cpu_conv2d_pack_weight")
    private static native int cpuPack(@Cast("const float*") long weight, int cOut, int cIn, int kh, int kw,
                                      @Cast("float*") long packed);

    @Name("mrcnn_cuda_conv2d_pack_weight")
    private static native int cudaPack(@Cast("const float*") long weight, int cOut, int cIn, int kh, int kw,
                                       @Cast("float*") long packed);

    @Name("mrcnn_emu_conv2d_pack_weight")
    private static native int emuPack(@Cast("const float*") long weight, int cOut, int cIn, int kh, int kw,
                                      @Cast("float*") long packed);

    @Name("mrcnn_cpu_conv2d")
    private static native int cpu(@Cast("const float*") long input, int n, int h, int w, int cIn,
                                  @Cast("const float*") long packedWeight, int cOut, int kernelH, int kernelW,
                                  @Cast("const float*") long bias, @Cast("const float*") long residual,
                                  @Cast("float*") long output, int outH, int outW, int strideH, int strideW,
                                  int padH, int padW, int dilH, int dilW, int relu,
                                  @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
                                  @Cast("void*") long stream);

    @Name("mrcnn_cuda_conv2d")
    private static native int cuda(@Cast("const float*") long input, int n, int h, int w, int cIn,
                                   @Cast("const float*") long packedWeight, int cOut, int kernelH, int kernelW,
                                   @Cast("const float*") long bias, @Cast("const float*") long residual,
                                   @Cast("float*") long output, int outH, int outW, int strideH, int strideW,
                                   int padH, int padW, int dilH, int dilW, int relu,
                                   @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
                                   @Cast("void*") long stream);

    @Name("mrcnn_emu_conv2d")
    private static native int emulated(@Cast("const float*") long input, int n, int h, int w, int cIn,
                                       @Cast("const float*") long packedWeight, int cOut, int kernelH, int kernelW,
                                       @Cast("const float*") long bias, @Cast("const float*") long residual,
                                       @Cast("float*") long output, int outH, int outW, int strideH, int strideW,
                                       int padH, int padW, int dilH, int dilW, int relu,
                                       @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
                                       @Cast("void*") long stream);

    @Name("mrcnn_cuda_conv2d_tf32")
    private static native int cudaTf32(@Cast("const float*") long input, int n, int h, int w, int cIn,
                                       @Cast("const float*") long packedWeight, int cOut, int kernelH, int kernelW,
                                       @Cast("const float*") long bias, @Cast("const float*") long residual,
                                       @Cast("float*") long output, int outH, int outW, int strideH, int strideW,
                                       int padH, int padW, int dilH, int dilW, int relu,
                                       @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes,
                                       @Cast("void*") long stream);

    @Name("mrcnn_emu_conv2d_tf32")
    private static native int emulatedTf32(@Cast("const float*") long input, int n, int h, int w, int cIn,
                                           @Cast("const float*") long packedWeight, int cOut, int kernelH,
                                           int kernelW, @Cast("const float*") long bias,
                                           @Cast("const float*") long residual, @Cast("float*") long output,
                                           int outH, int outW, int strideH, int strideW, int padH, int padW,
                                           int dilH, int dilW, int relu, @Cast("void*") long workspace,
                                           @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);
}
