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
 * torchvision 0.14's {@code GeneralizedRCNNTransform} in eval mode, bound to
 * {@code mrcnn_<backend>_image_preprocess} of native/include/mrcnn/image_preprocess.h, bit for bit
 * with torch 1.13's CPU kernels:
 * <ol>
 * <li>normalize: {@code (image - mean) / std} per channel, in float32;</li>
 * <li>resize: {@code scale = min(minSize / min(H, W), maxSize / max(H, W))} in float32 (as torch
 *     evaluates it: a reciprocal times the size), resized size {@code floor(H * scale)} by
 *     {@code floor(W * scale)} in double ({@link #resizedSize}), then bilinear interpolation
 *     ({@code interpolate(mode="bilinear", align_corners=False, recompute_scale_factor=True)});</li>
 * <li>batch: every image at the top-left of a zero-filled {@code [N, Hp, Wp, C]} batch, Hp and Wp
 *     the largest resized height and width rounded up to a multiple of {@code sizeDivisible}.</li>
 * </ol>
 * <b>Input layout:</b> each image is a dense FLOAT32 {@code [H, W, C]} tensor (HWC, channels
 * interleaved, e.g. RGB), values as torchvision expects them (in [0, 1] for the default mean/std;
 * an 8-bit image is divided by 255 first). The output batch is NHWC, the layout of the rest of the
 * network; {@link Batch#imageSizes()} are torchvision's {@code image_sizes} (the resized sizes,
 * before padding), which the detection postprocessing needs.
 */
@Platform(include = "mrcnn/image_preprocess.h", library = NativeLibrary.NAME)
public final class ImagePreprocess {
    static {
        NativeLibrary.load();
    }

    private static final String OP = "image_preprocess";

    /** Most channels an image may have (MRCNN_PREPROCESS_MAX_CHANNELS). */
    public static final int MAX_CHANNELS = 4;

    private ImagePreprocess() {
    }

    /** The transform's parameters; mean and std are used as float32, as torch does. */
    public record Config(int minSize, int maxSize, double[] mean, double[] std, int sizeDivisible) {
        /** Mask R-CNN's: 800, 1333, ImageNet mean and std, padding to multiples of 32. */
        public static final Config MASK_RCNN = new Config(800, 1333, new double[] {0.485, 0.456, 0.406},
                new double[] {0.229, 0.224, 0.225}, 32);

        public Config {
            if (minSize < 1 || maxSize < 1 || sizeDivisible < 1) {
                throw new InvalidArgumentException(OP + ": minSize " + minSize + ", maxSize " + maxSize
                        + " and sizeDivisible " + sizeDivisible + " must be >= 1");
            }
            if (mean == null || std == null || mean.length != std.length || mean.length < 1 || mean.length > MAX_CHANNELS) {
                throw new InvalidArgumentException(OP + ": mean and std need one value per channel (1.." + MAX_CHANNELS + ")");
            }
            mean = mean.clone();
            std = std.clone();
            for (int i = 0; i < mean.length; i++) {
                float m = (float) mean[i];
                float s = (float) std[i];
                if (!Float.isFinite(m) || !Float.isFinite(s) || s == 0f) {
                    throw new InvalidArgumentException(OP + ": mean " + mean[i] + " / std " + std[i] + " of channel " + i
                            + " must be finite, std non-zero (in float32)");
                }
            }
        }

        @Override
        public double[] mean() {
            return mean.clone();
        }

        @Override
        public double[] std() {
            return std.clone();
        }

        int channels() {
            return mean.length;
        }

        float[] meanF() {
            return floats(mean);
        }

        float[] stdF() {
            return floats(std);
        }

        private static float[] floats(double[] d) {
            float[] f = new float[d.length];
            for (int i = 0; i < d.length; i++) {
                f[i] = (float) d[i];
            }
            return f;
        }
    }

    /** The padded NHWC batch and each image's resized {height, width}. */
    public record Batch(Tensor images, int[][] imageSizes) implements AutoCloseable {
        @Override
        public int[][] imageSizes() {
            int[][] c = new int[imageSizes.length][];
            for (int i = 0; i < c.length; i++) {
                c[i] = imageSizes[i].clone();
            }
            return c;
        }

        @Override
        public void close() {
            images.close();
        }
    }

    /**
     * torchvision's resized {height, width} of an {@code h x w} image: the float32 scale
     * {@code min((1/min(h,w)) * minSize, (1/max(h,w)) * maxSize)} (torch computes {@code size / t}
     * as {@code t.reciprocal() * size}), then {@code floor(h * scale)} and {@code floor(w * scale)}
     * in double. Throws if a side would be 0 (torch's interpolate refuses it too).
     */
    public static int[] resizedSize(int h, int w, int minSize, int maxSize) {
        if (h < 1 || w < 1 || minSize < 1 || maxSize < 1) {
            throw new InvalidArgumentException(OP + ": image " + h + "x" + w + " and sizes " + minSize + "/" + maxSize
                    + " must be positive");
        }
        float small = Math.min(h, w);
        float large = Math.max(h, w);
        float scale = Math.min((1f / small) * (float) minSize, (1f / large) * (float) maxSize);
        long oh = (long) Math.floor((double) h * (double) scale);
        long ow = (long) Math.floor((double) w * (double) scale);
        if (oh < 1 || ow < 1 || oh > Integer.MAX_VALUE / 4 || ow > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException(OP + ": a " + h + "x" + w + " image resizes to " + oh + "x" + ow);
        }
        return new int[] {(int) oh, (int) ow};
    }

    /** batch_images' {height, width}: the largest resized sizes rounded up to multiples of {@code sizeDivisible}. */
    public static int[] paddedSize(int[][] resized, int sizeDivisible) {
        if (resized == null || resized.length == 0 || sizeDivisible < 1) {
            throw new InvalidArgumentException(OP + ": no image sizes, or sizeDivisible " + sizeDivisible + " < 1");
        }
        long ph = 0;
        long pw = 0;
        for (int[] s : resized) {
            ph = Math.max(ph, s[0]);
            pw = Math.max(pw, s[1]);
        }
        ph = (ph + sizeDivisible - 1) / sizeDivisible * sizeDivisible;
        pw = (pw + sizeDivisible - 1) / sizeDivisible * sizeDivisible;
        if (ph > Integer.MAX_VALUE / 4 || pw > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException(OP + ": padded size " + ph + "x" + pw + " is too large");
        }
        return new int[] {(int) ph, (int) pw};
    }

    /** Scratch bytes one image needs on {@code device}. */
    public static long workspaceBytes(Device device, int h, int w, int c, int outH, int outW) {
        if (device == null) {
            throw new InvalidArgumentException(OP + ": device is null");
        }
        switch (device) {
            case CPU:
                return cpuWorkspaceSize(h, w, c, outH, outW);
            case CUDA:
                return cudaWorkspaceSize(h, w, c, outH, outW);
            default:
                return emulatedWorkspaceSize(h, w, c, outH, outW);
        }
    }

    /**
     * Transforms {@code images} (each FLOAT32 {@code [H, W, C]}, all on one device) into a new
     * {@code [N, Hp, Wp, C]} batch owned by {@code scope}, with torchvision's image sizes.
     */
    public static Batch run(Scope scope, List<Tensor> images, Config config) {
        if (scope == null || images == null || config == null) {
            throw new InvalidArgumentException(OP + ": scope, images and config must not be null");
        }
        if (images.isEmpty()) {
            throw new InvalidArgumentException(OP + ": no images");
        }
        Device device = null;
        int[][] sizes = new int[images.size()][];
        for (int i = 0; i < images.size(); i++) {
            Tensor img = images.get(i);
            checkImage(img, config, "image " + i);
            if (device == null) {
                device = img.device();
            }
            SmallOps.sameDevice(OP, device, "image " + i, img);
            sizes[i] = resizedSize((int) img.shape(0), (int) img.shape(1), config.minSize(), config.maxSize());
        }
        int[] pad = paddedSize(sizes, config.sizeDivisible());
        int c = config.channels();
        Device dev = device;
        Tensor batch = SmallOps.newOutput(scope, device, new long[] {images.size(), pad[0], pad[1], c}, out -> {
            Scope tmp = scope.child(OP + "-scratch");
            try {
                long bytes = 0;
                for (int i = 0; i < sizes.length; i++) {
                    Tensor img = images.get(i);
                    bytes = Math.max(bytes, workspaceBytes(dev, (int) img.shape(0), (int) img.shape(1), c, sizes[i][0],
                            sizes[i][1]));
                }
                Tensor ws = bytes == 0 ? null : Tensor.allocate(tmp, dev, DType.UINT8, bytes);
                for (int i = 0; i < sizes.length; i++) {
                    run(images.get(i), config, sizes[i][0], sizes[i][1], out.narrow(0, i, 1).reshape(pad[0], pad[1], c), ws);
                }
            } finally {
                tmp.release();
            }
        });
        return new Batch(batch, sizes);
    }

    /**
     * One image into its batch slot {@code slot} (FLOAT32 {@code [Hp, Wp, C]}, dense, on the image's
     * device): the resized image ({@code outH x outW}, see {@link #resizedSize}) at the top left,
     * zeros elsewhere. {@code workspace}: UINT8, at least {@link #workspaceBytes} (null when 0).
     */
    public static void run(Tensor image, Config config, int outH, int outW, Tensor slot, Tensor workspace) {
        if (config == null) {
            throw new InvalidArgumentException(OP + ": config is null");
        }
        checkImage(image, config, "image");
        int c = config.channels();
        SmallOps.denseFloat(OP, "slot", slot, 3);
        long[] ss = slot.shape();
        if (ss[2] != c || outH < 1 || outW < 1 || outH > ss[0] || outW > ss[1] || ss[0] * ss[1] * c > (1L << 40)) {
            throw new InvalidArgumentException(OP + ": a " + outH + "x" + outW + "x" + c + " image does not fit slot "
                    + Arrays.toString(ss));
        }
        Device device = image.device();
        SmallOps.sameDevice(OP, device, "slot", slot);
        SmallOps.disjoint(OP, "the image", image, slot);
        int h = (int) image.shape(0);
        int w = (int) image.shape(1);
        long needed = workspaceBytes(device, h, w, c, outH, outW);
        long wsBytes = SmallOps.workspace(OP, device, workspace, needed);
        long wsAddress = workspace == null ? 0 : workspace.address();
        if (workspace != null && (SmallOps.overlaps(workspace, image) || SmallOps.overlaps(workspace, slot))) {
            throw new InvalidArgumentException(OP + ": the workspace overlaps the image or the slot");
        }
        float[] mean = config.meanF();
        float[] std = config.stdF();
        int ph = (int) ss[0];
        int pw = (int) ss[1];
        int status;
        switch (device) {
            case CPU:
                status = cpu(image.address(), h, w, c, mean, std, outH, outW, slot.address(), ph, pw, wsAddress, wsBytes, 0);
                break;
            case CUDA:
                status = cuda(image.address(), h, w, c, mean, std, outH, outW, slot.address(), ph, pw, wsAddress, wsBytes, 0);
                break;
            default:
                status = emulated(image.address(), h, w, c, mean, std, outH, outW, slot.address(), ph, pw, wsAddress, wsBytes,
                        0);
                break;
        }
        NativeStatus.check(status, OP);
    }

    private static void checkImage(Tensor img, Config config, String what) {
        SmallOps.denseFloat(OP, what, img, 3);
        long[] s = img.shape();
        if (s[2] != config.channels() || s[0] < 1 || s[1] < 1 || s[0] > Integer.MAX_VALUE / 4
                || s[1] > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException(OP + ": " + what + " must be [H, W, " + config.channels()
                    + "] (HWC) with H, W >= 1, got " + Arrays.toString(s));
        }
    }

    @Name("mrcnn_cpu_image_preprocess_workspace_size")
    private static native @Cast("size_t") long cpuWorkspaceSize(int h, int w, int c, int outH, int outW);

    @Name("mrcnn_cuda_image_preprocess_workspace_size")
    private static native @Cast("size_t") long cudaWorkspaceSize(int h, int w, int c, int outH, int outW);

    @Name("mrcnn_emu_image_preprocess_workspace_size")
    private static native @Cast("size_t") long emulatedWorkspaceSize(int h, int w, int c, int outH, int outW);

    @Name("mrcnn_cpu_image_preprocess")
    private static native int cpu(@Cast("const float*") long image, int h, int w, int c, @Cast("const float*") float[] mean,
            @Cast("const float*") float[] std, int outH, int outW, @Cast("float*") long out, int padH, int padW,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_cuda_image_preprocess")
    private static native int cuda(@Cast("const float*") long image, int h, int w, int c, @Cast("const float*") float[] mean,
            @Cast("const float*") float[] std, int outH, int outW, @Cast("float*") long out, int padH, int padW,
            @Cast("void*") long workspace, @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);

    @Name("mrcnn_emu_image_preprocess")
    private static native int emulated(@Cast("const float*") long image, int h, int w, int c,
            @Cast("const float*") float[] mean, @Cast("const float*") float[] std, int outH, int outW,
            @Cast("float*") long out, int padH, int padW, @Cast("void*") long workspace,
            @Cast("size_t") long workspaceBytes, @Cast("void*") long stream);
}
