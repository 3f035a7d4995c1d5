package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Map;

/**
 * torchvision's ResNet {@code BasicBlock} (ResNet-18/34): {@code relu(bn2(conv2(relu(bn1(conv1(x)))))
 * + shortcut(x))}, both convolutions 3x3, the stride on conv1; the shortcut is
 * {@code downsample = bn(conv1x1/stride)} when the shape changes, else the identity.
 */
final class BasicBlock implements ResidualBlock {
    static final int EXPANSION = 1;

    private final Scope scope;
    private final Conv2d conv1;
    private final Conv2d conv2;
    private final Conv2d downsample; // null: identity shortcut

    /** Block {@code prefix} (e.g. "backbone.body.layer2.0") taking {@code inChannels} to {@code planes}. */
    BasicBlock(Scope owner, Device device, StateDict weights, String prefix, int inChannels, int planes, int stride,
               double eps) {
        this.scope = owner.child(prefix);
        try {
            conv1 = FrozenBatchNorm.foldedConv(scope, device, weights, prefix + ".conv1.weight", prefix + ".bn1",
                    planes, inChannels, 3, Conv2d.Spec.of(stride, 1, 1, true), eps);
            conv2 = FrozenBatchNorm.foldedConv(scope, device, weights, prefix + ".conv2.weight", prefix + ".bn2",
                    planes, planes, 3, Conv2d.Spec.of(1, 1, 1, true), eps);
            downsample = ResidualBlock.downsample(scope, device, weights, prefix, inChannels, planes * EXPANSION,
                    stride, eps);
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    static void expectedShapes(String prefix, int inChannels, int planes, int stride, Map<String, long[]> out) {
        out.put(prefix + ".conv1.weight", new long[] {planes, inChannels, 3, 3});
        FrozenBatchNorm.expectedShapes(prefix + ".bn1", planes, out);
        out.put(prefix + ".conv2.weight", new long[] {planes, planes, 3, 3});
        FrozenBatchNorm.expectedShapes(prefix + ".bn2", planes, out);
        ResidualBlock.downsampleShapes(prefix, inChannels, planes * EXPANSION, stride, out);
    }

    @Override
    public Tensor forward(Scope out, Tensor input) {
        long[] hiddenShape = conv1.outputShape(input.shape());
        Tensor output = Tensor.allocate(out, conv2.device(), DType.FLOAT32, conv2.outputShape(hiddenShape));
        try {
            if (downsample != null) {
                downsample.run(input, output); // the shortcut first, into the output: conv2 adds onto it
            }
            try (Tensor hidden = Tensor.allocate(out, conv1.device(), DType.FLOAT32, hiddenShape)) {
                conv1.run(input, hidden);
                conv2.run(hidden, downsample != null ? output : input, output);
            }
            return output;
        } catch (RuntimeException e) {
            output.close();
            throw e;
        }
    }

    @Override
    public void close() {
        scope.release();
    }
}
