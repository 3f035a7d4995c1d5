package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
import dev.maskrcnn4j.ops.ConvTranspose2x2;
import dev.maskrcnn4j.ops.Gather;
import dev.maskrcnn4j.ops.Sigmoid;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Map;

/**
 * torchvision's MaskRCNNHeads (4 x conv3x3 + ReLU, dilation 1) and MaskRCNNPredictor
 * (ConvTranspose 2x2 stride 2 + ReLU, 1x1 logits), then maskrcnn_inference: the sigmoid of each
 * roi's label channel. Input: RoIAlign's 14x14 pooled features; output 28x28 probabilities.
 */
final class MaskHead implements AutoCloseable {
    /** MultiScaleRoIAlign output size of the mask branch. */
    static final int POOLED = 14;
    static final int LAYERS = 4;
    private static final String PREFIX = "roi_heads.";

    private final Scope scope;
    private final int inChannels;
    private final Conv2d[] convs = new Conv2d[LAYERS];
    private final ConvTranspose2x2 upsample;
    private final Conv2d logits;

    MaskHead(Scope owner, Device device, StateDict weights, int inChannels, int channels, int numClasses) {
        this.inChannels = inChannels;
        this.scope = owner.child("mask_head");
        try {
            int in = inChannels;
            for (int i = 0; i < LAYERS; i++) {
                String name = PREFIX + "mask_head." + i + ".0.";
                convs[i] = new Conv2d(scope, device, weights.require(name + "weight", channels, in, 3, 3).toFloatArray(),
                        channels, in, 3, 3, weights.require(name + "bias", channels).toFloatArray(),
                        Conv2d.Spec.of(1, 1, 1, true));
                in = channels;
            }
            String up = PREFIX + "mask_predictor.conv5_mask.";
            this.upsample = new ConvTranspose2x2(scope, device, weights.require(up + "weight", channels, channels, 2, 2)
                    .toFloatArray(), channels, channels, weights.require(up + "bias", channels).toFloatArray(), true);
            String lg = PREFIX + "mask_predictor.mask_fcn_logits.";
            this.logits = new Conv2d(scope, device, weights.require(lg + "weight", numClasses, channels, 1, 1).toFloatArray(),
                    numClasses, channels, 1, 1, weights.require(lg + "bias", numClasses).toFloatArray(),
                    Conv2d.Spec.of(1, 0, 1, false));
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    static void expectedShapes(int inChannels, int channels, int numClasses, Map<String, long[]> out) {
        long in = inChannels;
        for (int i = 0; i < LAYERS; i++) {
            out.put(PREFIX + "mask_head." + i + ".0.weight", new long[] {channels, in, 3, 3});
            out.put(PREFIX + "mask_head." + i + ".0.bias", new long[] {channels});
            in = channels;
        }
        out.put(PREFIX + "mask_predictor.conv5_mask.weight", new long[] {channels, channels, 2, 2});
        out.put(PREFIX + "mask_predictor.conv5_mask.bias", new long[] {channels});
        out.put(PREFIX + "mask_predictor.mask_fcn_logits.weight", new long[] {numClasses, channels, 1, 1});
        out.put(PREFIX + "mask_predictor.mask_fcn_logits.bias", new long[] {numClasses});
    }

    /**
     * Mask logits of every class, {@code [D, 28, 28, numClasses]} NHWC, for pooled features
     * {@code [D, 14, 14, C]} (D >= 1), owned by {@code out}.
     */
    Tensor logits(Scope out, Tensor pooled) {
        if (pooled.rank() != 4 || pooled.shape(0) < 1 || pooled.shape(1) != POOLED || pooled.shape(2) != POOLED
                || pooled.shape(3) != inChannels) {
            throw new InvalidArgumentException("mask head: pooled features must be [D >= 1, 14, 14, " + inChannels
                    + "], got " + pooled);
        }
        Scope tmp = out.child("mask_head");
        try {
            Tensor x = pooled;
            for (Conv2d conv : convs) {
                Tensor y = conv.allocateOutput(tmp, x);
                conv.run(x, y);
                if (x != pooled) {
                    x.close(); // 4 x D x 14 x 14 x 256 floats otherwise
                }
                x = y;
            }
            Tensor up = upsample.run(tmp, x);
            x.close();
            Tensor result = logits.allocateOutput(out, up);
            try {
                logits.run(up, result);
            } catch (RuntimeException e) {
                result.close();
                throw e;
            }
            return result;
        } finally {
            tmp.release();
        }
    }

    /**
     * maskrcnn_inference's {@code sigmoid(logits)[k, labels[k]]}: from logits {@code [D, 28, 28, C]}
     * and labels INT64 {@code [D]} (on the logits' device), the probabilities {@code [D, 28, 28]}.
     * The channel is gathered before the sigmoid (elementwise, so the same values, C times less work).
     */
    static Tensor labelProbabilities(Scope out, Tensor logits, Tensor labels) {
        long d = logits.shape(0);
        long h = logits.shape(1);
        long w = logits.shape(2);
        Tensor probs = Gather.channel(out, logits.reshape(d, h * w, logits.shape(3)), labels);
        try {
            Sigmoid.run(probs, probs);
            return probs.reshape(d, h, w);
        } catch (RuntimeException e) {
            probs.close();
            throw e;
        }
    }

    @Override
    public void close() {
        scope.release();
    }
}
