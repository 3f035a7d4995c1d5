package dev.maskrcnn4j;

import dev.maskrcnn4j.coco.CocoRle;

/**
 * One detected instance, in the original image's pixels.
 *
 * @param label        the class index (COCO category id for the 91-class COCO models)
 * @param categoryName the label's name
 * @param score        the class probability
 * @param box          the box in original image pixels
 * @param softMask     the 28x28 mask probabilities of the label's channel, row-major (784 floats)
 * @param mask         the full-image binary mask (probability > the config's mask threshold after
 *                     pasting at the original size), as COCO run-length encoding
 */
public record Detection(int label, String categoryName, float score, Box box, float[] softMask, CocoRle mask) {
    /** Side of {@link #softMask()}. */
    public static final int SOFT_MASK_SIZE = 28;

    public Detection {
        if (softMask == null || softMask.length != SOFT_MASK_SIZE * SOFT_MASK_SIZE) {
            throw new InvalidArgumentException("detection: softMask must have 28*28 values");
        }
        if (box == null || mask == null || categoryName == null) {
            throw new InvalidArgumentException("detection: box, mask and categoryName must not be null");
        }
        softMask = softMask.clone();
    }

    @Override
    public float[] softMask() {
        return softMask.clone();
    }

    /** The full-image binary mask, row-major {@code height*width} bytes of 0 or 1. */
    public byte[] binaryMask() {
        return mask.decode();
    }

    /** Equal when every field is, the soft mask compared by value. */
    @Override
    public boolean equals(Object o) {
        return o instanceof Detection d && label == d.label && categoryName.equals(d.categoryName)
                && Float.compare(score, d.score) == 0 && box.equals(d.box)
                && java.util.Arrays.equals(softMask, d.softMask) && mask.equals(d.mask);
    }

    @Override
    public int hashCode() {
        return java.util.Objects.hash(label, score, box, mask) * 31 + java.util.Arrays.hashCode(softMask);
    }

    @Override
    public String toString() {
        return "Detection(" + label + " " + categoryName + ", score " + score + ", box " + box + ", mask area "
                + mask.area() + ")";
    }
}
