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
 */
final class BoxPostprocess {
    /** remove_small_boxes' min_size in postprocess_detections. */
    static final double MIN_BOX_SIZE = 1e-2;

    private final BoxFilter.Criteria criteria;
    private final double nmsThresh;
    private final int maxDetections;

    BoxPostprocess(double scoreThresh, double nmsThresh, int maxDetections) {
        this.criteria = new BoxFilter.Criteria(MIN_BOX_SIZE, scoreThresh, true);
        this.nmsThresh = nmsThresh;
        this.maxDetections = maxDetections;
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
        long candidates = (long) k * (classes - 1);
        if (candidates == 0) {
            return empty(out, device);
        }
        Scope tmp = out.child("postprocess");
        try {
            // Host-built constants (no device data read): the flat [K*C] position of each candidate
            // and its label, skipping the background column.
            long[] position = new long[Math.toIntExact(candidates)];
            long[] label = new long[position.length];
            int at = 0;
            for (int p = 0; p < k; p++) {
                for (int c = 1; c < classes; c++, at++) {
                    position[at] = (long) p * classes + c;
                    label[at] = c;
                }
            }
            Tensor positions = Tensor.fromLongs(tmp, device, position, candidates);
            Tensor boxes = Gather.rows(tmp, decoded.reshape((long) k * classes, 4), positions);
            Tensor scores = Gather.rows(tmp, probabilities.reshape((long) k * classes), positions);
            Tensor keep = BoxFilter.run(tmp, boxes, scores, criteria);
            Tensor keptBoxes = Gather.rows(tmp, boxes, keep);
            Tensor keptScores = Gather.rows(tmp, scores, keep);
            Tensor keptLabels = Gather.rows(tmp, Tensor.fromLongs(tmp, device, label, candidates), keep);
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
