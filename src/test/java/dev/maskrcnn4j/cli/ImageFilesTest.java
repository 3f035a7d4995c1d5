package dev.maskrcnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Transparency;
import java.awt.color.ColorSpace;
import java.awt.image.BufferedImage;
import java.awt.image.ComponentColorModel;
import java.awt.image.DataBuffer;
import java.awt.image.IndexColorModel;
import java.awt.image.WritableRaster;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Images are read with their stored channel values, as PIL's convert("RGB") gives them to torchvision. */
class ImageFilesTest {
    @TempDir
    Path dir;

    private Path save(BufferedImage image, String name) throws IOException {
        Path p = dir.resolve(name);
        assertTrue(ImageIO.write(image, name.substring(name.lastIndexOf('.') + 1), p.toFile()), name);
        return p;
    }

    private static int rgb(BufferedImage image, int x, int y) {
        return image.getRGB(x, y) & 0xffffff;
    }

    @Test
    void grayIsReplicatedWithoutJavasLinearGrayConversion() throws Exception {
        BufferedImage gray = new BufferedImage(3, 2, BufferedImage.TYPE_BYTE_GRAY);
        gray.getRaster().setSample(0, 0, 0, 128);
        gray.getRaster().setSample(2, 1, 0, 255);
        BufferedImage read = ImageFiles.readRgb(save(gray, "gray.png"));
        assertEquals(BufferedImage.TYPE_INT_RGB, read.getType());
        assertEquals(0x808080, rgb(read, 0, 0));
        assertEquals(0x000000, rgb(read, 1, 0));
        assertEquals(0xffffff, rgb(read, 2, 1));
    }

    @Test
    void sixteenBitGrayKeepsTheHighByte() throws Exception {
        BufferedImage gray = new BufferedImage(2, 1, BufferedImage.TYPE_USHORT_GRAY);
        gray.getRaster().setSample(0, 0, 0, 0x81ff);
        assertEquals(0x818181, rgb(ImageFiles.readRgb(save(gray, "gray16.png")), 0, 0));
    }

    @Test
    void grayWithAlphaDropsTheAlpha() throws Exception {
        ComponentColorModel cm = new ComponentColorModel(ColorSpace.getInstance(ColorSpace.CS_GRAY), true, false,
                Transparency.TRANSLUCENT, DataBuffer.TYPE_BYTE);
        WritableRaster raster = cm.createCompatibleWritableRaster(2, 1);
        raster.setPixel(0, 0, new int[] {77, 0});
        raster.setPixel(1, 0, new int[] {200, 255});
        Path p = save(new BufferedImage(cm, raster, false, null), "gray-alpha.png");
        BufferedImage read = ImageFiles.readRgb(p);
        assertEquals(0x4d4d4d, rgb(read, 0, 0));
        assertEquals(0xc8c8c8, rgb(read, 1, 0));
    }

    @Test
    void rgbaDropsTheAlphaWithoutCompositing() throws Exception {
        BufferedImage argb = new BufferedImage(2, 1, BufferedImage.TYPE_INT_ARGB);
        argb.setRGB(0, 0, 0x00010203); // fully transparent: its color is kept
        argb.setRGB(1, 0, 0x80fa7d05);
        BufferedImage read = ImageFiles.readRgb(save(argb, "rgba.png"));
        assertEquals(0x010203, rgb(read, 0, 0));
        assertEquals(0xfa7d05, rgb(read, 1, 0));
    }

    @Test
    void palettesAreLookedUp() throws Exception {
        byte[] r = {0, 10, (byte) 250};
        byte[] g = {0, (byte) 200, 5};
        byte[] b = {0, 30, (byte) 128};
        byte[] a = {(byte) 255, 0, (byte) 255};
        BufferedImage indexed = new BufferedImage(3, 1, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(8, 3, r, g, b, a));
        indexed.getRaster().setSamples(0, 0, 3, 1, 0, new int[] {2, 1, 0});
        BufferedImage read = ImageFiles.readRgb(save(indexed, "palette.png"));
        assertEquals(0xfa0580, rgb(read, 0, 0));
        assertEquals(0x0ac81e, rgb(read, 1, 0)); // transparent palette entry: color kept
        assertEquals(0x000000, rgb(read, 2, 0));
    }

    @Test
    void jpegAndBmpDecodeToTheirSrgbValues() throws Exception {
        BufferedImage rgb = new BufferedImage(16, 8, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < 8; y++) {
            for (int x = 0; x < 16; x++) {
                rgb.setRGB(x, y, (x * 16) << 16 | (y * 32) << 8 | 90);
            }
        }
        for (String name : new String[] {"photo.jpg", "bitmap.bmp"}) {
            Path p = save(rgb, name);
            BufferedImage decoded = ImageIO.read(p.toFile()); // sRGB: getRGB is exact here
            BufferedImage read = ImageFiles.readRgb(p);
            assertEquals(BufferedImage.TYPE_INT_RGB, read.getType());
            for (int y = 0; y < 8; y++) {
                for (int x = 0; x < 16; x++) {
                    assertEquals(decoded.getRGB(x, y) & 0xffffff, rgb(read, x, y), name + " at " + x + "," + y);
                }
            }
        }
    }

    @Test
    void badFilesFailWithOneLineNamingTheFile() throws Exception {
        Path missing = dir.resolve("missing.png");
        Path text = Files.writeString(dir.resolve("notes.png"), "not an image\n");
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        Path whole = save(img, "whole.png");
        byte[] bytes = Files.readAllBytes(whole);
        Path truncated = Files.write(dir.resolve("truncated.png"), Arrays.copyOf(bytes, bytes.length / 2));
        for (Path p : new Path[] {missing, text, truncated, dir}) {
            CommandFailure f = assertThrows(CommandFailure.class, () -> ImageFiles.readRgb(p), p.toString());
            assertTrue(f.getMessage().contains(p.toString()), f.getMessage());
            assertEquals(f.getMessage(), CommandFailure.oneLine(f.getMessage()));
            assertEquals(CommandFailure.FAILURE, f.exitCode());
        }
    }

    @Test
    void overlayNamesReplaceTheExtension() {
        assertEquals("street.png", ImageFiles.overlayName(Path.of("in/street.jpg")));
        assertEquals("a.b.png", ImageFiles.overlayName(Path.of("a.b.jpeg")));
        assertEquals("noext.png", ImageFiles.overlayName(Path.of("noext")));
        assertEquals(".hidden.png", ImageFiles.overlayName(Path.of(".hidden")));
        assertEquals("street.jpg", ImageFiles.imageId(Path.of("/data/in/street.jpg")));
    }
}
