package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Linear;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.Map;

/**
 * torchvision's TwoMLPHead ({@code relu(fc6(flatten(x)))}, {@code relu(fc7(.))}) followed by
 * FastRCNNPredictor ({@code cls_score}, {@code bbox_pred}), on RoIAlign's 7x7 pooled features.
 * The pooled features are NHWC, so fc6's columns are reordered once from torch's CHW flattening.
 */
final class BoxHead implements AutoCloseable {
    /** MultiScaleRoIAlign output size of the box branch. */
    static final int POOLED = 7;
    private static final String PREFIX = "roi_heads.";

    /** Per-roi outputs: class logits {@code [K, C]} and class-specific box deltas {@code [K, 4C]}. */
    record Predictions(Tensor classLogits, Tensor boxRegression) implements AutoCloseable {
        @Override
        public void close() {
            classLogits.close();
            boxRegression.close();
        }
    }

    private final Scope scope;
    private final int inChannels;
    private final int numClasses;
    private final Linear fc6;
    private final Linear fc7;
    private final Linear clsScore;
    private final Linear bboxPred;

    BoxHead(Scope owner, Device device, StateDict weights, int inChannels, int representationSize, int numClasses) {
        this.inChannels = inChannels;
        this.numClasses = numClasses;
        this.scope = owner.child("box_head");
        try {
            int in = inChannels * POOLED * POOLED;
            float[] w6 = weights.require(PREFIX + "box_head.fc6.weight", representationSize, in).toFloatArray();
            this.fc6 = new Linear(scope, device, Linear.chwToHwcColumns(w6, representationSize, inChannels, POOLED, POOLED),
                    representationSize, in, bias(weights, "box_head.fc6", representationSize), true);
            this.fc7 = linear(device, weights, "box_head.fc7", representationSize, representationSize, true);
            this.clsScore = linear(device, weights, "box_predictor.cls_score", numClasses, representationSize, false);
            this.bboxPred = linear(device, weights, "box_predictor.bbox_pred", 4 * numClasses, representationSize, false);
        } catch (RuntimeException e) {
            scope.release();
            throw e;
        }
    }

    static void expectedShapes(int inChannels, int representationSize, int numClasses, Map<String, long[]> out) {
        out.put(PREFIX + "box_head.fc6.weight", new long[] {representationSize, (long) inChannels * POOLED * POOLED});
        out.put(PREFIX + "box_head.fc6.bias", new long[] {representationSize});
        out.put(PREFIX + "box_head.fc7.weight", new long[] {representationSize, representationSize});
        out.put(PREFIX + "box_head.fc7.bias", new long[] {representationSize});
        out.put(PREFIX + "box_predictor.cls_score.weight", new long[] {numClasses, representationSize});
        out.put(PREFIX + "box_predictor.cls_score.bias", new long[] {numClasses});
        out.put(PREFIX + "box_predictor.bbox_pred.weight", new long[] {4L * numClasses, representationSize});
        out.put(PREFIX + "box_predictor.bbox_pred.bias", new long[] {4L * numClasses});
    }

    private Linear linear(Device device, StateDict weights, String name, int out, int in, boolean relu) {
        float[] w = weights.require(PREFIX + name + ".weight", out, in).toFloatArray();
        return new Linear(scope, device, w, out, in, bias(weights, name, out), relu);
    }

    private static float[] bias(StateDict weights, String name, int out) {
        return weights.require(PREFIX + name + ".bias", out).toFloatArray();
    }

    int numClasses() {
        return numClasses;
    }

    /** Predictions for pooled features {@code [K, 7, 7, C]}, owned by {@code scope}. */
    Predictions run(Scope out, Tensor pooled) {
        long k = pooled.shape(0);
        if (pooled.rank() != 4 || pooled.shape(1) != POOLED || pooled.shape(2) != POOLED || pooled.shape(3) != inChannels) {
            throw new InvalidArgumentException("box head: pooled features must be [K, 7, 7, " + inChannels + "], got " + pooled);
        }
        Tensor flat = pooled.reshape(k, (long) POOLED * POOLED * inChannels);
        Scope tmp = out.child("box_head");
        try {
            Tensor x = fc7.run(tmp, fc6.run(tmp, flat));
            Tensor logits = clsScore.run(out, x);
            try {
                return new Predictions(logits, bboxPred.run(out, x));
            } catch (RuntimeException e) {
                logits.close();
                throw e;
            }
        } finally {
            tmp.release();
        }
    }

    @Override
    public void close() {
        scope.release();
    }
}
