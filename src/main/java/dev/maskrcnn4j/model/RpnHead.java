package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Map;

/**
 * torchvision 0.14's {@code RPNHead} (conv_depth 1): a 3x3 convolution with ReLU shared by all
 * levels, then two 1x1 convolutions, objectness logits (A channels) and box deltas (4A channels).
 * On NHWC activations the outputs {@code [N, h, w, A]} and {@code [N, h, w, 4A]} are already in
 * torchvision's {@code permute_and_flatten} order: (h, w, a) and (h, w, a, 4).
 *
 * <p>The two 1x1 convolutions stay separate: one {@code [N, h, w, 5A]} output would interleave the
 * parts per pixel, and top-k and gather need each part dense.
 */
final class RpnHead implements AutoCloseable {
    static final String CONV_WEIGHT = "rpn.head.conv.0.0.weight";
    static final String CONV_BIAS = "rpn.head.conv.0.0.bias";
    static final String CLS_WEIGHT = "rpn.head.cls_logits.weight";
    static final String CLS_BIAS = "rpn.head.cls_logits.bias";
    static final String BBOX_WEIGHT = "rpn.head.bbox_pred.weight";
    static final String BBOX_BIAS = "rpn.head.bbox_pred.bias";

    /** One level's predictions, owned by the scope given to {@link #forward}. */
    record Output(Tensor objectness, Tensor deltas) implements AutoCloseable {
        @Override
        public void close() {
            objectness.close();
            deltas.close();
        }
    }

    private final Scope scope;
    private final Conv2d conv;
    private final Conv2d clsLogits;
    private final Conv2d bboxPred;
    private final int channels;
    private final int anchorsPerLocation;

    static void expectedShapes(int channels, int anchorsPerLocation, Map<String, long[]> out) {
        out.put(CONV_WEIGHT, new long[] {channels, channels, 3, 3});
        out.put(CONV_BIAS, new long[] {channels});
        out.put(CLS_WEIGHT, new long[] {anchorsPerLocation, channels, 1, 1});
        out.put(CLS_BIAS, new long[] {anchorsPerLocation});
        out.put(BBOX_WEIGHT, new long[] {4L * anchorsPerLocation, channels, 1, 1});
        out.put(BBOX_BIAS, new long[] {4L * anchorsPerLocation});
    }

    RpnHead(Scope owner, Device device, StateDict weights, int channels, int anchorsPerLocation) {
        this.channels = channels;
        this.anchorsPerLocation = anchorsPerLocation;
        int a = anchorsPerLocation;
        int c = channels;
        // Read (and shape-check) every tensor before allocating anything on the device.
        float[] convW = weights.require(CONV_WEIGHT, c, c, 3, 3).toFloatArray();
        float[] convB = weights.require(CONV_BIAS, c).toFloatArray();
        float[] clsW = weights.require(CLS_WEIGHT, a, c, 1, 1).toFloatArray();
        float[] clsB = weights.require(CLS_BIAS, a).toFloatArray();
        float[] bboxW = weights.require(BBOX_WEIGHT, 4L * a, c, 1, 1).toFloatArray();
        float[] bboxB = weights.require(BBOX_BIAS, 4L * a).toFloatArray();
        this.scope = owner.child("rpn head");
        try {
            this.conv = new Conv2d(scope, device, convW, c, c, 3, 3, convB, Conv2d.Spec.of(1, 1, 1, true));
            this.clsLogits = new Conv2d(scope, device, clsW, a, c, 1, 1, clsB, Conv2d.Spec.of(1, 0, 1, false));
            this.bboxPred = new Conv2d(scope, device, bboxW, 4 * a, c, 1, 1, bboxB, Conv2d.Spec.of(1, 0, 1, false));
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    int channels() {
        return channels;
    }

    int anchorsPerLocation() {
        return anchorsPerLocation;
    }

    /** Objectness {@code [N, h, w, A]} and deltas {@code [N, h, w, 4A]} of one NHWC feature map, from {@code out}. */
    Output forward(Scope out, Tensor feature) {
        Tensor hidden = conv.allocateOutput(out, feature);
        Tensor objectness = null;
        Tensor deltas = null;
        try {
            conv.run(feature, hidden);
            objectness = clsLogits.allocateOutput(out, hidden);
            clsLogits.run(hidden, objectness);
            deltas = bboxPred.allocateOutput(out, hidden);
            bboxPred.run(hidden, deltas);
            return new Output(objectness, deltas);
        } catch (RuntimeException e) {
            if (objectness != null) {
                objectness.close();
            }
            if (deltas != null) {
                deltas.close();
            }
            throw e;
        } finally {
            hidden.close(); // the largest tensor of the block (C channels at P2): freed at once
        }
    }

    @Override
    public void close() {
        scope.release();
    }
}
