package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Map;

/**
 * torchvision's ResNet {@code Bottleneck} (ResNet-50/101/152, "v1.5"): 1x1 to {@code planes}, 3x3
 * carrying the stride, 1x1 to {@code 4 * planes}, each with its FrozenBatchNorm, ReLU after the
 * first two and after the shortcut sum; the shortcut is {@code downsample = bn(conv1x1/stride)}
 * when the shape changes, else the identity. The last convolution, the sum and the ReLU are one
 * {@link Conv2d#run(Tensor, Tensor, Tensor)} call.
 */
final class Bottleneck implements ResidualBlock {
    static final int EXPANSION = 4;

    private final Scope scope;
    private final Conv2d conv1;
    private final Conv2d conv2;
    private final Conv2d conv3;
    private final Conv2d downsample; // null: identity shortcut

    /** Block {@code prefix} (e.g. "backbone.body.layer2.0") taking {@code inChannels} to {@code 4 * planes}. */
    Bottleneck(Scope owner, Device device, StateDict weights, String prefix, int inChannels, int planes, int stride,
               double eps) {
        this.scope = owner.child(prefix);
        int outChannels = planes * EXPANSION;
        try {
            conv1 = FrozenBatchNorm.foldedConv(scope, device, weights, prefix + ".conv1.weight", prefix + ".bn1",
                    planes, inChannels, 1, Conv2d.Spec.of(1, 0, 1, true), eps);
            conv2 = FrozenBatchNorm.foldedConv(scope, device, weights, prefix + ".conv2.weight", prefix + ".bn2",
                    planes, planes, 3, Conv2d.Spec.of(stride, 1, 1, true), eps);
            conv3 = FrozenBatchNorm.foldedConv(scope, device, weights, prefix + ".conv3.weight", prefix + ".bn3",
                    outChannels, planes, 1, Conv2d.Spec.of(1, 0, 1, true), eps);
            downsample = ResidualBlock.downsample(scope, device, weights, prefix, inChannels, outChannels, stride,
                    eps);
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    static void expectedShapes(String prefix, int inChannels, int planes, int stride, Map<String, long[]> out) {
        int outChannels = planes * EXPANSION;
        out.put(prefix + ".conv1.weight", new long[] {planes, inChannels, 1, 1});
        FrozenBatchNorm.expectedShapes(prefix + ".bn1", planes, out);
        out.put(prefix + ".conv2.weight", new long[] {planes, planes, 3, 3});
        FrozenBatchNorm.expectedShapes(prefix + ".bn2", planes, out);
        out.put(prefix + ".conv3.weight", new long[] {outChannels, planes, 1, 1});
        FrozenBatchNorm.expectedShapes(prefix + ".bn3", outChannels, out);
        ResidualBlock.downsampleShapes(prefix, inChannels, outChannels, stride, out);
    }

    @Override
    public Tensor forward(Scope out, Tensor input) {
        long[] reducedShape = conv1.outputShape(input.shape());
        long[] strided = conv2.outputShape(reducedShape);
        Tensor output = Tensor.allocate(out, conv3.device(), DType.FLOAT32, conv3.outputShape(strided));
        try {
            if (downsample != null) {
                downsample.run(input, output); // the shortcut first, into the output: conv3 adds onto it
            }
            try (Tensor reduced = Tensor.allocate(out, conv1.device(), DType.FLOAT32, reducedShape)) {
                conv1.run(input, reduced);
                try (Tensor hidden = Tensor.allocate(out, conv2.device(), DType.FLOAT32, strided)) {
                    conv2.run(reduced, hidden);
                    reduced.close(); // dead: free before conv3's
                    conv3.run(hidden, downsample != null ? output : input, output);
                }
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
