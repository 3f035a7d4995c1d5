package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Map;

/** One residual block of a ResNet stage, its FrozenBatchNorms folded into its convolutions. */
interface ResidualBlock extends AutoCloseable {
    /**
     * The block's output for NHWC {@code input}, allocated from {@code scope}; the input is left
     * open (the caller knows whether it is still needed), the block's temporaries are freed.
     */
    Tensor forward(Scope scope, Tensor input);

    @Override
    void close();

    /** torchvision adds a projection shortcut exactly when the block changes the shape. */
    static boolean hasDownsample(int inChannels, int outChannels, int stride) {
        return stride != 1 || inChannels != outChannels;
    }

    /** The shortcut {@code downsample = bn(conv1x1/stride)} of block {@code prefix}, or null for the identity. */
    static Conv2d downsample(Scope scope, Device device, StateDict weights, String prefix, int inChannels,
                             int outChannels, int stride, double eps) {
        return hasDownsample(inChannels, outChannels, stride)
                ? FrozenBatchNorm.foldedConv(scope, device, weights, prefix + ".downsample.0.weight",
                        prefix + ".downsample.1", outChannels, inChannels, 1, Conv2d.Spec.of(stride, 0, 1, false), eps)
                : null;
    }

    /** The shortcut's checkpoint keys, when it has one. */
    static void downsampleShapes(String prefix, int inChannels, int outChannels, int stride, Map<String, long[]> out) {
        if (hasDownsample(inChannels, outChannels, stride)) {
            out.put(prefix + ".downsample.0.weight", new long[] {outChannels, inChannels, 1, 1});
            FrozenBatchNorm.expectedShapes(prefix + ".downsample.1", outChannels, out);
        }
    }
}
