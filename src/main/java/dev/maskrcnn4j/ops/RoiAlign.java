package dev.maskrcnn4j.ops;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.nativelib.NativeLibrary;
import dev.maskrcnn4j.nativelib.NativeStatus;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Arrays;
import java.util.List;
import org.bytedeco.javacpp.annotation.Cast;
import org.bytedeco.javacpp.annotation.Name;
import org.bytedeco.javacpp.annotation.Platform;

/**
 * RoIAlign with torchvision 0.14 semantics, on NHWC feature maps.
 *
 * <ul>
 * <li>{@link #roiAlign} is {@code torchvision.ops.roi_align}: rois {@code [K, 5]} = (batch index,
 *     x1, y1, x2, y2) in image coordinates, scaled by {@code spatialScale}; each of the
 *     {@code pooledH x pooledW} bins averages a grid of bilinear samples ({@code samplingRatio}
 *     per side, or {@code ceil(roi size / pooled size)} when {@code <= 0}). {@code aligned} shifts
 *     by -0.5 pixel; without it a roi is at least 1x1. A sample outside [-1, H] x [-1, W] counts as
 *     zero; inside, it is clamped to the border.</li>
 * <li>{@link #multiLevel} is {@code torchvision.ops.MultiScaleRoIAlign}: each roi is assigned an FPN
 *     level by the LevelMapper ({@code floor(4 + log2(sqrt(area) / 224) + 1e-6)} clamped to
 *     [k_min, k_max], in float32) and pooled from it, in one launch; the output keeps the rois'
 *     order. A roi of negative area matches no level and gets zeros, as in torchvision.</li>
 * </ul>
 * Input {@code [N, H, W, C]}, output {@code [K, pooledH, pooledW, C]}, all dense float32 on one
 * device. Arguments are validated before any native call (shapes, dtypes, devices, batch indices
 * integral and in range, finite coordinates); an empty roi list gives an empty output.
 */
@Platform(include = "mrcnn/roi_align.h", library = NativeLibrary.NAME)
public final class RoiAlign {
    static {
        NativeLibrary.load();
    }

    /** torchvision's LevelMapper defaults. */
    public static final int CANONICAL_SCALE = 224;
    public static final int CANONICAL_LEVEL = 4;
    public static final float LEVEL_EPS = 1e-6f;
    /** Most feature maps a multi-level call takes (MRCNN_MAX_LEVELS). */
    public static final int MAX_LEVELS = 8;

    private RoiAlign() {
    }

    /**
     * The FPN levels of a multi-level call: the spatial scale of each feature map and the
     * LevelMapper's parameters. Level index {@code lvl - kMin} selects the feature map.
     */
    public record Pyramid(float[] scales, int kMin, int kMax, int canonicalScale, int canonicalLevel, float eps) {
        public Pyramid {
            scales = scales.clone();
        }

        @Override
        public float[] scales() {
            return scales.clone();
        }

        /**
         * What MultiScaleRoIAlign infers from the feature maps and the images' size
         * ({@code imageH}/{@code imageW}: the largest height and width of the batch's images before
         * padding): scale_l = 2^round(log2(H_l / imageH)) in float32 (only the heights count, as in
         * torchvision), k_min = -log2(scale_0), k_max = -log2(scale_last), canonical 224 / level 4.
         */
        public static Pyramid infer(List<Tensor> levels, int imageH, int imageW) {
            if (levels == null || levels.isEmpty()) {
                throw new InvalidArgumentException("roi_align: no feature maps");
            }
            if (imageH <= 0 || imageW <= 0) {
                throw new InvalidArgumentException("roi_align: image size " + imageH + "x" + imageW + " must be positive");
            }
            float[] scales = new float[levels.size()];
            for (int i = 0; i < scales.length; i++) {
                Tensor t = levels.get(i);
                if (t == null || t.rank() != 4) {
                    throw new InvalidArgumentException("roi_align: level " + i + " must be [N, H, W, C], got " + t);
                }
                float approx = (float) ((double) t.shape(1) / (double) imageH);
                double log2 = (float) (Math.log(approx) / Math.log(2.0)); // torch: float32 log2
                scales[i] = (float) Math.pow(2.0, Math.rint(log2));      // torch.round: half to even
            }
            int kMin = (int) -log2Exact(scales[0]);
            int kMax = (int) -log2Exact(scales[scales.length - 1]);
            return new Pyramid(scales, kMin, kMax, CANONICAL_SCALE, CANONICAL_LEVEL, LEVEL_EPS);
        }

        private static double log2Exact(float powerOfTwo) {
            return Math.getExponent(powerOfTwo);
        }
    }

    // ---- single level ---------------------------------------------------------------------

    /** {@code torchvision.ops.roi_align} into a new {@code [K, pooledH, pooledW, C]} tensor owned by {@code scope}. */
    public static Tensor roiAlign(Scope scope, Tensor input, Tensor rois, int pooledH, int pooledW,
            double spatialScale, int samplingRatio, boolean aligned) {
        checkFeature("input", input, -1, -1);
        checkRoisShape(rois);
        checkPooled(pooledH, pooledW);
        Tensor out = Tensor.allocate(scope, input.device(), DType.FLOAT32, rois.shape(0), pooledH, pooledW, input.shape(3));
        try {
            roiAlign(input, rois, pooledH, pooledW, spatialScale, samplingRatio, aligned, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** {@code torchvision.ops.roi_align} into {@code output} ({@code [K, pooledH, pooledW, C]}). */
    public static void roiAlign(Tensor input, Tensor rois, int pooledH, int pooledW, double spatialScale,
            int samplingRatio, boolean aligned, Tensor output) {
        checkFeature("input", input, -1, -1);
        checkRoisShape(rois);
        checkPooled(pooledH, pooledW);
        if (!Double.isFinite(spatialScale) || Math.abs(spatialScale) > Float.MAX_VALUE) {
            throw new InvalidArgumentException("roi_align: spatial_scale " + spatialScale + " is not a finite float");
        }
        Device device = input.device();
        sameDevice(device, "rois", rois);
        int n = (int) input.shape(0), h = (int) input.shape(1), w = (int) input.shape(2), c = (int) input.shape(3);
        int k = (int) rois.shape(0);
        checkOutput(output, device, k, pooledH, pooledW, c, input, rois);
        checkRoiValues(rois, n);
        if (k == 0 || c == 0) {
            return;
        }
        float scale = (float) spatialScale;
        int a = aligned ? 1 : 0;
        int status;
        switch (device) {
            case CPU:
                status = cpu(input.address(), n, h, w, c, rois.address(), k, pooledH, pooledW, scale, samplingRatio, a,
                        output.address(), 0);
                break;
            case CUDA:
                status = cuda(input.address(), n, h, w, c, rois.address(), k, pooledH, pooledW, scale, samplingRatio, a,
                        output.address(), 0);
                break;
            default:
                status = emulated(input.address(), n, h, w, c, rois.address(), k, pooledH, pooledW, scale, samplingRatio,
                        a, output.address(), 0);
                break;
        }
        NativeStatus.check(status, "roi_align");
    }

    // ---- multi level ----------------------------------------------------------------------

    /**
     * {@code MultiScaleRoIAlign(levels, (pooledH, pooledW), samplingRatio)(levels, boxes, image sizes)}:
     * the pyramid is inferred like torchvision (see {@link Pyramid#infer}); rois {@code [K, 5]} carry
     * the image index. Returns a new {@code [K, pooledH, pooledW, C]} tensor owned by {@code scope}.
     */
    public static Tensor multiLevel(Scope scope, List<Tensor> levels, Tensor rois, int pooledH, int pooledW,
            int samplingRatio, int imageH, int imageW) {
        Pyramid pyramid = Pyramid.infer(levels, imageH, imageW);
        return multiLevel(scope, levels, pyramid, rois, pooledH, pooledW, samplingRatio, false);
    }

    /** Multi-level RoIAlign with an explicit pyramid, into a new tensor owned by {@code scope}. */
    public static Tensor multiLevel(Scope scope, List<Tensor> levels, Pyramid pyramid, Tensor rois, int pooledH,
            int pooledW, int samplingRatio, boolean aligned) {
        checkLevels(levels);
        checkRoisShape(rois);
        checkPooled(pooledH, pooledW);
        Tensor first = levels.get(0);
        Tensor out = Tensor.allocate(scope, first.device(), DType.FLOAT32, rois.shape(0), pooledH, pooledW, first.shape(3));
        try {
            multiLevel(levels, pyramid, rois, pooledH, pooledW, samplingRatio, aligned, out);
        } catch (RuntimeException e) {
            out.close();
            throw e;
        }
        return out;
    }

    /** Multi-level RoIAlign with an explicit pyramid into {@code output} ({@code [K, pooledH, pooledW, C]}). */
    public static void multiLevel(List<Tensor> levels, Pyramid pyramid, Tensor rois, int pooledH, int pooledW,
            int samplingRatio, boolean aligned, Tensor output) {
        checkLevels(levels);
        checkRoisShape(rois);
        checkPooled(pooledH, pooledW);
        if (pyramid == null) {
            throw new InvalidArgumentException("roi_align: pyramid is null");
        }
        int numLevels = levels.size();
        float[] scales = pyramid.scales();
        if (scales.length != numLevels) {
            throw new InvalidArgumentException("roi_align: " + scales.length + " scales for " + numLevels + " feature maps");
        }
        for (int i = 0; i < numLevels; i++) {
            if (!Float.isFinite(scales[i]) || scales[i] <= 0) {
                throw new InvalidArgumentException("roi_align: level " + i + " scale " + scales[i] + " must be positive and finite");
            }
        }
        if (pyramid.kMin() > pyramid.kMax() || (numLevels > 1 && (long) pyramid.kMax() - pyramid.kMin() >= numLevels)) {
            throw new InvalidArgumentException("roi_align: levels [k_min=" + pyramid.kMin() + ", k_max=" + pyramid.kMax()
                    + "] do not fit " + numLevels + " feature maps");
        }
        if (pyramid.canonicalScale() < 1 || !Float.isFinite(pyramid.eps())) {
            throw new InvalidArgumentException("roi_align: canonical_scale " + pyramid.canonicalScale()
                    + " must be >= 1 and eps finite, got eps " + pyramid.eps());
        }
        Tensor first = levels.get(0);
        Device device = first.device();
        sameDevice(device, "rois", rois);
        int n = (int) first.shape(0), c = (int) first.shape(3), k = (int) rois.shape(0);
        long[] addresses = new long[numLevels];
        int[] hs = new int[numLevels];
        int[] ws = new int[numLevels];
        for (int i = 0; i < numLevels; i++) {
            Tensor t = levels.get(i);
            addresses[i] = t.address();
            hs[i] = (int) t.shape(1);
            ws[i] = (int) t.shape(2);
        }
        Tensor[] inputs = new Tensor[numLevels + 1];
        levels.toArray(inputs);
        inputs[numLevels] = rois;
        checkOutput(output, device, k, pooledH, pooledW, c, inputs);
        checkRoiValues(rois, n);
        if (k == 0 || c == 0) {
            return;
        }
        int a = aligned ? 1 : 0;
        int status;
        switch (device) {
            case CPU:
                status = cpuMulti(addresses, hs, ws, scales, numLevels, n, c, rois.address(), k, pooledH, pooledW,
                        samplingRatio, a, pyramid.canonicalScale(), pyramid.canonicalLevel(), pyramid.kMin(), pyramid.kMax(),
                        pyramid.eps(), output.address(), 0);
                break;
            case CUDA:
                status = cudaMulti(addresses, hs, ws, scales, numLevels, n, c, rois.address(), k, pooledH, pooledW,
                        samplingRatio, a, pyramid.canonicalScale(), pyramid.canonicalLevel(), pyramid.kMin(), pyramid.kMax(),
                        pyramid.eps(), output.address(), 0);
                break;
            default:
                status = emulatedMulti(addresses, hs, ws, scales, numLevels, n, c, rois.address(), k, pooledH, pooledW,
                        samplingRatio, a, pyramid.canonicalScale(), pyramid.canonicalLevel(), pyramid.kMin(), pyramid.kMax(),
                        pyramid.eps(), output.address(), 0);
                break;
        }
        NativeStatus.check(status, "multilevel_roi_align");
    }

    // ---- validation -----------------------------------------------------------------------

    /** A dense float32 [N, H, W, C] map; n/c >= 0 require those sizes. */
    private static void checkFeature(String what, Tensor t, long n, long c) {
        if (t == null) {
            throw new InvalidArgumentException("roi_align: " + what + " is null");
        }
        if (t.dtype() != DType.FLOAT32 || t.rank() != 4) {
            throw new InvalidArgumentException("roi_align: " + what + " must be a float32 [N, H, W, C] tensor, got " + t);
        }
        t.requireContiguous("roi_align " + what);
        long[] s = t.shape();
        if (s[0] < 1 || s[1] < 1 || s[2] < 1) {
            throw new InvalidArgumentException("roi_align: " + what + " needs N, H, W >= 1, got " + Arrays.toString(s));
        }
        if (s[0] > Integer.MAX_VALUE || s[3] > Integer.MAX_VALUE || s[1] * s[2] > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("roi_align: " + what + " " + Arrays.toString(s) + " is too large");
        }
        if (n >= 0 && s[0] != n) {
            throw new InvalidArgumentException("roi_align: " + what + " has batch " + s[0] + ", expected " + n);
        }
        if (c >= 0 && s[3] != c) {
            throw new InvalidArgumentException("roi_align: " + what + " has " + s[3] + " channels, expected " + c);
        }
    }

    private static void checkLevels(List<Tensor> levels) {
        if (levels == null || levels.isEmpty()) {
            throw new InvalidArgumentException("roi_align: no feature maps");
        }
        if (levels.size() > MAX_LEVELS) {
            throw new InvalidArgumentException("roi_align: " + levels.size() + " feature maps, at most " + MAX_LEVELS);
        }
        checkFeature("level 0", levels.get(0), -1, -1);
        Tensor first = levels.get(0);
        for (int i = 1; i < levels.size(); i++) {
            checkFeature("level " + i, levels.get(i), first.shape(0), first.shape(3));
            sameDevice(first.device(), "level " + i, levels.get(i));
        }
    }

    private static void checkRoisShape(Tensor rois) {
        if (rois == null) {
            throw new InvalidArgumentException("roi_align: rois is null");
        }
        if (rois.dtype() != DType.FLOAT32 || rois.rank() != 2 || rois.shape(1) != 5) {
            throw new InvalidArgumentException("roi_align: rois must be a float32 [K, 5] tensor, got " + rois);
        }
        rois.requireContiguous("roi_align rois");
        if (rois.shape(0) > Integer.MAX_VALUE) {
            throw new InvalidArgumentException("roi_align: " + rois.shape(0) + " rois is too many");
        }
    }

    private static void checkPooled(int pooledH, int pooledW) {
        if (pooledH <= 0 || pooledW <= 0) {
            throw new InvalidArgumentException("roi_align: output size " + pooledH + "x" + pooledW + " must be positive");
        }
    }

    private static void sameDevice(Device device, String what, Tensor t) {
        if (t.device() != device) {
            throw new InvalidArgumentException("roi_align: " + what + " is on " + t.device() + ", the features on " + device);
        }
    }

    private static void checkOutput(Tensor output, Device device, int k, int pooledH, int pooledW, int c, Tensor... inputs) {
        if (output == null) {
            throw new InvalidArgumentException("roi_align: output is null");
        }
        long[] expected = {k, pooledH, pooledW, c};
        if (output.dtype() != DType.FLOAT32 || !Arrays.equals(output.shape(), expected)) {
            throw new InvalidArgumentException("roi_align: output must be float32 " + Arrays.toString(expected) + ", got " + output);
        }
        output.requireContiguous("roi_align output");
        sameDevice(device, "output", output);
        Math.multiplyExact(Math.multiplyExact((long) k * pooledH, (long) pooledW), (long) c);
        for (Tensor in : inputs) {
            if (in.buffer() == output.buffer() && output.numel() > 0 && in.numel() > 0) {
                throw new InvalidArgumentException("roi_align: output shares its buffer with an input");
            }
        }
    }

    /** Batch indices integral and in [0, n), coordinates finite (reads the rois back if on a GPU). */
    private static void checkRoiValues(Tensor rois, int n) {
        if (rois.numel() == 0) {
            return;
        }
        float[] r = rois.toFloatArray();
        for (int i = 0; i < r.length; i += 5) {
            float b = r[i];
            if (!(b >= 0 && b < n) || b != Math.rint(b)) {
                throw new InvalidArgumentException("roi_align: roi " + (i / 5) + " has batch index " + b + ", not an integer in [0, " + n + ")");
            }
            for (int j = 1; j < 5; j++) {
                if (!Float.isFinite(r[i + j])) {
                    throw new InvalidArgumentException("roi_align: roi " + (i / 5) + " has a non-finite coordinate "
                            + Arrays.toString(Arrays.copyOfRange(r, i + 1, i + 5)));
                }
            }
        }
    }

    // ---- native -----------------------------------------------------------------------------

    @Name("mrcnn_cpu_roi_align")
    private static native int cpu(@Cast("const float*") long input, int n, int h, int w, int c,
            @Cast("const float*") long rois, int k, int pooledH, int pooledW, float spatialScale, int samplingRatio,
            int aligned, @Cast("float*") long output, @Cast("void*") long stream);

    @Name("mrcnn_cuda_roi_align")
    private static native int cuda(@Cast("const float*") long input, int n, int h, int w, int c,
            @Cast("const float*") long rois, int k, int pooledH, int pooledW, float spatialScale, int samplingRatio,
            int aligned, @Cast("float*") long output, @Cast("void*") long stream);

    @Name("mrcnn_emu_roi_align")
    private static native int emulated(@Cast("const float*") long input, int n, int h, int w, int c,
            @Cast("const float*") long rois, int k, int pooledH, int pooledW, float spatialScale, int samplingRatio,
            int aligned, @Cast("float*") long output, @Cast("void*") long stream);

    @Name("mrcnn_cpu_multilevel_roi_align")
    private static native int cpuMulti(@Cast("const float* const*") long[] levelFeatures, @Cast("const int*") int[] levelH,
            @Cast("const int*") int[] levelW, @Cast("const float*") float[] levelScale, int numLevels, int n, int c,
            @Cast("const float*") long rois, int k, int pooledH, int pooledW, int samplingRatio, int aligned,
            int canonicalScale, int canonicalLevel, int kMin, int kMax, float eps, @Cast("float*") long output,
            @Cast("void*") long stream);

    @Name("mrcnn_cuda_multilevel_roi_align")
    private static native int cudaMulti(@Cast("const float* const*") long[] levelFeatures, @Cast("const int*") int[] levelH,
            @Cast("const int*") int[] levelW, @Cast("const float*") float[] levelScale, int numLevels, int n, int c,
            @Cast("const float*") long rois, int k, int pooledH, int pooledW, int samplingRatio, int aligned,
            int canonicalScale, int canonicalLevel, int kMin, int kMax, float eps, @Cast("float*") long output,
            @Cast("void*") long stream);

    @Name("mrcnn_emu_multilevel_roi_align")
    private static native int emulatedMulti(@Cast("const float* const*") long[] levelFeatures, @Cast("const int*") int[] levelH,
            @Cast("const int*") int[] levelW, @Cast("const float*") float[] levelScale, int numLevels, int n, int c,
            @Cast("const float*") long rois, int k, int pooledH, int pooledW, int samplingRatio, int aligned,
            int canonicalScale, int canonicalLevel, int kMin, int kMax, float eps, @Cast("float*") long output,
            @Cast("void*") long stream);
}
