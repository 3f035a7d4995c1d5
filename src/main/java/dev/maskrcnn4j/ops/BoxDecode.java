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
 * torchvision 0.14's {@code BoxCoder.decode} (float32), optionally followed by
 * {@code box_ops.clip_boxes_to_image}, in one pass; bound to {@code mrcnn_<backend>_box_decode} of
 * native/include/mrcnn/box_decode.h. For each reference box (x1, y1, x2, y2) and each of its K
 * deltas (dx, dy, dw, dh):
 * <pre>
 *   w = x2 - x1, cx = x1 + 0.5 w           (likewise h, cy)
 *   dw = min(dw / ww, xformClip)           (likewise dh; dx / wx, dy / wy)
 *   px = dx * w + cx, pw = exp(dw) * w     (likewise py, ph)
 *   box = (px - 0.5 pw, py - 0.5 ph, px + 0.5 pw, py + 0.5 ph)
 *   clipped: x in [0, imageW], y in [0, imageH]
 * </pre>
 * Deltas {@code [N, K*4]} (torchvision's layout) or {@code [N, K, 4]}, boxes {@code [N, 4]}, output
 * {@code [N, K, 4]}; dense float32 on one device, the output disjoint from the inputs. The RPN
 * decodes with K = 1 and {@link Coder#RPN}, the box head with K = num_classes and
 * {@link Coder#BOX_HEAD}. Values are not checked: NaN or infinite inputs propagate as in torch
 * (an infinite dw is clamped to {@code xformClip}). The exp differs from torch's (Sleef) by at most
 * an ulp, so results agree with torchvision to a few ulps; CPU and emulated CUDA agree bit for bit.
 */
@Platform(include = "mrcnn/box_decode.h", library = NativeLibrary.NAME)
public final class BoxDecode {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "box_decode";

    /** torchvision's default {@code bbox_xform_clip}, log(1000 / 16). */
    public static final double DEFAULT_XFORM_CLIP = Math.log(1000.0 / 16);

    private BoxDecode() {
    }

    /**
     * A BoxCoder: the weights (wx, wy, ww, wh), finite and positive, and the clamp of dw/dh. torch
     * computes in float32, so each value is used as the nearest float.
     */
    public record Coder(double wx, double wy, double ww, double wh, double xformClip) {
        /** torchvision's RPN coder: weights (1, 1, 1, 1). */
        public static final Coder RPN = new Coder(1, 1, 1, 1, DEFAULT_XFORM_CLIP);
        /** torchvision's RoIHeads coder: weights (10, 10, 5, 5). */
        public static final Coder BOX_HEAD = new Coder(10, 10, 5, 5, DEFAULT_XFORM_CLIP);

        public Coder {
            for (double w : new double[] {wx, wy, ww, wh}) {
                if (!(w > 0) || !Float.isFinite((float) w) || (float) w == 0f) {
                    throw new InvalidArgumentException(OP + ": weights (" + wx + ", " + wy + ", " + ww + ", " + wh
                            + ") must be finite and > 0 in float32");
                }
            }
            if (Double.isNaN(xformClip)) {
                throw new InvalidArgumentException(OP + ": xformClip is NaN");
            }
        }
    }

    /** Output shape {@code [N, K, 4]} for deltas {@code [N, K*4]} or {@code [N, K, 4]} and boxes {@code [N, 4]}. */
    public static long[] outputShape(long[] deltasShape, long[] boxesShape) {
        if (boxesShape == null || boxesShape.length != 2 || boxesShape[1] != 4 || boxesShape[0] < 0) {
            throw new InvalidArgumentException(OP + ": boxes must be [N, 4], got " + Arrays.toString(boxesShape));
        }
        long n = boxesShape[0];
        long k;
        if (deltasShape != null && deltasShape.length == 2 && deltasShape[0] == n && deltasShape[1] > 0
                && deltasShape[1] % 4 == 0) {
            k = deltasShape[1] / 4;
        } else if (deltasShape != null && deltasShape.length == 3 && deltasShape[0] == n && deltasShape[1] > 0
                && deltasShape[2] == 4) {
            k = deltasShape[1];
        } else {
            throw new InvalidArgumentException(OP + ": deltas must be [" + n + ", K*4] or [" + n + ", K, 4] with K >= 1, got "
                    + Arrays.toString(deltasShape));
        }
        if (n > Integer.MAX_VALUE || k > Integer.MAX_VALUE / 4 || n * k > (1L << 40)) {
            throw new InvalidArgumentException(OP + ": " + n + " boxes x " + k + " classes is too many");
        }
        return new long[] {n, k, 4};
    }

    /** Decodes into a new {@code [N, K, 4]} tensor owned by {@code scope}, without clipping. */
    public static Tensor decode(Scope scope, Tensor deltas, Tensor boxes, Coder coder) {
        return allocateAndRun(scope, deltas, boxes, coder, false, 0, 0);
    }

    /** Decodes and clips to an {@code imageH x imageW} image into a new tensor owned by {@code scope}. */
    public static Tensor decodeClipped(Scope scope, Tensor deltas, Tensor boxes, Coder coder, int imageH, int imageW) {
        return allocateAndRun(scope, deltas, boxes, coder, true, imageH, imageW);
    }

    /**
     * Decodes into {@code output} ({@link #outputShape}); with {@code clip}, x is clamped to
     * [0, imageW] and y to [0, imageH] (both {@code >= 0}).
     */
    public static void run(Tensor deltas, Tensor boxes, Coder coder, boolean clip, int imageH, int imageW, Tensor output) {
        if (coder == null) {
            throw new InvalidArgumentException(OP + ": coder is null");
        }
        SmallOps.denseFloat(OP, "boxes", boxes, 2);
        SmallOps.denseFloat(OP, "deltas", deltas, -1);
        long[] shape = outputShape(deltas.shape(), boxes.shape());
        SmallOps.shaped(OP, "output", output, shape);
        Device device = boxes.device();
        SmallOps.sameDevice(OP, device, "deltas", deltas);
        SmallOps.sameDevice(OP, device, "output", output);
        SmallOps.disjoint(OP, "the deltas", deltas, output);
        SmallOps.disjoint(OP, "the boxes", boxes, output);
        if (clip && (imageH < 0 || imageW < 0)) {
            throw new InvalidArgumentException(OP + ": image size " + imageH + "x" + imageW + " must be >= 0");
        }
        int n = (int) shape[0];
        int k = (int) shape[1];
        if (n == 0) {
            return;
        }
        float wx = (float) coder.wx();
        float wy = (float) coder.wy();
        float ww = (float) coder.ww();
        float wh = (float) coder.wh();
        float xc = (float) coder.xformClip();
        int c = clip ? 1 : 0;
        int h = clip ? imageH : 0;
        int w = clip ? imageW : 0;
        int status;
        switch (device) {
            case CPU:
                status = cpu(deltas.address(), boxes.address(), n, k, wx, wy, ww, wh, xc, c, h, w, output.address(), 0);
                break;
            case CUDA:
                status = cuda(deltas.address(), boxes.address(), n, k, wx, wy, ww, wh, xc, c, h, w, output.address(), 0);
                break;
            default:
                status = emulated(deltas.address(), boxes.address(), n, k, wx, wy, ww, wh, xc, c, h, w, output.address(), 0);
                break;
        }
        NativeStatus.check(status, OP);
    }

    private static Tensor allocateAndRun(Scope scope, Tensor deltas, Tensor boxes, Coder coder, boolean clip, int imageH,
            int imageW) {
        if (scope == null) {
            throw new InvalidArgumentException(OP + ": scope is null");
        }
        SmallOps.denseFloat(OP, "boxes", boxes, 2);
        SmallOps.denseFloat(OP, "deltas", deltas, -1);
        return SmallOps.newOutput(scope, boxes.device(), outputShape(deltas.shape(), boxes.shape()),
                out -> run(deltas, boxes, coder, clip, imageH, imageW, out));
    }

    @Name("mrcnn_cpu_box_decode")
    private static native int cpu(@Cast("const float*") long deltas, @Cast("const float*") long boxes, int n, int k,
            float wx, float wy, float ww, float wh, float dwhClip, int clip, int imageH, int imageW,
            @Cast("float*") long out, @Cast("void*") long stream);

    @Name("mrcnn_cuda_box_decode")
    private static native int cuda(@Cast("const float*") long deltas, @Cast("const float*") long boxes, int n, int k,
            float wx, float wy, float ww, float wh, float dwhClip, int clip, int imageH, int imageW,
            @Cast("float*") long out, @Cast("void*") long stream);

    @Name("mrcnn_emu_box_decode")
    private static native int emulated(@Cast("const float*") long deltas, @Cast("const float*") long boxes, int n, int k,
            float wx, float wy, float ww, float wh, float dwhClip, int clip, int imageH, int imageW,
            @Cast("float*") long out, @Cast("void*") long stream);
}
