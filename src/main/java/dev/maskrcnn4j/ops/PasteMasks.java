package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
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
 * Mask paste: torchvision 0.14's {@code roi_heads.paste_masks_in_image} (the last step of Mask
 * R-CNN's post-processing), bound to {@code mrcnn_<backend>_paste_masks} of
 * native/include/mrcnn/paste_masks.h, with the exact arithmetic in
 * native/include/mrcnn/math/paste_masks.h. Each {@code [maskH, maskW]} probability mask is
 * padded by {@code padding} zero pixels, its box widened by {@code (maskW + 2 padding) / maskW}
 * around the centre and truncated to integers, resized bilinearly ({@code align_corners=False})
 * to that box and placed into an {@code imgH x imgW} canvas, clipped to the image; every pixel
 * outside the box is 0. The CPU backend reproduces torch's float values bit for bit.
 *
 * <p>Outputs, either or both, written in one pass: the soft masks {@code FLOAT32 [K, imgH, imgW]}
 * and the binary masks {@code UINT8 [K, imgH, imgW]}, 1 where the soft value is strictly above
 * {@code threshold} ({@code > 0.5} is what torchvision users apply). With only the binary output
 * no float image-sized memory is used at all.
 *
 * <p>Inputs: masks {@code FLOAT32 [K, maskH, maskW]}, boxes {@code FLOAT32 [K, 4]} (x0, y0, x1, y1
 * in image pixels, finite; inverted or zero-area boxes are allowed and paste one pixel or none, as
 * in torchvision), dense, on one device; outputs dense on the same device, not overlapping each
 * other or the inputs. {@code K = 0} or an empty image is a defined no-op. Boxes wholly outside the
 * image give all-zero masks (torchvision raises a shape error for most of them). Everything is
 * checked before any native call ({@link InvalidArgumentException}); the box check reads the boxes
 * back, which waits for the stream on CUDA.
 */
@Platform(include = {"mrcnn/api.h", "mrcnn/paste_masks.h"}, library = NativeLibrary.NAME)
public final class PasteMasks {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "paste_masks";
    /** torchvision's padding (roi_heads.paste_masks_in_image's default). */
    public static final int DEFAULT_PADDING = 1;
    /** The usual binarisation threshold of Mask R-CNN's soft masks. */
    public static final float DEFAULT_THRESHOLD = 0.5f;
    /** Largest padded mask side the kernels accept (MRCNN_PASTE_MAX_MASK_SIDE). */
    public static final int MAX_PADDED_MASK_SIDE = 65536;

    private PasteMasks() {
    }

    /** {@link #paste(Tensor, Tensor, int, int, int, float, Tensor, Tensor)} with torchvision's padding 1. */
    public static void paste(Tensor masks, Tensor boxes, int imgH, int imgW, float threshold, Tensor softOut,
            Tensor binaryOut) {
        paste(masks, boxes, imgH, imgW, DEFAULT_PADDING, threshold, softOut, binaryOut);
    }

    /**
     * Pastes the K masks into {@code softOut} ({@code FLOAT32 [K, imgH, imgW]} or null) and/or
     * {@code binaryOut} ({@code UINT8 [K, imgH, imgW]} or null; not both null). {@code threshold}
     * must be finite and {@code >= 0}.
     */
    public static void paste(Tensor masks, Tensor boxes, int imgH, int imgW, int padding, float threshold,
            Tensor softOut, Tensor binaryOut) {
        SmallOps.denseFloat(OP, "masks", masks, 3);
        long k = masks.shape(0);
        long maskH = masks.shape(1);
        long maskW = masks.shape(2);
        if (k > Integer.MAX_VALUE) {
            throw new InvalidArgumentException(OP + ": " + k + " masks is too many");
        }
        if (maskH < 1 || maskW < 1) {
            throw new InvalidArgumentException(OP + ": masks must be at least 1x1, got " + masks);
        }
        if (padding < 0) {
            throw new InvalidArgumentException(OP + ": padding " + padding + " must be >= 0");
        }
        if (maskH + 2L * padding > MAX_PADDED_MASK_SIDE || maskW + 2L * padding > MAX_PADDED_MASK_SIDE) {
            throw new InvalidArgumentException(OP + ": padded mask " + maskH + "x" + maskW + " (padding " + padding
                    + ") exceeds " + MAX_PADDED_MASK_SIDE + " per side");
        }
        SmallOps.shaped(OP, "boxes", boxes, new long[] {k, 4});
        Device device = masks.device();
        SmallOps.sameDevice(OP, device, "boxes", boxes);
        if (imgH < 0 || imgW < 0) {
            throw new InvalidArgumentException(OP + ": image size " + imgH + "x" + imgW + " is negative");
        }
        if (!(threshold >= 0f && Float.isFinite(threshold))) {
            throw new InvalidArgumentException(OP + ": threshold " + threshold + " must be finite and >= 0");
        }
        if (softOut == null && binaryOut == null) {
            throw new InvalidArgumentException(OP + ": no output (softOut and binaryOut are both null)");
        }
        long[] outShape = {k, imgH, imgW};
        if (softOut != null) {
            SmallOps.shaped(OP, "softOut", softOut, outShape);
            SmallOps.sameDevice(OP, device, "softOut", softOut);
            SmallOps.disjoint(OP, "masks", masks, softOut);
            SmallOps.disjoint(OP, "boxes", boxes, softOut);
        }
        if (binaryOut != null) {
            checkBinary(binaryOut, outShape);
            SmallOps.sameDevice(OP, device, "binaryOut", binaryOut);
            SmallOps.disjoint(OP, "masks", masks, binaryOut);
            SmallOps.disjoint(OP, "boxes", boxes, binaryOut);
            if (softOut != null) {
                SmallOps.disjoint(OP, "softOut", softOut, binaryOut);
            }
        }
        if (k == 0 || imgH == 0 || imgW == 0) {
            return;
        }
        float[] b = boxes.toFloatArray();
        for (int i = 0; i < b.length; i++) {
            if (!Float.isFinite(b[i])) {
                throw new InvalidArgumentException(OP + ": box " + (i / 4) + " has a non-finite coordinate (" + b[i] + ")");
            }
        }
        long soft = softOut == null ? 0 : softOut.address();
        long binary = binaryOut == null ? 0 : binaryOut.address();
        int status;
        switch (device) {
            case CPU:
                status = cpu(masks.address(), (int) k, (int) maskH, (int) maskW, boxes.address(), imgH, imgW, padding,
                        threshold, soft, binary, 0);
                break;
            case CUDA:
                status = cuda(masks.address(), (int) k, (int) maskH, (int) maskW, boxes.address(), imgH, imgW, padding,
                        threshold, soft, binary, 0);
                break;
            default:
                status = emulated(masks.address(), (int) k, (int) maskH, (int) maskW, boxes.address(), imgH, imgW,
                        padding, threshold, soft, binary, 0);
                break;
        }
        NativeStatus.check(status, OP);
    }

    /**
     * Convenience: a new {@code UINT8 [K, imgH, imgW]} binary mask tensor owned by {@code scope}
     * (padding 1), without any float image-sized memory.
     */
    public static Tensor pasteBinary(Scope scope, Tensor masks, Tensor boxes, int imgH, int imgW, float threshold) {
        if (scope == null) {
            throw new InvalidArgumentException(OP + ": scope is null");
        }
        SmallOps.denseFloat(OP, "masks", masks, 3);
        if (imgH < 0 || imgW < 0) {
            throw new InvalidArgumentException(OP + ": image size " + imgH + "x" + imgW + " is negative");
        }
        Tensor out = Tensor.allocate(scope, masks.device(), DType.UINT8, masks.shape(0), imgH, imgW);
        try {
            paste(masks, boxes, imgH, imgW, DEFAULT_PADDING, threshold, null, out);
            return out;
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
    }

    private static void checkBinary(Tensor t, long[] shape) {
        if (t.dtype() != DType.UINT8) {
            throw new InvalidArgumentException(OP + ": binaryOut must be UINT8, got " + t);
        }
        if (!Arrays.equals(t.shape(), shape)) {
            throw new InvalidArgumentException(OP + ": binaryOut has shape " + Arrays.toString(t.shape())
                    + ", expected " + Arrays.toString(shape));
        }
        if (t.numel() > 0) {
            t.requireContiguous(OP + " binaryOut");
        }
        if (t.buffer().isClosed()) {
            throw new InvalidArgumentException(OP + ": binaryOut is closed");
        }
    }

    // ---- native -----------------------------------------------------------------------------

    @Name("mrcnn_cpu_paste_masks")
    private static native int cpu(@Cast("const float*") long masks, int k, int maskH, int maskW,
            @Cast("const float*") long boxes, int imgH, int imgW, int padding, float threshold,
            @Cast("float*") long softOut, @Cast("uint8_t*") long binaryOut, @Cast("void*") long stream);

    @Name("mrcnn_cuda_paste_masks")
    private static native int cuda(@Cast("const float*") long masks, int k, int maskH, int maskW,
            @Cast("const float*") long boxes, int imgH, int imgW, int padding, float threshold,
            @Cast("float*") long softOut, @Cast("uint8_t*") long binaryOut, @Cast("void*") long stream);

    @Name("mrcnn_emu_paste_masks")
    private static native int emulated(@Cast("const float*") long masks, int k, int maskH, int maskW,
            @Cast("const float*") long boxes, int imgH, int imgW, int padding, float threshold,
            @Cast("float*") long softOut, @Cast("uint8_t*") long binaryOut, @Cast("void*") long stream);
}
