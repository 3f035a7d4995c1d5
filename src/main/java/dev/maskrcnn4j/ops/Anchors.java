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
 * torchvision 0.14's {@code AnchorGenerator} (float32). {@link #cellAnchors} is
 * {@code generate_anchors}, computed here in Java with torch's float32 steps (bit for bit);
 * {@link #grid} is {@code grid_anchors} for one level, bound to {@code mrcnn_<backend>_anchors} of
 * native/include/mrcnn/anchors.h; {@link #generate} is {@code forward} for one image: every
 * level's anchors concatenated, level by level, each ordered (y, x, cell anchor).
 * <pre>
 *   cell anchors:  h = sqrt(ratio), w = 1 / h, ws = w * scale, hs = h * scale (ratio-major),
 *                  round((-ws, -hs, ws, hs) / 2)   (round half to even)
 *   level anchors: (x * strideW, y * strideH, x * strideW, y * strideH) + cell anchor,
 *                  strides = padded image size / grid size (integer division)
 * </pre>
 */
@Platform(include = "mrcnn/anchors.h", library = NativeLibrary.NAME)
public final class Anchors {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "anchors";

    /** Most cell anchors per location the native op takes (MRCNN_ANCHORS_MAX_PER_LOCATION). */
    public static final int MAX_PER_LOCATION = 64;

    /** Mask R-CNN's FPN anchor sizes, one per level (P2..P6). */
    public static final double[][] FPN_SIZES = {{32}, {64}, {128}, {256}, {512}};
    /** Mask R-CNN's aspect ratios (height / width), the same on every level. */
    public static final double[] FPN_RATIOS = {0.5, 1.0, 2.0};

    private Anchors() {
    }

    /**
     * {@code AnchorGenerator.generate_anchors(scales, aspectRatios)}: {@code ratios.length * scales.length}
     * zero-centred anchors (x1, y1, x2, y2), ratio-major, as a flat array. Scales and ratios are
     * rounded to float32 first, as torch does.
     */
    public static float[] cellAnchors(double[] scales, double[] aspectRatios) {
        if (scales == null || aspectRatios == null || scales.length == 0 || aspectRatios.length == 0) {
            throw new InvalidArgumentException(OP + ": scales and aspect ratios must not be empty");
        }
        if ((long) scales.length * aspectRatios.length > MAX_PER_LOCATION) {
            throw new InvalidArgumentException(OP + ": " + scales.length + " scales x " + aspectRatios.length
                    + " ratios exceed " + MAX_PER_LOCATION + " anchors per location");
        }
        float[] out = new float[scales.length * aspectRatios.length * 4];
        int o = 0;
        for (double ratio : aspectRatios) {
            float r = (float) ratio;
            if (!(r > 0) || Float.isInfinite(r)) {
                throw new InvalidArgumentException(OP + ": aspect ratio " + ratio + " must be finite and > 0");
            }
            float h = (float) Math.sqrt(r); // the double sqrt of a float, rounded once more: torch's float sqrt
            float w = 1f / h;
            for (double scale : scales) {
                float s = (float) scale;
                if (!(s > 0) || Float.isInfinite(s)) {
                    throw new InvalidArgumentException(OP + ": scale " + scale + " must be finite and > 0");
                }
                float ws = w * s;
                float hs = h * s;
                out[o++] = (float) Math.rint(-ws / 2f);
                out[o++] = (float) Math.rint(-hs / 2f);
                out[o++] = (float) Math.rint(ws / 2f);
                out[o++] = (float) Math.rint(hs / 2f);
            }
        }
        return out;
    }

    /** {@link #cellAnchors} of every level: {@code sizes[l]} with {@code ratios[l]}. */
    public static float[][] cellAnchors(double[][] sizes, double[][] ratios) {
        if (sizes == null || ratios == null || sizes.length != ratios.length) {
            throw new InvalidArgumentException(OP + ": one list of sizes and one of ratios per level");
        }
        float[][] cells = new float[sizes.length][];
        for (int l = 0; l < sizes.length; l++) {
            cells[l] = cellAnchors(sizes[l], ratios[l]);
        }
        return cells;
    }

    /** Mask R-CNN's cell anchors: {@link #FPN_SIZES} with {@link #FPN_RATIOS} on each of the 5 levels. */
    public static float[][] fpnCellAnchors() {
        double[][] ratios = new double[FPN_SIZES.length][];
        java.util.Arrays.fill(ratios, FPN_RATIOS);
        return cellAnchors(FPN_SIZES, ratios);
    }

    /** Anchors one level yields: gridH * gridW * (cell.length / 4). */
    public static long count(float[] cell, int gridH, int gridW) {
        checkCell(cell);
        if (gridH < 0 || gridW < 0) {
            throw new InvalidArgumentException(OP + ": grid " + gridH + "x" + gridW + " must be >= 0");
        }
        return (long) gridH * gridW * (cell.length / 4);
    }

    /** One level's anchors {@code [gridH * gridW * A, 4]} on {@code device}, owned by {@code scope}. */
    public static Tensor grid(Scope scope, Device device, float[] cell, int gridH, int gridW, int strideH, int strideW) {
        if (scope == null || device == null) {
            throw new InvalidArgumentException(OP + ": scope or device is null");
        }
        return SmallOps.newOutput(scope, device, new long[] {count(cell, gridH, gridW), 4},
                out -> grid(cell, gridH, gridW, strideH, strideW, out));
    }

    /** One level's anchors into {@code out}, a dense FLOAT32 {@code [gridH * gridW * A, 4]} tensor. */
    public static void grid(float[] cell, int gridH, int gridW, int strideH, int strideW, Tensor out) {
        long count = count(cell, gridH, gridW);
        if (strideH < 0 || strideW < 0) {
            throw new InvalidArgumentException(OP + ": strides " + strideH + "x" + strideW + " must be >= 0");
        }
        if ((gridH > 0 && (long) (gridH - 1) * strideH > Integer.MAX_VALUE)
                || (gridW > 0 && (long) (gridW - 1) * strideW > Integer.MAX_VALUE)) {
            throw new InvalidArgumentException(OP + ": shifts of grid " + gridH + "x" + gridW + " with strides "
                    + strideH + "x" + strideW + " overflow int32");
        }
        if (count > Integer.MAX_VALUE) {
            throw new InvalidArgumentException(OP + ": " + count + " anchors is too many");
        }
        SmallOps.shaped(OP, "output", out, new long[] {count, 4});
        if (count == 0) {
            return;
        }
        int a = cell.length / 4;
        int status;
        switch (out.device()) {
            case CPU:
                status = cpu(cell, a, gridH, gridW, strideH, strideW, out.address(), 0);
                break;
            case CUDA:
                status = cuda(cell, a, gridH, gridW, strideH, strideW, out.address(), 0);
                break;
            default:
                status = emulated(cell, a, gridH, gridW, strideH, strideW, out.address(), 0);
                break;
        }
        NativeStatus.check(status, OP);
    }

    /**
     * {@code AnchorGenerator.forward} for one image of a batch padded to {@code imageH x imageW}:
     * level l has a {@code gridSizes[l][0] x gridSizes[l][1]} feature map, stride
     * {@code imageH / gridH} by {@code imageW / gridW} (integer division, as torchvision), and the
     * cell anchors {@code cells[l]}. Returns all levels' anchors concatenated, {@code [sum, 4]}.
     */
    public static Tensor generate(Scope scope, Device device, float[][] cells, int imageH, int imageW, int[][] gridSizes) {
        if (scope == null || device == null || cells == null || gridSizes == null) {
            throw new InvalidArgumentException(OP + ": null argument");
        }
        if (cells.length != gridSizes.length || cells.length == 0) {
            throw new InvalidArgumentException(OP + ": " + cells.length + " levels of cell anchors for "
                    + gridSizes.length + " feature maps");
        }
        if (imageH < 1 || imageW < 1) {
            throw new InvalidArgumentException(OP + ": image size " + imageH + "x" + imageW + " must be positive");
        }
        long total = 0;
        long[] counts = new long[cells.length];
        for (int l = 0; l < cells.length; l++) {
            if (gridSizes[l] == null || gridSizes[l].length != 2 || gridSizes[l][0] < 1 || gridSizes[l][1] < 1) {
                throw new InvalidArgumentException(OP + ": grid size of level " + l + " must be {h >= 1, w >= 1}");
            }
            counts[l] = count(cells[l], gridSizes[l][0], gridSizes[l][1]);
            total += counts[l];
        }
        if (total > Integer.MAX_VALUE) {
            throw new InvalidArgumentException(OP + ": " + total + " anchors is too many");
        }
        return SmallOps.newOutput(scope, device, new long[] {total, 4}, out -> {
            long offset = 0;
            for (int l = 0; l < cells.length; l++) {
                int gh = gridSizes[l][0];
                int gw = gridSizes[l][1];
                grid(cells[l], gh, gw, imageH / gh, imageW / gw, out.narrow(0, offset, counts[l]));
                offset += counts[l];
            }
        });
    }

    private static void checkCell(float[] cell) {
        if (cell == null || cell.length == 0 || cell.length % 4 != 0 || cell.length / 4 > MAX_PER_LOCATION) {
            throw new InvalidArgumentException(OP + ": cell anchors must be 1.." + MAX_PER_LOCATION
                    + " boxes of 4 floats, got " + (cell == null ? "null" : cell.length + " floats"));
        }
        for (float v : cell) {
            if (!Float.isFinite(v)) {
                throw new InvalidArgumentException(OP + ": cell anchor coordinate " + v + " is not finite");
            }
        }
    }

    @Name("mrcnn_cpu_anchors")
    private static native int cpu(@Cast("const float*") float[] base, int a, int gridH, int gridW, int strideH,
            int strideW, @Cast("float*") long out, @Cast("void*") long stream);

    @Name("mrcnn_cuda_anchors")
    private static native int cuda(@Cast("const float*") float[] base, int a, int gridH, int gridW, int strideH,
            int strideW, @Cast("float*") long out, @Cast("void*") long stream);

    @Name("mrcnn_emu_anchors")
    private static native int emulated(@Cast("const float*") float[] base, int a, int gridH, int gridW, int strideH,
            int strideW, @Cast("float*") long out, @Cast("void*") long stream);
}
