package dev.maskrcnn4j.cli;

import dev.maskrcnn4j.Box;
import dev.maskrcnn4j.Detection;
import dev.maskrcnn4j.ImagePrediction;
import dev.maskrcnn4j.InvalidArgumentException;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.geom.Rectangle2D;
import java.awt.image.BufferedImage;
import java.awt.image.DataBufferInt;
import java.util.List;
import java.util.Locale;

/**
 * Draws detections on a copy of their image: each instance's mask tinted in its own color with its
 * outline in full color, its box, and a "name score" label above the box. Colors depend only on
 * the instance's rank, so the same prediction always renders the same. The best detection is
 * drawn last (on top).
 */
final class OverlayRenderer {
    /** Weight of the instance color in a masked pixel. */
    static final float MASK_ALPHA = 0.45f;

    private OverlayRenderer() {
    }

    /** The color of the detection ranked {@code index} (0 = best): hues spaced by the golden ratio. */
    static Color instanceColor(int index) {
        float hue = (float) ((0.1 + index * 0.618033988749895) % 1.0);
        return Color.getHSBColor(hue, 0.85f, 0.95f);
    }

    /** A new {@code TYPE_INT_RGB} image: {@code image} with {@code prediction} drawn on it. */
    static BufferedImage render(BufferedImage image, ImagePrediction prediction) {
        int w = image.getWidth();
        int h = image.getHeight();
        if (prediction.height() != h || prediction.width() != w) {
            throw new InvalidArgumentException("prediction is for a " + prediction.height() + "x" + prediction.width()
                    + " image, not " + h + "x" + w);
        }
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        int[] pixels = ((DataBufferInt) out.getRaster().getDataBuffer()).getData();
        ImageFiles.toRgb(image).getRGB(0, 0, w, h, pixels, 0, w);
        List<Detection> detections = prediction.detections();
        byte[] mask = new byte[h * w];
        for (int i = detections.size() - 1; i >= 0; i--) {
            Detection d = detections.get(i);
            if (d.mask().height() != h || d.mask().width() != w) {
                throw new InvalidArgumentException("detection mask is " + d.mask().height() + "x" + d.mask().width()
                        + " but its image is " + h + "x" + w);
            }
            d.mask().decodeInto(mask);
            tintMask(pixels, mask, w, h, instanceColor(i).getRGB());
        }
        Graphics2D g = out.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            int side = Math.min(w, h);
            float stroke = Math.max(1f, side / 300f);
            g.setStroke(new BasicStroke(stroke));
            g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, Math.max(10, side / 45)));
            for (int i = detections.size() - 1; i >= 0; i--) {
                Detection d = detections.get(i);
                Color color = instanceColor(i);
                drawBox(g, d.box(), color);
                drawLabel(g, label(d), d.box(), color, w, stroke);
            }
        } finally {
            g.dispose();
        }
        return out;
    }

    /** The label text: category name and score with two decimals. */
    static String label(Detection d) {
        return d.categoryName() + " " + String.format(Locale.ROOT, "%.2f", d.score());
    }

    /** Blends {@code rgb} into masked pixels; pixels on the mask's edge (4-neighbourhood) get it in full. */
    private static void tintMask(int[] pixels, byte[] mask, int w, int h, int rgb) {
        int cr = (rgb >> 16) & 0xff;
        int cg = (rgb >> 8) & 0xff;
        int cb = rgb & 0xff;
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int i = y * w + x;
                if (mask[i] == 0) {
                    continue;
                }
                boolean edge = x == 0 || x == w - 1 || y == 0 || y == h - 1
                        || mask[i - 1] == 0 || mask[i + 1] == 0 || mask[i - w] == 0 || mask[i + w] == 0;
                if (edge) {
                    pixels[i] = rgb & 0xffffff;
                } else {
                    int p = pixels[i];
                    pixels[i] = blend((p >> 16) & 0xff, cr) << 16 | blend((p >> 8) & 0xff, cg) << 8 | blend(p & 0xff, cb);
                }
            }
        }
    }

    /** One channel of a masked pixel: {@code (1 - MASK_ALPHA) * pixel + MASK_ALPHA * color}, rounded. */
    static int blend(int pixel, int color) {
        return Math.round((1 - MASK_ALPHA) * pixel + MASK_ALPHA * color);
    }

    private static void drawBox(Graphics2D g, Box box, Color color) {
        g.setColor(color);
        g.draw(new Rectangle2D.Float(box.x1(), box.y1(), Math.max(0f, box.width()), Math.max(0f, box.height())));
    }

    /** The label on a filled tag above the box's top-left corner (inside the box when no room above). */
    private static void drawLabel(Graphics2D g, String text, Box box, Color color, int imageWidth, float stroke) {
        FontMetrics fm = g.getFontMetrics();
        int pad = 2;
        int tagW = fm.stringWidth(text) + 2 * pad;
        int tagH = fm.getAscent() + fm.getDescent() + pad;
        int x = Math.max(0, Math.min(Math.round(box.x1() - stroke / 2), imageWidth - tagW));
        int y = Math.round(box.y1() - stroke / 2) - tagH;
        if (y < 0) {
            y = Math.max(0, Math.round(box.y1() + stroke / 2));
        }
        g.setColor(color);
        g.fillRect(x, y, tagW, tagH);
        float luma = (0.299f * color.getRed() + 0.587f * color.getGreen() + 0.114f * color.getBlue()) / 255f;
        g.setColor(luma > 0.6f ? Color.BLACK : Color.WHITE);
        g.drawString(text, x + pad, y + pad / 2 + fm.getAscent());
    }
}
