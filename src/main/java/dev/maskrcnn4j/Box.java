package dev.maskrcnn4j;

/** An axis-aligned box in image pixels, corners (x1, y1) top-left and (x2, y2) bottom-right. */
public record Box(float x1, float y1, float x2, float y2) {
    public float width() {
        return x2 - x1;
    }

    public float height() {
        return y2 - y1;
    }

    /** {x1, y1, x2, y2}. */
    public float[] xyxy() {
        return new float[] {x1, y1, x2, y2};
    }

    /** {x, y, width, height}: COCO's bbox. */
    public float[] xywh() {
        return new float[] {x1, y1, x2 - x1, y2 - y1};
    }
}
