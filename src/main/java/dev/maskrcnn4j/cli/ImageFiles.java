package dev.maskrcnn4j.cli;

import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ColorModel;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBufferInt;
import java.awt.image.Raster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;

/** Reading the input images as 8-bit RGB, and naming their overlays. */
final class ImageFiles {
    static {
        ImageIO.setUseCache(false); // decode in memory, not through temp files
    }

    private ImageFiles() {
    }

    /**
     * Decodes {@code file} (any format ImageIO reads: PNG, JPEG, BMP, GIF, TIFF, WBMP) into a
     * {@code TYPE_INT_RGB} image. Throws a one-line {@link CommandFailure} naming the file when it
     * is missing, not a file, unreadable or not a decodable image.
     */
    static BufferedImage readRgb(Path file) throws CommandFailure {
        if (!Files.exists(file)) {
            throw CommandFailure.failure("image " + file + ": no such file");
        }
        if (!Files.isRegularFile(file)) {
            throw CommandFailure.failure("image " + file + ": not a regular file");
        }
        BufferedImage image;
        try {
            image = ImageIO.read(file.toFile());
        } catch (IOException | RuntimeException e) { // decoders throw runtime exceptions on some corrupt data
            throw CommandFailure.failure("image " + file + ": cannot be decoded ("
                    + CommandFailure.oneLine(e.getMessage() != null ? e.getMessage() : e.toString()) + ")");
        }
        if (image == null) {
            throw CommandFailure.failure("image " + file + ": not an image in a format this program reads"
                    + " (PNG, JPEG, BMP, GIF, TIFF, WBMP)");
        }
        if (image.getWidth() < 1 || image.getHeight() < 1) {
            throw CommandFailure.failure("image " + file + ": empty (" + image.getWidth() + "x" + image.getHeight() + ")");
        }
        return toRgb(image);
    }

    /**
     * The image as {@code TYPE_INT_RGB} with its stored channel values, as PIL's
     * {@code convert("RGB")} gives them (the reference pipeline reads images with PIL): gray is
     * replicated into R, G and B, alpha is dropped (not composited), palettes are looked up, and
     * no color management is applied. ({@code BufferedImage.getRGB} would convert gray through
     * Java's linear gray color space — 128 becomes 188 — and would apply embedded ICC profiles.)
     */
    static BufferedImage toRgb(BufferedImage image) {
        if (image.getType() == BufferedImage.TYPE_INT_RGB) {
            return image;
        }
        int w = image.getWidth();
        int h = image.getHeight();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] rgb = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
        ColorModel cm = image.getColorModel();
        int colorSpace = cm.getColorSpace().getType();
        boolean rawSamples = cm instanceof ComponentColorModel && !cm.isAlphaPremultiplied()
                && (colorSpace == ColorSpace.TYPE_GRAY || colorSpace == ColorSpace.TYPE_RGB);
        if (!rawSamples) {
            image.getRGB(0, 0, w, h, rgb, 0, w); // palettes and packed sRGB types: exact
            return out;
        }
        Raster raster = image.getRaster();
        boolean gray = colorSpace == ColorSpace.TYPE_GRAY;
        int[] bits = gray ? new int[] {cm.getComponentSize(0)}
                : new int[] {cm.getComponentSize(0), cm.getComponentSize(1), cm.getComponentSize(2)};
        int[] row = new int[w];
        for (int b = 0; b < bits.length; b++) {
            int shift = gray ? -1 : 16 - 8 * b; // gray fills all three channels
            for (int y = 0; y < h; y++) {
                raster.getSamples(0, y, w, 1, b, row);
                int base = y * w;
                for (int x = 0; x < w; x++) {
                    int v = to8Bits(row[x], bits[b]);
                    rgb[base + x] |= shift < 0 ? (v << 16) | (v << 8) | v : v << shift;
                }
            }
        }
        return out;
    }

    /** A sample of {@code bits} bits as 8 bits: the high byte of wider samples, narrower ones scaled to 0..255. */
    private static int to8Bits(int sample, int bits) {
        if (bits == 8) {
            return sample;
        }
        if (bits > 8) {
            return sample >>> (bits - 8);
        }
        int max = (1 << bits) - 1;
        return (sample * 255 + max / 2) / max;
    }

    /** The overlay file of an image: its file name with the extension replaced by ".png". */
    static String overlayName(Path image) {
        String name = image.getFileName().toString();
        int dot = name.lastIndexOf('.');
        return (dot > 0 ? name.substring(0, dot) : name) + ".png";
    }

    /** The image_id of an image in the results: its file name. */
    static String imageId(Path image) {
        return image.getFileName().toString();
    }
}
