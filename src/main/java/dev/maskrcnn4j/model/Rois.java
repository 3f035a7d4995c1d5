package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Gather;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.List;

/**
 * torchvision's {@code MultiScaleRoIAlign.convert_to_roi_format}: per-image boxes {@code [K_i, 4]}
 * concatenated into RoIAlign's rois {@code [sum K_i, 5]} = (image index, x1, y1, x2, y2), on the
 * boxes' device without reading them back: the boxes and the image indices are copied into one
 * flat device array, from which one gather by a host-built index interleaves them.
 */
final class Rois {
    private Rois() {
    }

    /** The rois of {@code boxes} (dense FLOAT32 {@code [K_i, 4]} on {@code device}), owned by {@code scope}. */
    static Tensor of(Scope scope, Device device, List<Tensor> boxes) {
        int images = boxes.size();
        long total = 0;
        for (Tensor b : boxes) {
            total += b.shape(0);
        }
        if (total == 0) {
            return Tensor.allocate(scope, device, DType.FLOAT32, 0, 5);
        }
        long coords = 4 * total;
        long[] index = new long[Math.toIntExact(5 * total)];
        Scope tmp = scope.child("rois");
        try {
            Tensor flat = Tensor.allocate(tmp, device, DType.FLOAT32, coords + images);
            float[] imageIndex = new float[images];
            long roi = 0;
            for (int i = 0; i < images; i++) {
                Tensor b = boxes.get(i);
                long k = b.shape(0);
                if (k > 0) {
                    flat.narrow(0, 4 * roi, 4 * k).copyFrom(b.reshape(4 * k));
                }
                imageIndex[i] = i;
                for (long r = roi; r < roi + k; r++) {
                    int at = (int) (5 * r);
                    index[at] = coords + i;
                    for (int j = 0; j < 4; j++) {
                        index[at + 1 + j] = 4 * r + j;
                    }
                }
                roi += k;
            }
            flat.narrow(0, coords, images).copyFrom(imageIndex);
            Tensor indices = Tensor.fromLongs(tmp, device, index, index.length);
            return Gather.rows(scope, flat, indices).reshape(total, 5);
        } finally {
            tmp.release();
        }
    }
}
