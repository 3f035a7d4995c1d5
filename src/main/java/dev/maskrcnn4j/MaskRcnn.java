package dev.maskrcnn4j;

import dev.maskrcnn4j.checkpoint.StateDict;
import java.awt.image.BufferedImage;
import java.nio.file.Path;
import java.util.List;

/**
 * A Mask R-CNN loaded from a torchvision checkpoint onto one device: load once, predict many.
 *
 * <p>Thread safety: one instance may be shared by any number of threads; each concurrent
 * {@code predict} call works in its own workspace (kept for reuse by later calls), so memory grows
 * with the number of calls running at once. The weights are shared and read-only.
 */
public final class MaskRcnn implements AutoCloseable {
    // Work in progress this session: the graph is composed from dev.maskrcnn4j.model's blocks.

    /** Loads {@code weightsPathOrUrl} (a file, or an http(s) URL downloaded once into the cache). */
    public static MaskRcnn load(String weightsPathOrUrl, MaskRcnnConfig config, Device device) {
        throw new UnsupportedOperationException("not yet");
    }

    public static MaskRcnn load(Path weights, MaskRcnnConfig config, Device device) {
        throw new UnsupportedOperationException("not yet");
    }

    public static MaskRcnn load(StateDict weights, MaskRcnnConfig config, Device device) {
        throw new UnsupportedOperationException("not yet");
    }

    public ImagePrediction predict(BufferedImage image) {
        throw new UnsupportedOperationException("not yet");
    }

    public ImagePrediction predict(InputImage image) {
        throw new UnsupportedOperationException("not yet");
    }

    /** RGB in [0, 1], CHW. */
    public ImagePrediction predict(float[] chw, int height, int width) {
        return predict(InputImage.ofChw(chw, height, width));
    }

    /** A batch of images of any sizes in one forward pass; results in the input order. */
    public List<ImagePrediction> predict(List<InputImage> images) {
        throw new UnsupportedOperationException("not yet");
    }

    public int numClasses() {
        throw new UnsupportedOperationException("not yet");
    }

    public MaskRcnnConfig config() {
        throw new UnsupportedOperationException("not yet");
    }

    public Device device() {
        throw new UnsupportedOperationException("not yet");
    }

    @Override
    public void close() {
    }
}
