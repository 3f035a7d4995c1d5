package dev.maskrcnn4j;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.checkpoint.CheckpointException;
import dev.maskrcnn4j.coco.CocoRle;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.testing.NoLeaks;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** The Java API's contract on a tiny model: inputs, results, errors, threads, memory. */
@ExtendWith(NoLeaks.class)
class MaskRcnnApiTest {
    @TempDir
    static Path dir;
    static Path ckpt;
    static final MaskRcnnConfig CONFIG = TinyModels.config(18);

    @BeforeAll
    static void writeCheckpoint() throws Exception {
        ckpt = TinyModels.checkpoint(dir, CONFIG, 11);
    }

    @Test
    void resultsAreInOriginalPixelsWithConsistentMasks() {
        try (MaskRcnn m = MaskRcnn.load(ckpt.toString(), CONFIG, Device.CPU)) {
            assertEquals(TinyModels.CLASSES, m.numClasses());
            ImagePrediction p = m.predict(TinyModels.image(75, 101, 3));
            assertEquals(75, p.height());
            assertEquals(101, p.width());
            assertTrue(!p.detections().isEmpty());
            float prev = Float.POSITIVE_INFINITY;
            for (Detection d : p.detections()) {
                assertTrue(d.score() <= prev, "best score first");
                prev = d.score();
                assertTrue(d.score() > CONFIG.boxScoreThresh() && d.score() <= 1f);
                assertTrue(d.label() >= 1 && d.label() < TinyModels.CLASSES);
                assertEquals("class_" + d.label(), d.categoryName());
                Box b = d.box();
                assertTrue(b.x1() >= 0 && b.y1() >= 0 && b.x2() <= 101 && b.y2() <= 75, "box inside the image: " + b);
                float[] xywh = b.xywh();
                assertEquals(b.x2() - b.x1(), xywh[2]);
                assertArrayEquals(new int[] {75, 101}, d.mask().size());
                byte[] bin = d.binaryMask();
                assertEquals(75 * 101, bin.length);
                assertEquals(d.mask(), CocoRle.encode(bin, 75, 101));
                for (float v : d.softMask()) {
                    assertTrue(v >= 0f && v <= 1f);
                }
            }
        }
    }

    @Test
    void batchEqualsSingleImagesUpToPadding() {
        // torchvision pads a batch to a common size; with identical sizes nothing differs.
        InputImage a = TinyModels.image(64, 80, 4);
        InputImage b = TinyModels.image(64, 80, 5);
        try (MaskRcnn m = MaskRcnn.load(ckpt, CONFIG, Device.CPU)) {
            List<ImagePrediction> both = m.predict(List.of(a, b));
            assertEquals(m.predict(a), both.get(0));
            assertEquals(m.predict(b), both.get(1));
        }
    }

    @Test
    void bufferedImagesAndChwArraysGiveTheSamePixels() {
        BufferedImage img = new BufferedImage(40, 30, BufferedImage.TYPE_INT_RGB);
        BufferedImage gray = new BufferedImage(40, 30, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 30; y++) {
            for (int x = 0; x < 40; x++) {
                img.setRGB(x, y, (x * 6) << 16 | (y * 8) << 8 | (x + y));
                gray.getRaster().setSample(x, y, 0, (x * 7 + y) & 0xff);
            }
        }
        float[] chw = InputImage.of(img).chw();
        assertEquals(3 * 30 * 40, chw.length);
        assertEquals((5 * 6) / 255f, chw[2 * 40 + 5]); // R of (x 5, y 2)
        assertEquals((2 * 8) / 255f, chw[30 * 40 + 2 * 40 + 5]);
        float[] g = InputImage.of(gray).chw();
        assertEquals(((3 * 7 + 2) & 0xff) / 255f, g[2 * 40 + 3]);
        assertEquals(g[2 * 40 + 3], g[2 * 1200 + 2 * 40 + 3]);
    }

    @Test
    void oneSharedModelServesSeveralThreads() throws Exception {
        List<InputImage> images = List.of(TinyModels.image(64, 80, 6), TinyModels.image(70, 50, 7),
                TinyModels.image(90, 66, 8));
        try (MaskRcnn m = MaskRcnn.load(ckpt, CONFIG, Device.CPU)) {
            List<ImagePrediction> expected = new ArrayList<>();
            for (InputImage i : images) {
                expected.add(m.predict(i));
            }
            ExecutorService ex = Executors.newFixedThreadPool(3);
            try {
                List<Future<ImagePrediction>> fs = new ArrayList<>();
                for (int rep = 0; rep < 4; rep++) {
                    for (InputImage i : images) {
                        fs.add(ex.submit(() -> m.predict(i)));
                    }
                }
                for (int k = 0; k < fs.size(); k++) {
                    assertEquals(expected.get(k % images.size()), fs.get(k).get(), "concurrent call " + k);
                }
            } finally {
                ex.shutdown();
            }
        }
    }

    @Test
    void workingMemoryIsReusedAndFreedOnClose() {
        long before = Allocator.global().bytesInUse();
        MaskRcnn m = MaskRcnn.load(ckpt, CONFIG, Device.CPU);
        InputImage img = TinyModels.image(64, 80, 9);
        m.predict(img);
        long retained = m.retainedWorkingBytes();
        assertTrue(retained > 0);
        m.predict(img);
        assertEquals(retained, m.retainedWorkingBytes(), "the same shapes need no new memory");
        m.close();
        m.close(); // idempotent
        assertEquals(before, Allocator.global().bytesInUse());
        assertThrows(MaskRcnnException.class, () -> m.predict(img));
    }

    @Test
    void badInputsAreTypedErrors() throws Exception {
        assertThrows(InvalidArgumentException.class, () -> MaskRcnn.load((String) null, CONFIG, Device.CPU));
        assertThrows(InvalidArgumentException.class, () -> MaskRcnn.load(ckpt, null, Device.CPU));
        assertThrows(CheckpointException.class, () -> MaskRcnn.load(dir.resolve("missing.pth"), CONFIG, Device.CPU));
        Path junk = Files.write(dir.resolve("junk.pth"), new byte[] {1, 2, 3, 4, 5});
        assertThrows(CheckpointException.class, () -> MaskRcnn.load(junk, CONFIG, Device.CPU));
        // the checkpoint of another architecture: one exception listing the mismatches
        CheckpointException e = assertThrows(CheckpointException.class,
                () -> MaskRcnn.load(ckpt, TinyModels.config(50), Device.CPU));
        assertTrue(e.getMessage().contains("missing key"), e.getMessage());
        assertThrows(InvalidArgumentException.class, () -> MaskRcnn.load(ckpt,
                CONFIG.toBuilder().categoryNames(List.of("a", "b")).build(), Device.CPU));
        if (!Device.CUDA.isAvailable()) {
            assertThrows(DeviceUnavailableException.class, () -> MaskRcnn.load(ckpt, CONFIG, Device.CUDA));
        }
        try (MaskRcnn m = MaskRcnn.load(ckpt, CONFIG, Device.CPU)) {
            assertThrows(InvalidArgumentException.class, () -> m.predict((InputImage) null));
            assertThrows(InvalidArgumentException.class, () -> m.predict(List.of()));
            assertThrows(InvalidArgumentException.class, () -> m.predict(new float[5], 2, 2));
            assertThrows(InvalidArgumentException.class, () -> m.predict(new float[] {0, 0, Float.NaN}, 1, 1));
            assertThrows(InvalidArgumentException.class, () -> m.predict((BufferedImage) null));
        }
        assertThrows(InvalidArgumentException.class, () -> MaskRcnnConfig.forArch("resnet42_fpn"));
        assertThrows(InvalidArgumentException.class, () -> CONFIG.toBuilder().minSize(0).build());
        assertThrows(InvalidArgumentException.class, () -> CONFIG.toBuilder().boxNmsThresh(Double.NaN).build());
    }
}
