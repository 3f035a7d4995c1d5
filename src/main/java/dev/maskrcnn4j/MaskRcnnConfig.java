package dev.maskrcnn4j;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Everything about a Mask R-CNN that inference depends on, except the weights: the backbone, the
 * transform, and every threshold and count torchvision 0.14's {@code MaskRCNN} exposes for
 * inference, with torchvision's defaults. The number of classes is not here: it is read from the
 * checkpoint. Immutable; change values with {@link #toBuilder()}.
 *
 * <p>Configs by name ({@link #forArch}): {@code maskrcnn_resnet50_fpn} (torchvision's v1 model,
 * FrozenBatchNorm eps 0.0 as torchvision sets it for its COCO weights) and
 * {@code resnet{18,34,50,101,152}_fpn} (the same detector on {@code resnet_fpn_backbone}, eps 1e-5).
 */
public final class MaskRcnnConfig {
    /** The architectures {@link #forArch} knows. */
    public static final List<String> ARCHS = List.of("maskrcnn_resnet50_fpn", "resnet18_fpn", "resnet34_fpn",
            "resnet50_fpn", "resnet101_fpn", "resnet152_fpn");

    private final String arch;
    private final int depth;
    private final double frozenBnEps;
    private final int minSize;
    private final int maxSize;
    private final double[] imageMean;
    private final double[] imageStd;
    private final double[] anchorSizes;
    private final double[] aspectRatios;
    private final int rpnPreNmsTopN;
    private final int rpnPostNmsTopN;
    private final double rpnNmsThresh;
    private final double rpnScoreThresh;
    private final double boxScoreThresh;
    private final double boxNmsThresh;
    private final int boxDetectionsPerImg;
    private final double[] bboxRegWeights;
    private final double maskThreshold;
    private final int maskHeadChannels;
    private final int representationSize;
    private final int fpnChannels;
    private final int backboneWidth;
    private final List<String> categoryNames;

    private MaskRcnnConfig(Builder b) {
        this.arch = b.arch;
        this.depth = b.depth;
        this.frozenBnEps = b.frozenBnEps;
        this.minSize = b.minSize;
        this.maxSize = b.maxSize;
        this.imageMean = b.imageMean.clone();
        this.imageStd = b.imageStd.clone();
        this.anchorSizes = b.anchorSizes.clone();
        this.aspectRatios = b.aspectRatios.clone();
        this.rpnPreNmsTopN = b.rpnPreNmsTopN;
        this.rpnPostNmsTopN = b.rpnPostNmsTopN;
        this.rpnNmsThresh = b.rpnNmsThresh;
        this.rpnScoreThresh = b.rpnScoreThresh;
        this.boxScoreThresh = b.boxScoreThresh;
        this.boxNmsThresh = b.boxNmsThresh;
        this.boxDetectionsPerImg = b.boxDetectionsPerImg;
        this.bboxRegWeights = b.bboxRegWeights.clone();
        this.maskThreshold = b.maskThreshold;
        this.maskHeadChannels = b.maskHeadChannels;
        this.representationSize = b.representationSize;
        this.fpnChannels = b.fpnChannels;
        this.backboneWidth = b.backboneWidth;
        this.categoryNames = b.categoryNames == null ? null : List.copyOf(b.categoryNames);
        validate();
    }

    /**
     * The config of a named architecture (case-insensitive), with torchvision's defaults.
     * Throws {@link InvalidArgumentException} listing the known names for any other.
     */
    public static MaskRcnnConfig forArch(String name) {
        if (name == null) {
            throw new InvalidArgumentException("architecture name must not be null (known: " + String.join(", ", ARCHS) + ")");
        }
        String n = name.trim().toLowerCase(Locale.ROOT);
        Builder b = new Builder();
        b.arch = n;
        switch (n) {
            case "maskrcnn_resnet50_fpn": b.depth = 50; b.frozenBnEps = 0.0; break;
            case "resnet18_fpn": b.depth = 18; break;
            case "resnet34_fpn": b.depth = 34; break;
            case "resnet50_fpn": b.depth = 50; break;
            case "resnet101_fpn": b.depth = 101; break;
            case "resnet152_fpn": b.depth = 152; break;
            default:
                throw new InvalidArgumentException("unknown architecture '" + name + "' (known: " + String.join(", ", ARCHS) + ")");
        }
        return b.build();
    }

    /** torchvision's {@code maskrcnn_resnet50_fpn}: the config of its official COCO v1 weights. */
    public static MaskRcnnConfig maskrcnnResnet50Fpn() {
        return forArch("maskrcnn_resnet50_fpn");
    }

    public Builder toBuilder() {
        Builder b = new Builder();
        b.arch = arch;
        b.depth = depth;
        b.frozenBnEps = frozenBnEps;
        b.minSize = minSize;
        b.maxSize = maxSize;
        b.imageMean = imageMean.clone();
        b.imageStd = imageStd.clone();
        b.anchorSizes = anchorSizes.clone();
        b.aspectRatios = aspectRatios.clone();
        b.rpnPreNmsTopN = rpnPreNmsTopN;
        b.rpnPostNmsTopN = rpnPostNmsTopN;
        b.rpnNmsThresh = rpnNmsThresh;
        b.rpnScoreThresh = rpnScoreThresh;
        b.boxScoreThresh = boxScoreThresh;
        b.boxNmsThresh = boxNmsThresh;
        b.boxDetectionsPerImg = boxDetectionsPerImg;
        b.bboxRegWeights = bboxRegWeights.clone();
        b.maskThreshold = maskThreshold;
        b.maskHeadChannels = maskHeadChannels;
        b.representationSize = representationSize;
        b.fpnChannels = fpnChannels;
        b.backboneWidth = backboneWidth;
        b.categoryNames = categoryNames;
        return b;
    }

    /** The name given to {@link #forArch}, lower case. */
    public String arch() { return arch; }

    /** ResNet depth: 18, 34 (BasicBlock), 50, 101, 152 (Bottleneck). */
    public int depth() { return depth; }

    /** The eps FrozenBatchNorm2d adds to running_var before folding into the convolutions. */
    public double frozenBnEps() { return frozenBnEps; }

    /** GeneralizedRCNNTransform's min_size (800). */
    public int minSize() { return minSize; }

    /** GeneralizedRCNNTransform's max_size (1333). */
    public int maxSize() { return maxSize; }

    /** Per-channel RGB mean (ImageNet's). */
    public double[] imageMean() { return imageMean.clone(); }

    /** Per-channel RGB std (ImageNet's). */
    public double[] imageStd() { return imageStd.clone(); }

    /** Anchor size of each FPN level P2..P6 (32, 64, 128, 256, 512). */
    public double[] anchorSizes() { return anchorSizes.clone(); }

    /** Anchor aspect ratios (h/w) used on every level (0.5, 1, 2). */
    public double[] aspectRatios() { return aspectRatios.clone(); }

    /** rpn_pre_nms_top_n_test: proposals kept per level before NMS (1000). */
    public int rpnPreNmsTopN() { return rpnPreNmsTopN; }

    /** rpn_post_nms_top_n_test: proposals kept per image after NMS (1000). */
    public int rpnPostNmsTopN() { return rpnPostNmsTopN; }

    /** rpn_nms_thresh (0.7). */
    public double rpnNmsThresh() { return rpnNmsThresh; }

    /** rpn_score_thresh on the sigmoid objectness (0.0). */
    public double rpnScoreThresh() { return rpnScoreThresh; }

    /** box_score_thresh (0.05). */
    public double boxScoreThresh() { return boxScoreThresh; }

    /** box_nms_thresh, per class (0.5). */
    public double boxNmsThresh() { return boxNmsThresh; }

    /** box_detections_per_img (100). */
    public int boxDetectionsPerImg() { return boxDetectionsPerImg; }

    /** bbox_reg_weights of the box head's coder (10, 10, 5, 5). */
    public double[] bboxRegWeights() { return bboxRegWeights.clone(); }

    /** The probability at which pasted masks are binarised (0.5, as torchvision's users do). */
    public double maskThreshold() { return maskThreshold; }

    /** Channels of the ResNet stem and first stage (64; stage i has backboneWidth*2^i, times 4 after Bottleneck blocks). Smaller only for tiny test models. */
    public int backboneWidth() { return backboneWidth; }

    /** FPN output channels (256), also the RPN head and RoI features. */
    public int fpnChannels() { return fpnChannels; }

    /** TwoMLPHead width (1024). */
    public int representationSize() { return representationSize; }

    /** Mask head conv and transposed-conv width (256). */
    public int maskHeadChannels() { return maskHeadChannels; }

    /**
     * Names of the labels 0..numClasses-1, or null for the defaults: COCO's names when the
     * checkpoint has 91 classes, {@code class_<k>} otherwise.
     */
    public List<String> categoryNames() { return categoryNames; }

    private void validate() {
        if (depth != 18 && depth != 34 && depth != 50 && depth != 101 && depth != 152) {
            throw new InvalidArgumentException("config: ResNet depth must be 18, 34, 50, 101 or 152, got " + depth);
        }
        requireFinite("frozenBnEps", frozenBnEps);
        if (frozenBnEps < 0) {
            throw new InvalidArgumentException("config: frozenBnEps must be >= 0, got " + frozenBnEps);
        }
        if (minSize < 1 || maxSize < 1) {
            throw new InvalidArgumentException("config: minSize and maxSize must be >= 1, got " + minSize + ", " + maxSize);
        }
        if (imageMean.length != 3 || imageStd.length != 3) {
            throw new InvalidArgumentException("config: imageMean and imageStd need 3 values (RGB)");
        }
        for (int i = 0; i < 3; i++) {
            requireFinite("imageMean", imageMean[i]);
            requireFinite("imageStd", imageStd[i]);
            if ((float) imageStd[i] == 0f) {
                throw new InvalidArgumentException("config: imageStd must be non-zero");
            }
        }
        if (anchorSizes.length != 5) {
            throw new InvalidArgumentException("config: anchorSizes needs one size per FPN level P2..P6 (5), got "
                    + anchorSizes.length);
        }
        if (aspectRatios.length < 1) {
            throw new InvalidArgumentException("config: aspectRatios must not be empty");
        }
        for (double s : anchorSizes) {
            requirePositive("anchorSizes", s);
        }
        for (double r : aspectRatios) {
            requirePositive("aspectRatios", r);
        }
        if (rpnPreNmsTopN < 1 || rpnPostNmsTopN < 1 || boxDetectionsPerImg < 1) {
            throw new InvalidArgumentException("config: rpnPreNmsTopN, rpnPostNmsTopN and boxDetectionsPerImg must be >= 1");
        }
        requireFinite("rpnNmsThresh", rpnNmsThresh);
        requireFinite("rpnScoreThresh", rpnScoreThresh);
        requireFinite("boxScoreThresh", boxScoreThresh);
        requireFinite("boxNmsThresh", boxNmsThresh);
        requireFinite("maskThreshold", maskThreshold);
        if (bboxRegWeights.length != 4) {
            throw new InvalidArgumentException("config: bboxRegWeights needs 4 values (wx, wy, ww, wh)");
        }
        for (double w : bboxRegWeights) {
            requirePositive("bboxRegWeights", w);
        }
        if (backboneWidth < 1 || fpnChannels < 1 || representationSize < 1 || maskHeadChannels < 1) {
            throw new InvalidArgumentException("config: backboneWidth, fpnChannels, representationSize and maskHeadChannels must be >= 1");
        }
        if (categoryNames != null) {
            for (String s : categoryNames) {
                if (s == null) {
                    throw new InvalidArgumentException("config: categoryNames must not contain null");
                }
            }
        }
    }

    private static void requireFinite(String what, double v) {
        if (!Double.isFinite(v)) {
            throw new InvalidArgumentException("config: " + what + " must be finite, got " + v);
        }
    }

    private static void requirePositive(String what, double v) {
        if (!(v > 0) || !Double.isFinite(v)) {
            throw new InvalidArgumentException("config: " + what + " must be finite and > 0, got " + v);
        }
    }

    @Override
    public String toString() {
        return "MaskRcnnConfig(" + arch + ", resnet" + depth + ", eps " + frozenBnEps + ", size " + minSize + "/" + maxSize
                + ", rpn " + rpnPreNmsTopN + "/" + rpnPostNmsTopN + " nms " + rpnNmsThresh + " score " + rpnScoreThresh
                + ", box score " + boxScoreThresh + " nms " + boxNmsThresh + " max " + boxDetectionsPerImg
                + ", weights " + Arrays.toString(bboxRegWeights) + ", mask " + maskThreshold + ")";
    }

    /** Mutable builder; {@link #build()} validates. */
    public static final class Builder {
        private String arch = "custom";
        private int depth = 50;
        private double frozenBnEps = 1e-5;
        private int minSize = 800;
        private int maxSize = 1333;
        private double[] imageMean = {0.485, 0.456, 0.406};
        private double[] imageStd = {0.229, 0.224, 0.225};
        private double[] anchorSizes = {32, 64, 128, 256, 512};
        private double[] aspectRatios = {0.5, 1.0, 2.0};
        private int rpnPreNmsTopN = 1000;
        private int rpnPostNmsTopN = 1000;
        private double rpnNmsThresh = 0.7;
        private double rpnScoreThresh = 0.0;
        private double boxScoreThresh = 0.05;
        private double boxNmsThresh = 0.5;
        private int boxDetectionsPerImg = 100;
        private double[] bboxRegWeights = {10, 10, 5, 5};
        private double maskThreshold = 0.5;
        private int maskHeadChannels = 256;
        private int representationSize = 1024;
        private int fpnChannels = 256;
        private int backboneWidth = 64;
        private List<String> categoryNames;

        private Builder() {
        }

        public Builder frozenBnEps(double v) { frozenBnEps = v; return this; }
        public Builder minSize(int v) { minSize = v; return this; }
        public Builder maxSize(int v) { maxSize = v; return this; }
        public Builder imageMean(double... v) { imageMean = nonNull(v, "imageMean").clone(); return this; }
        public Builder imageStd(double... v) { imageStd = nonNull(v, "imageStd").clone(); return this; }
        public Builder anchorSizes(double... v) { anchorSizes = nonNull(v, "anchorSizes").clone(); return this; }
        public Builder aspectRatios(double... v) { aspectRatios = nonNull(v, "aspectRatios").clone(); return this; }
        public Builder rpnPreNmsTopN(int v) { rpnPreNmsTopN = v; return this; }
        public Builder rpnPostNmsTopN(int v) { rpnPostNmsTopN = v; return this; }
        public Builder rpnNmsThresh(double v) { rpnNmsThresh = v; return this; }
        public Builder rpnScoreThresh(double v) { rpnScoreThresh = v; return this; }
        public Builder boxScoreThresh(double v) { boxScoreThresh = v; return this; }
        public Builder boxNmsThresh(double v) { boxNmsThresh = v; return this; }
        public Builder boxDetectionsPerImg(int v) { boxDetectionsPerImg = v; return this; }
        public Builder bboxRegWeights(double... v) { bboxRegWeights = nonNull(v, "bboxRegWeights").clone(); return this; }
        public Builder maskThreshold(double v) { maskThreshold = v; return this; }
        public Builder maskHeadChannels(int v) { maskHeadChannels = v; return this; }
        public Builder representationSize(int v) { representationSize = v; return this; }
        public Builder fpnChannels(int v) { fpnChannels = v; return this; }
        public Builder backboneWidth(int v) { backboneWidth = v; return this; }
        public Builder categoryNames(List<String> v) { categoryNames = v == null ? null : List.copyOf(v); return this; }

        public MaskRcnnConfig build() {
            return new MaskRcnnConfig(this);
        }

        private static double[] nonNull(double[] v, String what) {
            if (v == null) {
                throw new InvalidArgumentException("config: " + what + " must not be null");
            }
            return v;
        }
    }
}
