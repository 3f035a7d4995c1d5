package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.checkpoint.CheckpointException;
import dev.maskrcnn4j.checkpoint.HostTensor;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.BoxDecode;
import dev.maskrcnn4j.ops.RoiAlign;
import dev.maskrcnn4j.ops.Softmax;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

/**
 * torchvision 0.14's {@code RoIHeads} of Mask R-CNN in eval mode: the box branch
 * (MultiScaleRoIAlign 7x7, TwoMLPHead, FastRCNNPredictor, postprocess_detections) and the mask
 * branch (MultiScaleRoIAlign 14x14 on the detected boxes, MaskRCNNHeads, MaskRCNNPredictor,
 * maskrcnn_inference). Both poolers read FPN levels P2..P5 (featmap_names '0'..'3') with sampling
 * ratio 2, not aligned; their scales are inferred from the feature heights and the largest resized
 * image height of the batch, as torchvision does.
 */
public final class RoiHeads implements AutoCloseable {
    /** The FPN maps the poolers read: P2..P5. */
    static final int LEVELS = 4;
    static final int SAMPLING_RATIO = 2;
    static final String CLASS_WEIGHT = "roi_heads.box_predictor.cls_score.weight";

    private final Device device;
    private final int channels;
    private final int numClasses;
    private final BoxDecode.Coder coder;
    private final BoxPostprocess postprocess;
    private final Scope scope;
    private final BoxHead boxHead;
    private final MaskHead maskHead;

    /** The class count of a checkpoint: rows of roi_heads.box_predictor.cls_score.weight (clear error if absent/bad). */
    public static int numClasses(StateDict weights) {
        if (weights == null) {
            throw new InvalidArgumentException("roi heads: weights are null");
        }
        HostTensor w = weights.get(CLASS_WEIGHT);
        long[] shape = w.shape();
        if (shape.length != 2 || shape[0] < 2 || shape[0] > Integer.MAX_VALUE / 4 || shape[1] < 1) {
            throw new CheckpointException(weights.file(), "key '" + CLASS_WEIGHT + "' has shape " + Arrays.toString(shape)
                    + ": expected [num_classes >= 2 (background + at least one class), representation_size]");
        }
        return (int) shape[0];
    }

    /**
     * Adds the keys this block reads (torchvision 0.14 spelling): roi_heads.box_head.fc6/fc7 .weight/.bias,
     * roi_heads.box_predictor.cls_score/bbox_pred, roi_heads.mask_head.{0..3}.0.weight/bias,
     * roi_heads.mask_predictor.conv5_mask.weight [C,C,2,2] (+bias), roi_heads.mask_predictor.mask_fcn_logits.
     */
    public static void expectedShapes(MaskRcnnConfig config, int numClasses, Map<String, long[]> out) {
        checkArgs(config, numClasses);
        if (out == null) {
            throw new InvalidArgumentException("roi heads: output map is null");
        }
        BoxHead.expectedShapes(config.fpnChannels(), config.representationSize(), numClasses, out);
        MaskHead.expectedShapes(config.fpnChannels(), config.maskHeadChannels(), numClasses, out);
    }

    /** Loads the heads' weights onto {@code device}, owned by a child scope of {@code owner}. */
    public RoiHeads(Scope owner, Device device, StateDict weights, MaskRcnnConfig config, int numClasses) {
        checkArgs(config, numClasses);
        if (owner == null || device == null || weights == null) {
            throw new InvalidArgumentException("roi heads: owner scope, device and weights must not be null");
        }
        device.requireAvailable();
        this.device = device;
        this.channels = config.fpnChannels();
        this.numClasses = numClasses;
        double[] w = config.bboxRegWeights();
        this.coder = new BoxDecode.Coder(w[0], w[1], w[2], w[3], BoxDecode.DEFAULT_XFORM_CLIP);
        this.scope = owner.child("roi_heads");
        BoxHead box = null;
        try {
            this.postprocess = new BoxPostprocess(scope, device, numClasses, config.rpnPostNmsTopN(),
                    config.boxScoreThresh(), config.boxNmsThresh(), config.boxDetectionsPerImg());
            box = new BoxHead(scope, device, weights, channels, config.representationSize(), numClasses);
            this.maskHead = new MaskHead(scope, device, weights, channels, config.maskHeadChannels(), numClasses);
            this.boxHead = box;
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    public int numClasses() {
        return numClasses;
    }

    public Device device() {
        return device;
    }

    /**
     * features: P2..P5 (the first 4 FPN maps; a 5th is ignored if given), NHWC on the device;
     * proposals: per image FLOAT32 [K_i,4]; imageSizes[i] = {h, w} resized (unpadded) size of image i.
     * Returns per image, in input order, its detections (best score first), allocated from scope.
     */
    public List<Detections> forward(Scope scope, List<Tensor> features, List<Tensor> proposals, int[][] imageSizes) {
        Batch batch = checkInputs(scope, features, proposals, imageSizes);
        List<Detections> result = new ArrayList<>(batch.images);
        List<BoxPostprocess.Selected> selected = new ArrayList<>(batch.images);
        Scope tmp = scope.child("roi_heads forward");
        try {
            try (BoxHead.Predictions predictions = boxPredictions(tmp, batch)) {
                Tensor probabilities = Softmax.run(tmp, predictions.classLogits());
                long offset = 0;
                for (int i = 0; i < batch.images; i++) {
                    Tensor boxes = proposals.get(i);
                    long k = boxes.shape(0);
                    if (k == 0) {
                        selected.add(BoxPostprocess.empty(scope, device));
                        continue;
                    }
                    Tensor decoded = BoxDecode.decodeClipped(tmp, predictions.boxRegression().narrow(0, offset, k), boxes,
                            coder, imageSizes[i][0], imageSizes[i][1]);
                    selected.add(postprocess.select(scope, probabilities.narrow(0, offset, k), decoded));
                    decoded.close();
                    offset += k;
                }
                probabilities.close();
            }
            List<Tensor> boxes = new ArrayList<>(batch.images);
            List<Tensor> labels = new ArrayList<>(batch.images);
            for (BoxPostprocess.Selected s : selected) {
                boxes.add(s.boxes());
                labels.add(s.labels());
            }
            List<Tensor> masks = maskProbabilities(scope, batch, boxes, labels);
            for (int i = 0; i < batch.images; i++) {
                BoxPostprocess.Selected s = selected.get(i);
                result.add(new Detections(s.boxes(), s.scores(), s.labels(), masks.get(i)));
            }
            return result;
        } catch (RuntimeException e) {
            selected.forEach(BoxPostprocess.Selected::close);
            result.forEach(Detections::close);
            throw e;
        } finally {
            tmp.release();
        }
    }

    /**
     * The box branch alone: class logits {@code [K, C]} and box regression {@code [K, 4C]} of all
     * images' proposals concatenated in order (torchvision's box_predictor outputs), owned by {@code out}.
     */
    BoxHead.Predictions boxPredictions(Scope out, List<Tensor> features, List<Tensor> proposals, int[][] imageSizes) {
        return boxPredictions(out, checkInputs(out, features, proposals, imageSizes));
    }

    private BoxHead.Predictions boxPredictions(Scope out, Batch batch) {
        Scope tmp = out.child("box branch");
        try {
            Tensor rois = Rois.of(tmp, device, batch.proposals);
            if (rois.shape(0) == 0) {
                return new BoxHead.Predictions(Tensor.allocate(out, device, DType.FLOAT32, 0, numClasses),
                        Tensor.allocate(out, device, DType.FLOAT32, 0, 4L * numClasses));
            }
            Tensor pooled = RoiAlign.multiLevel(tmp, batch.levels, batch.pyramid, rois, BoxHead.POOLED, BoxHead.POOLED,
                    SAMPLING_RATIO, false);
            return boxHead.run(out, pooled);
        } finally {
            tmp.release();
        }
    }

    /**
     * The mask branch alone on given boxes: per image {@code [D_i, 28, 28]} probabilities of the
     * labels' channels, owned by {@code out}; boxes FLOAT32 {@code [D_i, 4]}, labels INT64 {@code [D_i]}.
     */
    List<Tensor> maskProbabilities(Scope out, List<Tensor> features, List<Tensor> boxes, List<Tensor> labels,
            int[][] imageSizes) {
        Batch batch = checkInputs(out, features, boxes, imageSizes);
        if (labels == null || labels.size() != batch.images) {
            throw new InvalidArgumentException("roi heads: need one label tensor per image");
        }
        for (int i = 0; i < batch.images; i++) {
            Tensor l = labels.get(i);
            if (l == null || l.dtype() != DType.INT64 || l.rank() != 1 || l.shape(0) != boxes.get(i).shape(0)
                    || l.device() != device) {
                throw new InvalidArgumentException("roi heads: labels of image " + i + " must be INT64 ["
                        + boxes.get(i).shape(0) + "] on " + device + ", got " + l);
            }
        }
        return maskProbabilities(out, batch, boxes, labels);
    }

    private List<Tensor> maskProbabilities(Scope out, Batch batch, List<Tensor> boxes, List<Tensor> labels) {
        List<Tensor> masks = new ArrayList<>(batch.images);
        Scope tmp = out.child("mask branch");
        try {
            Tensor rois = Rois.of(tmp, device, boxes);
            Tensor logits = null;
            if (rois.shape(0) > 0) {
                Tensor pooled = RoiAlign.multiLevel(tmp, batch.levels, batch.pyramid, rois, MaskHead.POOLED,
                        MaskHead.POOLED, SAMPLING_RATIO, false);
                logits = maskHead.logits(tmp, pooled);
                pooled.close();
            }
            long offset = 0;
            for (int i = 0; i < batch.images; i++) {
                long d = boxes.get(i).shape(0);
                masks.add(d == 0
                        ? Tensor.allocate(out, device, DType.FLOAT32, 0, Detections.MASK_SIZE, Detections.MASK_SIZE)
                        : MaskHead.labelProbabilities(out, logits.narrow(0, offset, d), labels.get(i)));
                offset += d;
            }
            return masks;
        } catch (RuntimeException e) {
            masks.forEach(Tensor::close);
            throw e;
        } finally {
            tmp.release();
        }
    }

    /** Frees the heads' weights. Idempotent. */
    @Override
    public void close() {
        scope.release();
    }

    @Override
    public String toString() {
        return "RoiHeads[" + numClasses + " classes, " + channels + " channels on " + device + "]";
    }

    // ---- validation -----------------------------------------------------------------------

    /** A checked batch: the pooled levels, their pyramid and the proposals. */
    private record Batch(int images, List<Tensor> levels, RoiAlign.Pyramid pyramid, List<Tensor> proposals) {
    }

    private static void checkArgs(MaskRcnnConfig config, int numClasses) {
        if (config == null) {
            throw new InvalidArgumentException("roi heads: config is null");
        }
        if (numClasses < 2 || numClasses > Integer.MAX_VALUE / 4) {
            throw new InvalidArgumentException("roi heads: numClasses must be >= 2 (background + at least one class), got "
                    + numClasses);
        }
    }

    private Batch checkInputs(Scope out, List<Tensor> features, List<Tensor> proposals, int[][] imageSizes) {
        if (out == null) {
            throw new InvalidArgumentException("roi heads: scope is null");
        }
        if (features == null || features.size() < LEVELS) {
            throw new InvalidArgumentException("roi heads: need the FPN maps P2..P5 (at least " + LEVELS + "), got "
                    + (features == null ? "null" : features.size()));
        }
        if (proposals == null || imageSizes == null) {
            throw new InvalidArgumentException("roi heads: proposals and imageSizes must not be null");
        }
        int images = proposals.size();
        if (images < 1 || imageSizes.length != images) {
            throw new InvalidArgumentException("roi heads: " + images + " proposal lists for " + imageSizes.length
                    + " image sizes (need one of each per image, at least one image)");
        }
        for (int l = 0; l < LEVELS; l++) {
            Tensor f = features.get(l);
            if (f == null || f.dtype() != DType.FLOAT32 || f.rank() != 4 || f.shape(0) != images || f.shape(3) != channels
                    || f.device() != device) {
                throw new InvalidArgumentException("roi heads: feature map " + l + " must be FLOAT32 [" + images + ", H, W, "
                        + channels + "] on " + device + ", got " + f);
            }
        }
        List<Tensor> levels = List.copyOf(features.subList(0, LEVELS));
        int maxH = 0;
        int maxW = 0;
        for (int i = 0; i < images; i++) {
            Tensor p = proposals.get(i);
            if (p == null || p.dtype() != DType.FLOAT32 || p.rank() != 2 || p.shape(1) != 4 || p.device() != device) {
                throw new InvalidArgumentException("roi heads: proposals of image " + i + " must be FLOAT32 [K, 4] on "
                        + device + ", got " + p);
            }
            p.requireContiguous("roi heads proposals of image " + i);
            int[] size = imageSizes[i];
            if (size == null || size.length != 2 || size[0] < 1 || size[1] < 1) {
                throw new InvalidArgumentException("roi heads: image size " + i + " must be {h >= 1, w >= 1}, got "
                        + Arrays.toString(size));
            }
            maxH = Math.max(maxH, size[0]);
            maxW = Math.max(maxW, size[1]);
        }
        return new Batch(images, levels, RoiAlign.Pyramid.infer(levels, maxH, maxW), List.copyOf(proposals));
    }
}
