package dev.maskrcnn4j.cli;

import dev.maskrcnn4j.Box;
import dev.maskrcnn4j.Detection;
import dev.maskrcnn4j.coco.CocoRle;

/** Detections built with the public record constructors, for tests that need no model. */
final class Synthetic {
    private Synthetic() {
    }

    /** A row-major h x w mask with the rectangle [x0, x1) x [y0, y1) set. */
    static byte[] rectMask(int h, int w, int x0, int y0, int x1, int y1) {
        byte[] m = new byte[h * w];
        for (int y = y0; y < y1; y++) {
            for (int x = x0; x < x1; x++) {
                m[y * w + x] = 1;
            }
        }
        return m;
    }

    static Detection detection(int label, String name, float score, Box box, byte[] mask, int h, int w) {
        return new Detection(label, name, score, box, new float[Detection.SOFT_MASK_SIZE * Detection.SOFT_MASK_SIZE],
                CocoRle.encode(mask, h, w));
    }

    /** A detection whose mask is the given rectangle and whose box is that rectangle's bounds. */
    static Detection rectDetection(int label, String name, float score, int h, int w, int x0, int y0, int x1, int y1) {
        return detection(label, name, score, new Box(x0, y0, x1, y1), rectMask(h, w, x0, y0, x1, y1), h, w);
    }
}
