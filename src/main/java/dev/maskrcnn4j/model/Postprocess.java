package dev.maskrcnn4j.model;

import dev.maskrcnn4j.Box;
import dev.maskrcnn4j.Detection;
import dev.maskrcnn4j.ImagePrediction;
import dev.maskrcnn4j.coco.CocoRle;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.PasteMasks;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;

/**
 * torchvision's GeneralizedRCNNTransform.postprocess plus the binarisation users apply: boxes
 * scaled from the resized to the original image (float32 ratios, as resize_boxes computes them),
 * 28x28 masks pasted at the original size (paste_masks_in_image, padding 1) and thresholded, each
 * mask run-length encoded. Stateless apart from the labels' names.
 */
public final class Postprocess {
    /** Detections whose binary masks are pasted and copied to the host at once (bounds memory). */
    private static final int PASTE_CHUNK = 16;

    private final List<String> labelNames;
    private final float maskThreshold;

    public Postprocess(List<String> labelNames, double maskThreshold) {
        this.labelNames = List.copyOf(labelNames);
        this.maskThreshold = (float) maskThreshold;
    }

    /**
     * The prediction of one image from its detections in resized coordinates; {@code resized} and
     * {@code original} are {height, width}. Reads the (small) detections back to the host.
     */
    public ImagePrediction run(Scope scope, Detections det, int[] resized, int[] original) {
        int d = (int) det.boxes().shape(0);
        int oh = original[0];
        int ow = original[1];
        if (d == 0) {
            return new ImagePrediction(oh, ow, List.of());
        }
        float[] boxes = det.boxes().toFloatArray();
        float[] scores = det.scores().toFloatArray();
        long[] labels = det.labels().toLongArray();
        float[] masks = det.masks().toFloatArray();
        // resize_boxes: ratio = torch.tensor(original, float32) / torch.tensor(resized, float32)
        float ratioH = (float) oh / (float) resized[0];
        float ratioW = (float) ow / (float) resized[1];
        for (int i = 0; i < d; i++) {
            boxes[4 * i] *= ratioW;
            boxes[4 * i + 1] *= ratioH;
            boxes[4 * i + 2] *= ratioW;
            boxes[4 * i + 3] *= ratioH;
        }
        CocoRle[] rles = new CocoRle[d];
        try (Scope s = scope.child("paste")) {
            Tensor scaled = Tensor.fromFloats(s, det.boxes().device(), boxes, d, 4);
            int chunk = Math.min(PASTE_CHUNK, d);
            Tensor binary = Tensor.allocate(s, det.boxes().device(), DType.UINT8, chunk, oh, ow);
            byte[] host = new byte[chunk * oh * ow];
            for (int start = 0; start < d; start += chunk) {
                int n = Math.min(chunk, d - start);
                Tensor out = binary.narrow(0, 0, n);
                PasteMasks.paste(det.masks().narrow(0, start, n), scaled.narrow(0, start, n), oh, ow, maskThreshold,
                        null, out);
                out.copyTo(host, 0);
                for (int i = 0; i < n; i++) {
                    rles[start + i] = CocoRle.encode(host, i * oh * ow, oh, ow);
                }
            }
            s.release();
        }
        List<Detection> out = new ArrayList<>(d);
        int area = Detection.SOFT_MASK_SIZE * Detection.SOFT_MASK_SIZE;
        for (int i = 0; i < d; i++) {
            int label = (int) labels[i];
            float[] soft = new float[area];
            System.arraycopy(masks, i * area, soft, 0, area);
            Box box = new Box(boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2], boxes[4 * i + 3]);
            String name = label >= 0 && label < labelNames.size() ? labelNames.get(label) : "class_" + label;
            out.add(new Detection(label, name, scores[i], box, soft, rles[i]));
        }
        return new ImagePrediction(oh, ow, out);
    }
}
