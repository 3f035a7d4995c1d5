package dev.maskrcnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.Box;
import dev.maskrcnn4j.Detection;
import dev.maskrcnn4j.ImagePrediction;
import dev.maskrcnn4j.InvalidArgumentException;
import java.awt.image.BufferedImage;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class OverlayRendererTest {
    private static final int H = 60;
    private static final int W = 80;
    private static final int GRAY = 0x646464; // 100, 100, 100

    /** Best first: a person (mask 20..50 x 25..55, box 2 px larger), then a dog overlapping it on the right. */
    private static ImagePrediction prediction() {
        Detection best = Synthetic.detection(1, "person", 0.875f, new Box(18, 23, 52, 57),
                Synthetic.rectMask(H, W, 20, 25, 50, 55), H, W);
        Detection second = Synthetic.rectDetection(18, "dog", 0.5f, H, W, 40, 30, 70, 50);
        return new ImagePrediction(H, W, List.of(best, second));
    }

    private static BufferedImage grayImage() {
        BufferedImage image = new BufferedImage(W, H, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < H; y++) {
            for (int x = 0; x < W; x++) {
                image.setRGB(x, y, GRAY);
            }
        }
        return image;
    }

    private static int blended(int pixel, int color) {
        int r = OverlayRenderer.blend((pixel >> 16) & 0xff, (color >> 16) & 0xff);
        int g = OverlayRenderer.blend((pixel >> 8) & 0xff, (color >> 8) & 0xff);
        int b = OverlayRenderer.blend(pixel & 0xff, color & 0xff);
        return r << 16 | g << 8 | b;
    }

    private static int rgb(BufferedImage image, int x, int y) {
        return image.getRGB(x, y) & 0xffffff;
    }

    @Test
    void masksAreTintedInTheirColorWithFullColorOutlines() {
        BufferedImage out = OverlayRenderer.render(grayImage(), prediction());
        int c0 = OverlayRenderer.instanceColor(0).getRGB() & 0xffffff;
        int c1 = OverlayRenderer.instanceColor(1).getRGB() & 0xffffff;
        assertEquals(BufferedImage.TYPE_INT_RGB, out.getType());
        assertEquals(W, out.getWidth());
        assertEquals(H, out.getHeight());
        // inside only the person's mask: translucent tint; its edge: the full color
        assertEquals(blended(GRAY, c0), rgb(out, 30, 45));
        assertEquals(c0, rgb(out, 20, 45));
        assertEquals(c0, rgb(out, 30, 54));
        // inside only the dog's mask
        assertEquals(blended(GRAY, c1), rgb(out, 60, 40));
        // where they overlap, the best detection is on top
        assertEquals(blended(blended(GRAY, c1), c0), rgb(out, 45, 40));
        // outside every mask, box and label: untouched
        assertEquals(GRAY, rgb(out, 75, 58));
        assertEquals(GRAY, rgb(out, 5, 58));
    }

    @Test
    void boxesAreOutlinedAndLabelsDrawnOnATagAboveThem() {
        BufferedImage out = OverlayRenderer.render(grayImage(), prediction());
        int c0 = OverlayRenderer.instanceColor(0).getRGB() & 0xffffff;
        // the person's box is 2 px outside its mask: its left side (x = 18) is drawn, not tinted
        assertEquals(c0, rgb(out, 18, 45));
        assertEquals(GRAY, rgb(out, 16, 45));
        // the tag above the box (rows above y = 23, from x = 18): the color, with text in another color
        Set<Integer> tag = new HashSet<>();
        int tagPixels = 0;
        for (int y = 12; y < 22; y++) {
            for (int x = 19; x < 40; x++) {
                tag.add(rgb(out, x, y));
                tagPixels += rgb(out, x, y) == c0 ? 1 : 0;
            }
        }
        assertTrue(tagPixels > 50, "tag pixels: " + tagPixels);
        assertTrue(tag.size() > 2, "no text drawn on the tag: colors " + tag);
        assertEquals("person 0.88", OverlayRenderer.label(prediction().detections().get(0)));
        assertEquals("dog 0.50", OverlayRenderer.label(prediction().detections().get(1)));
    }

    @Test
    void renderingIsDeterministicAndLeavesTheInputAlone() {
        BufferedImage in = grayImage();
        int[] before = in.getRGB(0, 0, W, H, null, 0, W);
        BufferedImage a = OverlayRenderer.render(in, prediction());
        BufferedImage b = OverlayRenderer.render(grayImage(), prediction());
        assertArrayEquals(a.getRGB(0, 0, W, H, null, 0, W), b.getRGB(0, 0, W, H, null, 0, W));
        assertArrayEquals(before, in.getRGB(0, 0, W, H, null, 0, W));
    }

    @Test
    void instancesGetDistinctStableColors() {
        Set<Integer> colors = new HashSet<>();
        for (int i = 0; i < 100; i++) {
            colors.add(OverlayRenderer.instanceColor(i).getRGB());
            assertEquals(OverlayRenderer.instanceColor(i), OverlayRenderer.instanceColor(i));
        }
        assertEquals(100, colors.size());
        assertNotEquals(OverlayRenderer.instanceColor(0), OverlayRenderer.instanceColor(1));
    }

    @Test
    void grayAndEmptyPredictionsRender() {
        BufferedImage gray = new BufferedImage(W, H, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(3, 4, 0, 128);
        BufferedImage out = OverlayRenderer.render(gray, new ImagePrediction(H, W, List.of()));
        assertEquals(0x808080, rgb(out, 3, 4)); // stored gray value, not Java's linear-gray conversion
        assertEquals(0, rgb(out, 0, 0));
        // a box reaching outside the image and a label at the top edge are clipped, not errors
        Detection edge = Synthetic.detection(3, "car", 0.99f, new Box(-5, -5, W + 5, 10),
                Synthetic.rectMask(H, W, 0, 0, W, 10), H, W);
        OverlayRenderer.render(gray, new ImagePrediction(H, W, List.of(edge)));
    }

    @Test
    void aPredictionForAnotherSizeIsRefused() {
        assertThrows(InvalidArgumentException.class,
                () -> OverlayRenderer.render(grayImage(), new ImagePrediction(W, H, List.of())));
    }
}
