package dev.maskrcnn4j;

import java.awt.image.BufferedImage;

/**
 * An RGB image as the model takes it: float CHW planes (R, G, B), values in [0, 1], as torchvision's
 * {@code to_tensor} gives. Holds its own copy of the pixels.
 */
public final class InputImage {
    private final float[] chw;
    private final int height;
    private final int width;

    private InputImage(float[] chw, int height, int width) {
        this.chw = chw;
        this.height = height;
        this.width = width;
    }

    /**
     * From {@code 3 * height * width} floats in CHW order (RGB). Throws
     * {@link InvalidArgumentException} for a wrong length, a non-positive size, or a value that is
     * not finite.
     */
    public static InputImage ofChw(float[] chw, int height, int width) {
        if (chw == null) {
            throw new InvalidArgumentException("image: pixel array must not be null");
        }
        if (height < 1 || width < 1) {
            throw new InvalidArgumentException("image: height and width must be >= 1, got " + height + "x" + width);
        }
        if ((long) height * width * 3 != chw.length) {
            throw new InvalidArgumentException("image: " + chw.length + " floats do not hold a 3x" + height + "x" + width
                    + " CHW image (" + (3L * height * width) + " expected)");
        }
        for (int i = 0; i < chw.length; i++) {
            if (!Float.isFinite(chw[i])) {
                throw new InvalidArgumentException("image: value " + chw[i] + " at index " + i + " is not finite");
            }
        }
        return new InputImage(chw.clone(), height, width);
    }

    /**
     * From a {@link BufferedImage} of any type: its sRGB pixels (alpha dropped, gray expanded),
     * each 8-bit channel divided by 255 in float32 as torchvision's {@code to_tensor} does.
     */
    public static InputImage of(BufferedImage image) {
        if (image == null) {
            throw new InvalidArgumentException("image must not be null");
        }
        int h = image.getHeight();
        int w = image.getWidth();
        if (image.getType() == BufferedImage.TYPE_BYTE_GRAY) {
            // getRGB would map gray through a linear-to-sRGB curve; PIL's convert("RGB") copies it.
            float[] chw = new float[3 * h * w];
            int plane = h * w;
            java.awt.image.Raster r = image.getRaster();
            int[] row = new int[w];
            for (int y = 0; y < h; y++) {
                r.getSamples(0, y, w, 1, 0, row);
                for (int x = 0; x < w; x++) {
                    float v = row[x] / 255f;
                    chw[y * w + x] = v;
                    chw[plane + y * w + x] = v;
                    chw[2 * plane + y * w + x] = v;
                }
            }
            return new InputImage(chw, h, w);
        }
        int[] argb = image.getRGB(0, 0, w, h, null, 0, w);
        float[] chw = new float[3 * h * w];
        int plane = h * w;
        for (int i = 0; i < plane; i++) {
            int p = argb[i];
            chw[i] = ((p >> 16) & 0xff) / 255f;
            chw[plane + i] = ((p >> 8) & 0xff) / 255f;
            chw[2 * plane + i] = (p & 0xff) / 255f;
        }
        return new InputImage(chw, h, w);
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    /** A copy of the CHW pixels. */
    public float[] chw() {
        return chw.clone();
    }

    /** The pixels without a copy, for the model. */
    float[] pixels() {
        return chw;
    }
}
