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
 * The FPN top-down step on NHWC activations, bound to {@code mrcnn_<backend>_upsample_nearest_add}
 * of native/include/mrcnn/upsample_nearest_add.h:
 * <pre>
 *   output = lateral + F.interpolate(top, size=lateral's (H, W), mode="nearest")
 * </pre>
 * with torch 1.13's nearest source index: {@code y} when the sizes are equal, {@code y >> 1} for
 * exactly 2x, else {@code min(floor(y * (float) inH / outH), inH - 1)} in float32 (likewise x).
 * Without a lateral it is the plain {@code F.interpolate(top, size, mode="nearest")}. Tensors are
 * dense float32 on one device, {@code top [N, inH, inW, C]}, {@code lateral}/{@code output [N, outH,
 * outW, C]}; the output may be the lateral itself (in-place add) but must not overlap {@code top}.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/upsample_nearest_add.h"}, library = NativeLibrary.NAME)
public final class UpsampleNearestAdd {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "upsample_nearest_add";

    private UpsampleNearestAdd() {
    }

    /** {@code lateral + upsample(top)} into a new tensor owned by {@code scope}. */
    public static Tensor run(Scope scope, Tensor top, Tensor lateral) {
        SmallOps.nhwc(OP, "lateral", lateral);
        return SmallOps.newOutput(scope, lateral.device(), lateral.shape(), o -> run(top, lateral, o));
    }

    /** Plain nearest upsampling of {@code top} to {@code outH x outW}, into a new tensor owned by {@code scope}. */
    public static Tensor upsample(Scope scope, Tensor top, int outH, int outW) {
        SmallOps.nhwc(OP, "top", top);
        if (outH < 1 || outW < 1) {
            throw new InvalidArgumentException(OP + ": output size " + outH + "x" + outW + " must be positive");
        }
        long[] shape = {top.shape(0), outH, outW, top.shape(3)};
        return SmallOps.newOutput(scope, top.device(), shape, o -> run(top, null, o));
    }

    /**
     * {@code output = lateral + upsample(top)}, or {@code output = upsample(top)} when {@code lateral} is
     * null; the output's height and width are the target size. {@code output} may be {@code lateral}.
     */
    public static void run(Tensor top, Tensor lateral, Tensor output) {
        SmallOps.nhwc(OP, "top", top);
        SmallOps.nhwc(OP, "output", output);
        long[] ts = top.shape();
        long[] os = output.shape();
        if (ts[1] < 1 || ts[2] < 1 || os[1] < 1 || os[2] < 1) {
            throw new InvalidArgumentException(OP + ": top " + top + " and output " + output + " need H, W >= 1");
        }
        if (ts[0] != os[0] || ts[3] != os[3]) {
            throw new InvalidArgumentException(OP + ": top " + top + " and output " + output
                    + " differ in batch or channels");
        }
        Device device = top.device();
        SmallOps.sameDevice(OP, device, "output", output);
        SmallOps.disjoint(OP, "top", top, output);
        if (lateral != null) {
            SmallOps.shaped(OP, "lateral", lateral, os);
            SmallOps.sameDevice(OP, device, "lateral", lateral);
            SmallOps.sameOrDisjoint(OP, "lateral", lateral, output);
        }
        if (output.numel() == 0) {
            return;
        }
        int n = (int) ts[0], inH = (int) ts[1], inW = (int) ts[2], c = (int) ts[3];
        int outH = (int) os[1], outW = (int) os[2];
        long lat = lateral == null ? 0 : lateral.address();
        int status;
        switch (device) {
            case CPU: status = cpu(top.address(), n, inH, inW, c, lat, output.address(), outH, outW, 0); break;
            case CUDA: status = cuda(top.address(), n, inH, inW, c, lat, output.address(), outH, outW, 0); break;
            default: status = emulated(top.address(), n, inH, inW, c, lat, output.address(), outH, outW, 0); break;
        }
        NativeStatus.check(status, OP);
    }

    @Name("mrcnn_cpu_upsample_nearest_add")
    private static native int cpu(@Cast("const float*") long top, int n, int inH, int inW, int c,
                                  @Cast("const float*") long lateral, @Cast("float*") long output, int outH, int outW,
                                  @Cast("void*") long stream);

    @Name("mrcnn_cuda_upsample_nearest_add")
    private static native int cuda(@Cast("const float*") long top, int n, int inH, int inW, int c,
                                   @Cast("const float*") long lateral, @Cast("float*") long output, int outH, int outW,
                                   @Cast("void*") long stream);

    @Name("mrcnn_emu_upsample_nearest_add")
    private static native int emulated(@Cast("const float*") long top, int n, int inH, int inW, int c,
                                       @Cast("const float*") long lateral, @Cast("float*") long output, int outH,
                                       int outW, @Cast("void*") long stream);
}
