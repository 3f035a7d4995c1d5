package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.BoxFilter;
import dev.maskrcnn4j.ops.Gather;
import dev.maskrcnn4j.ops.Nms;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;

/**
 * The per-image part of torchvision's {@code RoIHeads.postprocess_detections}, after the softmax
 * and the clipped class-specific decode: every (proposal, non-background class) pair is a
 * candidate, in proposal-major, class-minor order (torchvision's {@code boxes[:, 1:].reshape(-1, 4)});
 * candidates with {@code score > scoreThresh} and both sides {@code >= 1e-2} are kept in that
 * order, suppressed per class by batched NMS, and the best {@code maxDetections} returned by score.
 * Everything stays on the device; only the kept counts are read back (by the filter and NMS ops).
 * The candidates' flat positions and labels depend only on (K, C): they are uploaded once, for up
 * to {@code capacity} proposals per image (the RPN's post-NMS top-n), and prefixes are used.
 */
final class BoxPostprocess {
    /** remove_small_boxes' min_size in postprocess_detections. */
    static final double MIN_BOX_SIZE = 1e-2;

    private final BoxFilter.Criteria criteria;
    private final double nmsThresh;
    private final int maxDetections;
    private final int numClasses;
    private final int capacity;
    private final Tensor positions; // INT64 [capacity * (C - 1)], on the device
    private final Tensor labels;    // INT64 [capacity * (C - 1)], on the device

    /** The tables live in {@code owner} (the heads' weight scope). */
    BoxPostprocess(Scope owner, Device device, int numClasses, int capacity, double scoreThresh, double nmsThresh,
            int maxDetections) {
        this.criteria = new BoxFilter.Criteria(MIN_BOX_SIZE, scoreThresh, true);
        this.nmsThresh = nmsThresh;
        this.maxDetections = maxDetections;
        this.numClasses = numClasses;
        this.capacity = capacity;
        Tensor[] tables = candidateTables(owner, device, capacity, numClasses);
        this.positions = tables[0];
        this.labels = tables[1];
    }

    /**
     * Host-built constants (no device data is read): the flat {@code [K*C]} position of each
     * candidate and its label, skipping the background column, proposal-major.
     */
    private static Tensor[] candidateTables(Scope scope, Device device, int k, int classes) {
        long candidates = (long) k * (classes - 1);
        long[] position = new long[Math.toIntExact(candidates)];
        long[] label = new long[position.length];
        int at = 0;
        for (int p = 0; p < k; p++) {
            for (int c = 1; c < classes; c++, at++) {
                position[at] = (long) p * classes + c;
                label[at] = c;
            }
        }
        Tensor positions = Tensor.fromLongs(scope, device, position, candidates);
        try {
            return new Tensor[] {positions, Tensor.fromLongs(scope, device, label, candidates)};
        } catch (RuntimeException e) {
            positions.close();
            throw e;
        }
    }

    /** Boxes FLOAT32 {@code [D, 4]}, scores FLOAT32 {@code [D]}, labels INT64 {@code [D]}; D = 0 when there are none. */
    record Selected(Tensor boxes, Tensor scores, Tensor labels) implements AutoCloseable {
        @Override
        public void close() {
            boxes.close();
            scores.close();
            labels.close();
        }
    }

    /**
     * The detections of one image from its class probabilities {@code [K, C]} and decoded, clipped
     * boxes {@code [K, C, 4]} (dense, on one device), as new tensors owned by {@code out}.
     */
    Selected select(Scope out, Tensor probabilities, Tensor decoded) {
        Device device = probabilities.device();
        int k = (int) probabilities.shape(0);
        int classes = (int) probabilities.shape(1);
        if (classes != numClasses) {
            throw new IllegalStateException("postprocess: " + classes + " class scores for a " + numClasses + "-class head");
        }
        long candidates = (long) k * (classes - 1);
        if (candidates == 0) {
            return empty(out, device);
        }
        Scope tmp = out.child("postprocess");
        try {
            Tensor[] tables = k <= capacity
                    ? new Tensor[] {positions.narrow(0, 0, candidates), labels.narrow(0, 0, candidates)}
                    : candidateTables(tmp, device, k, classes);
            Tensor boxes = Gather.rows(tmp, decoded.reshape((long) k * classes, 4), tables[0]);
            Tensor scores = Gather.rows(tmp, probabilities.reshape((long) k * classes), tables[0]);
            Tensor keep = BoxFilter.run(tmp, boxes, scores, criteria);
            Tensor keptBoxes = Gather.rows(tmp, boxes, keep);
            Tensor keptScores = Gather.rows(tmp, scores, keep);
            Tensor keptLabels = Gather.rows(tmp, tables[1], keep);
            Tensor best = Nms.batchedNms(tmp, keptBoxes, keptScores, keptLabels, nmsThresh, maxDetections);
            Tensor resultBoxes = Gather.rows(out, keptBoxes, best);
            Tensor resultScores = null;
            try {
                resultScores = Gather.rows(out, keptScores, best);
                return new Selected(resultBoxes, resultScores, Gather.rows(out, keptLabels, best));
            } catch (RuntimeException e) {
                resultBoxes.close();
                if (resultScores != null) {
                    resultScores.close();
                }
                throw e;
            }
        } finally {
            tmp.release();
        }
    }

    static Selected empty(Scope out, Device device) {
        Tensor boxes = Tensor.allocate(out, device, DType.FLOAT32, 0, 4);
        return new Selected(boxes, Tensor.allocate(out, device, DType.FLOAT32, 0), Tensor.allocate(out, device, DType.INT64, 0));
    }
}
