package dev.maskrcnn4j.model;

import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;

/**
 * Per-image detections in resized-image coordinates (before scaling to the original image), best
 * score first, as torchvision's RoIHeads returns them in eval mode.
 *
 * @param boxes  FLOAT32 {@code [D, 4]} (x1, y1, x2, y2), clipped to the resized image
 * @param scores FLOAT32 {@code [D]}, the softmax probability of the label
 * @param labels INT64 {@code [D]}, in 1..numClasses-1 (0, the background, is never reported)
 * @param masks  FLOAT32 {@code [D, 28, 28]}: sigmoid probabilities of the label's mask channel
 */
public record Detections(Tensor boxes, Tensor scores, Tensor labels, Tensor masks) implements AutoCloseable {
    /** Side of the mask head's output grid. */
    public static final int MASK_SIZE = 28;

    public Detections {
        if (boxes == null || scores == null || labels == null || masks == null) {
            throw new InvalidArgumentException("detections: boxes, scores, labels and masks must not be null");
        }
        long d = boxes.rank() == 2 ? boxes.shape(0) : -1;
        if (boxes.dtype() != DType.FLOAT32 || boxes.rank() != 2 || boxes.shape(1) != 4
                || scores.dtype() != DType.FLOAT32 || scores.rank() != 1 || scores.shape(0) != d
                || labels.dtype() != DType.INT64 || labels.rank() != 1 || labels.shape(0) != d
                || masks.dtype() != DType.FLOAT32 || masks.rank() != 3 || masks.shape(0) != d
                || masks.shape(1) != MASK_SIZE || masks.shape(2) != MASK_SIZE) {
            throw new InvalidArgumentException("detections: expected boxes FLOAT32 [D, 4], scores FLOAT32 [D], labels INT64 [D]"
                    + " and masks FLOAT32 [D, 28, 28], got " + boxes + ", " + scores + ", " + labels + ", " + masks);
        }
    }

    /** Number of detections D. */
    public int count() {
        return (int) boxes.shape(0);
    }

    /** Frees the four tensors. */
    @Override
    public void close() {
        boxes.close();
        scores.close();
        labels.close();
        masks.close();
    }
}
