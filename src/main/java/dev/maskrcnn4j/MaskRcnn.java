package dev.maskrcnn4j;

import dev.maskrcnn4j.checkpoint.Checkpoint;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.coco.CocoCategories;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.BufferPool;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.model.Backbone;
import dev.maskrcnn4j.model.Detections;
import dev.maskrcnn4j.model.Postprocess;
import dev.maskrcnn4j.model.RegionProposalNetwork;
import dev.maskrcnn4j.model.RoiHeads;
import dev.maskrcnn4j.ops.ImagePreprocess;
import dev.maskrcnn4j.tensor.Tensor;
import dev.maskrcnn4j.weights.WeightsCache;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.ReentrantReadWriteLock;

/**
 * A Mask R-CNN loaded from a torchvision checkpoint onto one device: load once, predict many.
 * Composes the blocks of {@link dev.maskrcnn4j.model}: transform (normalize, resize, pad /32),
 * {@link Backbone} (ResNet + FPN), {@link RegionProposalNetwork}, {@link RoiHeads} (box and mask
 * heads) and {@link Postprocess} (boxes and masks at the original image size).
 *
 * <p>Thread safety: one instance may be shared by any number of threads. Each {@code predict} call
 * takes its working memory from a pool that keeps it for later calls (the first call on a new image
 * size pays for fresh pages, later ones do not), so concurrent calls each hold their own working
 * set: memory grows with the number of calls running at once. The weights are shared and
 * read-only. {@link #close()} waits for running calls; predicting after it throws.
 */
public final class MaskRcnn implements AutoCloseable {
    /** Working memory the pool may keep between calls. */
    private static final long MAX_RETAINED_BYTES = 6L << 30;

    private final MaskRcnnConfig config;
    private final Device device;
    private final int numClasses;
    private final Scope weights;
    private final BufferPool pool;
    private final ImagePreprocess.Config transform;
    private final Backbone backbone;
    private final RegionProposalNetwork rpn;
    private final RoiHeads roiHeads;
    private final Postprocess postprocess;
    private final ReentrantReadWriteLock lifecycle = new ReentrantReadWriteLock();
    private boolean closed;

    private MaskRcnn(StateDict state, MaskRcnnConfig config, Device device) {
        this.config = config;
        this.device = device;
        this.numClasses = RoiHeads.numClasses(state);
        List<String> names = labelNames(config, numClasses);
        Map<String, long[]> expected = new LinkedHashMap<>();
        Backbone.expectedShapes(config, expected);
        RegionProposalNetwork.expectedShapes(config, expected);
        RoiHeads.expectedShapes(config, numClasses, expected);
        state.validate(expected); // one exception listing every missing/unexpected/wrong key
        this.transform = new ImagePreprocess.Config(config.minSize(), config.maxSize(), config.imageMean(),
                config.imageStd(), 32);
        Scope w = Allocator.global().openScope("maskrcnn " + config.arch() + " weights on " + device.label());
        try {
            this.backbone = new Backbone(w, device, state, config);
            this.rpn = new RegionProposalNetwork(w, device, state, config);
            this.roiHeads = new RoiHeads(w, device, state, config, numClasses);
        } catch (RuntimeException e) {
            w.release();
            throw e;
        }
        this.weights = w;
        this.pool = Allocator.global().openPool("maskrcnn " + config.arch() + " working memory", MAX_RETAINED_BYTES);
        this.postprocess = new Postprocess(names, config.maskThreshold());
    }

    /**
     * Loads {@code weightsPathOrUrl}: a checkpoint file (torch zip, legacy torch pickle or
     * safetensors, either key spelling), or an http(s) URL downloaded once into the weights cache
     * (see {@link WeightsCache}).
     */
    public static MaskRcnn load(String weightsPathOrUrl, MaskRcnnConfig config, Device device) {
        if (weightsPathOrUrl == null || weightsPathOrUrl.isBlank()) {
            throw new InvalidArgumentException("weights: a checkpoint path or URL is required");
        }
        checkArgs(config, device);
        Path file = WeightsCache.isUrl(weightsPathOrUrl) ? WeightsCache.create().resolve(weightsPathOrUrl)
                : Path.of(weightsPathOrUrl);
        return load(file, config, device);
    }

    /** Loads a checkpoint file (torch zip, legacy torch pickle or safetensors, either key spelling). */
    public static MaskRcnn load(Path weights, MaskRcnnConfig config, Device device) {
        if (weights == null) {
            throw new InvalidArgumentException("weights: a checkpoint path is required");
        }
        checkArgs(config, device);
        return load(Checkpoint.load(weights), config, device);
    }

    /** Builds the model from tensors already read (any key spelling). */
    public static MaskRcnn load(StateDict weights, MaskRcnnConfig config, Device device) {
        if (weights == null) {
            throw new InvalidArgumentException("weights must not be null");
        }
        checkArgs(config, device);
        return new MaskRcnn(weights.normalized(), config, device);
    }

    private static void checkArgs(MaskRcnnConfig config, Device device) {
        if (config == null || device == null) {
            throw new InvalidArgumentException("config and device must not be null");
        }
        device.requireAvailable();
    }

    private static List<String> labelNames(MaskRcnnConfig config, int numClasses) {
        List<String> given = config.categoryNames();
        if (given != null) {
            if (given.size() != numClasses) {
                throw new InvalidArgumentException("config: " + given.size() + " category names for a checkpoint with "
                        + numClasses + " classes");
            }
            return given;
        }
        if (numClasses == CocoCategories.COUNT) {
            return CocoCategories.names();
        }
        List<String> names = new ArrayList<>(numClasses);
        names.add(CocoCategories.BACKGROUND);
        for (int k = 1; k < numClasses; k++) {
            names.add("class_" + k);
        }
        return names;
    }

    public ImagePrediction predict(BufferedImage image) {
        return predict(InputImage.of(image));
    }

    public ImagePrediction predict(InputImage image) {
        if (image == null) {
            throw new InvalidArgumentException("image must not be null");
        }
        return predict(List.of(image)).get(0);
    }

    /** RGB in [0, 1], CHW. */
    public ImagePrediction predict(float[] chw, int height, int width) {
        return predict(InputImage.ofChw(chw, height, width));
    }

    /**
     * A batch of images of any sizes in one forward pass (padded to a common size, as torchvision
     * batches them); results in the input order.
     */
    public List<ImagePrediction> predict(List<InputImage> images) {
        if (images == null || images.isEmpty()) {
            throw new InvalidArgumentException("no images to predict");
        }
        for (int i = 0; i < images.size(); i++) {
            if (images.get(i) == null) {
                throw new InvalidArgumentException("image " + i + " is null");
            }
        }
        lifecycle.readLock().lock();
        try {
            if (closed) {
                throw new MaskRcnnException("the model is closed");
            }
            Scope call = pool.openScope("predict");
            try {
                return forward(call, images);
            } finally {
                call.release(); // every per-call tensor goes back to the pool, also on failure
            }
        } finally {
            lifecycle.readLock().unlock();
        }
    }

    private List<ImagePrediction> forward(Scope call, List<InputImage> images) {
        List<Tensor> hwc = new ArrayList<>(images.size());
        for (InputImage img : images) {
            hwc.add(Tensor.fromFloats(call, device, chwToHwc(img), img.height(), img.width(), 3));
        }
        ImagePreprocess.Batch batch = ImagePreprocess.run(call, hwc, transform);
        for (Tensor t : hwc) {
            t.close();
        }
        int[][] sizes = batch.imageSizes();
        Tensor padded = batch.images();
        List<Tensor> features = backbone.forward(call, padded);
        int paddedH = (int) padded.shape(1);
        int paddedW = (int) padded.shape(2);
        padded.close();
        List<Tensor> proposals = rpn.forward(call, features, paddedH, paddedW, sizes);
        List<Detections> detections = roiHeads.forward(call, features.subList(0, 4), proposals, sizes);
        for (Tensor t : features) {
            t.close();
        }
        List<ImagePrediction> out = new ArrayList<>(images.size());
        for (int i = 0; i < images.size(); i++) {
            InputImage img = images.get(i);
            out.add(postprocess.run(call, detections.get(i), sizes[i], new int[] {img.height(), img.width()}));
        }
        return out;
    }

    private static float[] chwToHwc(InputImage img) {
        float[] chw = img.pixels();
        int plane = img.height() * img.width();
        float[] hwc = new float[plane * 3];
        for (int i = 0; i < plane; i++) {
            hwc[3 * i] = chw[i];
            hwc[3 * i + 1] = chw[plane + i];
            hwc[3 * i + 2] = chw[2 * plane + i];
        }
        return hwc;
    }

    /** The number of classes, background included, as the checkpoint has them. */
    public int numClasses() {
        return numClasses;
    }

    public MaskRcnnConfig config() {
        return config;
    }

    public Device device() {
        return device;
    }

    /** Bytes of working memory kept for later calls. */
    public long retainedWorkingBytes() {
        return pool.retainedBytes();
    }

    /** Frees the weights and the working memory; waits for running {@code predict} calls. */
    @Override
    public void close() {
        lifecycle.writeLock().lock();
        try {
            if (closed) {
                return;
            }
            closed = true;
            try {
                backbone.close();
                rpn.close();
                roiHeads.close();
            } finally {
                weights.release();
                pool.close();
            }
        } finally {
            lifecycle.writeLock().unlock();
        }
    }

    @Override
    public String toString() {
        return "MaskRcnn(" + config.arch() + ", " + numClasses + " classes, " + device.label() + ")";
    }
}
