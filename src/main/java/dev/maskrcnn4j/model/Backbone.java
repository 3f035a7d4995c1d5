package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * torchvision's {@code resnet_fpn_backbone} / {@code _resnet_fpn_extractor} at inference: the ResNet
 * body ({@link ResNetBody}, layers 1..4 returned) and an FPN over C2..C5 with LastLevelMaxPool
 * ({@link Fpn}), producing P2..P6 (torchvision's feature names "0", "1", "2", "3", "pool").
 */
public final class Backbone implements AutoCloseable {
    /** Images must be a multiple of this on both axes (GeneralizedRCNNTransform pads to it). */
    public static final int SIZE_DIVISIBLE = 32;

    private final Scope scope;
    private final Device device;
    private final int fpnChannels;
    private final ResNetBody body;
    private final Fpn fpn;

    /**
     * Adds every checkpoint key this block reads (torchvision 0.14 spelling, e.g.
     * "backbone.body.conv1.weight", "backbone.body.bn1.running_var", "backbone.body.layer1.0.downsample.1.weight",
     * "backbone.fpn.inner_blocks.0.0.weight", "backbone.fpn.layer_blocks.3.0.bias") with its shape.
     */
    public static void expectedShapes(MaskRcnnConfig config, Map<String, long[]> out) {
        ResNetBody.expectedShapes(config, out);
        Fpn.expectedShapes(ResNetBody.stageChannels(config), config.fpnChannels(), out);
    }

    /** Builds from a normalized StateDict (weights already validated by the caller; still fail clearly). */
    public Backbone(Scope owner, Device device, StateDict weights, MaskRcnnConfig config) {
        if (owner == null || device == null || weights == null || config == null) {
            throw new InvalidArgumentException("backbone: owner, device, weights and config must not be null");
        }
        device.requireAvailable();
        this.device = device;
        this.fpnChannels = config.fpnChannels();
        this.scope = owner.child("backbone " + config.arch());
        try {
            this.body = new ResNetBody(scope, device, weights, config);
            this.fpn = new Fpn(scope, device, weights, ResNetBody.stageChannels(config), config.fpnChannels());
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    public Device device() {
        return device;
    }

    /** Channels of every output map. */
    public int outChannels() {
        return fpnChannels;
    }

    /**
     * images: NHWC [N,H,W,3] float32 on the device (H, W multiples of 32). Returns the 5 FPN maps
     * P2..P6 (torchvision's "0","1","2","3","pool"), NHWC [N,h,w,fpnChannels], allocated from scope.
     */
    public List<Tensor> forward(Scope scope, Tensor images) {
        if (scope == null) {
            throw new InvalidArgumentException("backbone: scope must not be null");
        }
        checkImages(images);
        Scope temp = scope.child("backbone temporaries");
        try {
            List<Tensor> c = body.forward(temp, images);
            return fpn.forward(scope, new ArrayList<>(c), true);
        } finally {
            temp.release();
        }
    }

    private void checkImages(Tensor images) {
        if (images == null) {
            throw new InvalidArgumentException("backbone: images must not be null");
        }
        if (images.dtype() != DType.FLOAT32) {
            throw new InvalidArgumentException("backbone: images must be FLOAT32, got " + images.dtype());
        }
        if (images.device() != device) {
            throw new InvalidArgumentException("backbone: images are on " + images.device() + ", the backbone on " + device);
        }
        if (images.rank() != 4 || images.shape(3) != 3) {
            throw new InvalidArgumentException("backbone: images must be NHWC [N, H, W, 3], got " + images);
        }
        long h = images.shape(1);
        long w = images.shape(2);
        if (h < SIZE_DIVISIBLE || w < SIZE_DIVISIBLE || h % SIZE_DIVISIBLE != 0 || w % SIZE_DIVISIBLE != 0) {
            throw new InvalidArgumentException("backbone: image height and width must be positive multiples of "
                    + SIZE_DIVISIBLE + " (pad them as GeneralizedRCNNTransform does), got " + images);
        }
        images.requireContiguous("backbone: images");
    }

    @Override
    public void close() {
        scope.release();
    }
}
