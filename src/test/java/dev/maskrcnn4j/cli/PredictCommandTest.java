package dev.maskrcnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import dev.maskrcnn4j.Detection;
import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.ImagePrediction;
import dev.maskrcnn4j.InputImage;
import dev.maskrcnn4j.MaskRcnn;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.MaskRcnnException;
import dev.maskrcnn4j.coco.CocoRle;
import java.awt.image.BufferedImage;
import java.awt.image.IndexColorModel;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The predict command end to end through {@link PredictCommand#run}: every error path with the
 * real model loader (they fail before loading), and the outputs with a stand-in model.
 */
class PredictCommandTest {
    @TempDir
    Path dir;

    private Path rgb;
    private Path gray;
    private Path palette;
    private Path jpeg;
    private Path weights;

    /** Output of one run. */
    record Result(int code, String out, String err) {
    }

    /** A model returning {@code i % 3} rectangle detections for the i-th image; throws on image {@code failOn}. */
    static final class FakeModel implements PredictCommand.Model {
        final List<InputImage> seen = new ArrayList<>();
        final List<ImagePrediction> returned = new ArrayList<>();
        final int failOn;
        final RuntimeException failure;
        boolean closed;
        String weights;
        MaskRcnnConfig config;
        Device device;

        FakeModel(int failOn, RuntimeException failure) {
            this.failOn = failOn;
            this.failure = failure;
        }

        @Override
        public ImagePrediction predict(InputImage image) {
            if (seen.size() == failOn) {
                throw failure;
            }
            int i = seen.size();
            seen.add(image);
            int h = image.height();
            int w = image.width();
            List<Detection> ds = new ArrayList<>();
            for (int k = 0; k < i % 3; k++) {
                ds.add(Synthetic.rectDetection(1 + k, "class_" + (1 + k), 0.9f - 0.25f * k, h, w, k, k, w / 2 + k, h / 2 + k));
            }
            ImagePrediction p = new ImagePrediction(h, w, ds);
            returned.add(p);
            return p;
        }

        @Override
        public void close() {
            closed = true;
        }

        PredictCommand.ModelLoader loader() {
            return (weightsArg, configArg, deviceArg) -> {
                weights = weightsArg;
                config = configArg;
                device = deviceArg;
                return this;
            };
        }
    }

    @BeforeEach
    void images() throws IOException {
        Path in = Files.createDirectory(dir.resolve("in"));
        BufferedImage color = new BufferedImage(30, 20, BufferedImage.TYPE_INT_RGB);
        Random rng = new Random(1);
        for (int y = 0; y < 20; y++) {
            for (int x = 0; x < 30; x++) {
                color.setRGB(x, y, rng.nextInt(1 << 24));
            }
        }
        rgb = write(color, in.resolve("rgb.png"));
        BufferedImage g = new BufferedImage(12, 16, BufferedImage.TYPE_BYTE_GRAY);
        for (int y = 0; y < 16; y++) {
            for (int x = 0; x < 12; x++) {
                g.getRaster().setSample(x, y, 0, 128);
            }
        }
        gray = write(g, in.resolve("gray.png"));
        byte[] r = {10, (byte) 200};
        byte[] gg = {20, 100};
        byte[] b = {30, 0};
        BufferedImage indexed = new BufferedImage(9, 7, BufferedImage.TYPE_BYTE_INDEXED, new IndexColorModel(1, 2, r, gg, b));
        palette = write(indexed, in.resolve("palette.png"));
        jpeg = write(color, in.resolve("photo.jpg"));
        weights = Files.write(dir.resolve("weights.pth"), new byte[] {1, 2, 3});
    }

    private static Path write(BufferedImage image, Path p) throws IOException {
        String name = p.getFileName().toString();
        assertTrue(ImageIO.write(image, name.substring(name.lastIndexOf('.') + 1), p.toFile()));
        return p;
    }

    private static Result run(PredictCommand.ModelLoader loader, Object... args) {
        String[] a = new String[args.length];
        for (int i = 0; i < args.length; i++) {
            a[i] = args[i].toString();
        }
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = PredictCommand.run(a, new PrintStream(out, true, StandardCharsets.UTF_8),
                new PrintStream(err, true, StandardCharsets.UTF_8), loader);
        return new Result(code, out.toString(StandardCharsets.UTF_8), err.toString(StandardCharsets.UTF_8));
    }

    /**
     * Runs the command expecting a failure: exit {@code code}, exactly one "maskrcnn4j: ..." line on
     * stderr containing {@code mustContain}, and no file created or changed anywhere under the temp dir.
     */
    private String assertFails(PredictCommand.ModelLoader loader, int code, String mustContain, Object... args)
            throws IOException {
        Map<String, String> before = AtomicOutputsTest.tree(dir);
        Result r = run(loader, args);
        assertEquals(code, r.code(), r.err());
        assertTrue(r.err().startsWith("maskrcnn4j: "), r.err());
        assertTrue(r.err().endsWith("\n") && r.err().indexOf('\n') == r.err().length() - 1, "one line: " + r.err());
        assertTrue(r.err().contains(mustContain), "'" + mustContain + "' not in: " + r.err());
        assertFalse(r.err().contains("\tat "), "no stack trace: " + r.err());
        boolean bug = mustContain.startsWith("internal error"); // only a bug names its exception class
        assertEquals(bug, r.err().contains("Exception"), r.err());
        assertEquals(before, AtomicOutputsTest.tree(dir), "files left behind");
        return r.err().strip();
    }

    private Object[] withOutputs(Object... args) {
        List<Object> all = new ArrayList<>(List.of("--output", dir.resolve("r.json"), "--overlay", dir.resolve("ov")));
        all.addAll(List.of(args));
        return all.toArray();
    }

    @Test
    void missingImage() throws IOException {
        Path missing = dir.resolve("in/missing.jpg");
        assertFails(PredictCommand.MASK_RCNN, 1, "image " + missing + ": no such file",
                withOutputs("--weights", weights, rgb, missing));
    }

    @Test
    void unreadableImage() throws IOException {
        Path text = Files.writeString(dir.resolve("in/notes.png"), "hello");
        assertFails(PredictCommand.MASK_RCNN, 1, "image " + text + ": not an image",
                withOutputs("--weights", weights, rgb, text));
        Path folder = Files.createDirectory(dir.resolve("in/folder.jpg"));
        assertFails(PredictCommand.MASK_RCNN, 1, "image " + folder + ": not a regular file",
                withOutputs("--weights", weights, folder));
    }

    @Test
    void commandLineErrorsExitWith2() throws IOException {
        assertFails(PredictCommand.MASK_RCNN, 2, "unknown architecture 'resnet77_fpn'",
                withOutputs("--weights", weights, "--arch", "resnet77_fpn", rgb));
        assertFails(PredictCommand.MASK_RCNN, 2, "--score-threshold must be a number from 0 to 1, got '2'",
                withOutputs("--weights", weights, "--score-threshold", "2", rgb));
        assertFails(PredictCommand.MASK_RCNN, 2, "unknown option '--thresh'",
                withOutputs("--weights", weights, "--thresh", "0.5", rgb));
        assertFails(PredictCommand.MASK_RCNN, 2, "missing --weights", withOutputs(rgb));
        assertFails(PredictCommand.MASK_RCNN, 2, "no images", withOutputs("--weights", weights));
        assertFails(PredictCommand.MASK_RCNN, 2, "unknown device 'gpu'", withOutputs("--weights", weights, "--device", "gpu", rgb));
    }

    @Test
    void cudaWithoutAGpuSaysWhy() throws IOException {
        assumeFalse(Device.CUDA.isAvailable(), "a usable CUDA device is present");
        String line = assertFails(PredictCommand.MASK_RCNN, 1, Device.CUDA.unavailableReason(),
                withOutputs("--weights", weights, "--device", "cuda", rgb));
        assertEquals("maskrcnn4j: device cuda is not available: " + Device.CUDA.unavailableReason(), line);
    }

    @Test
    void missingWeightsFile() throws IOException {
        Path missing = dir.resolve("nope.pth");
        assertFails(PredictCommand.MASK_RCNN, 1, "weights " + missing + ": no such file",
                withOutputs("--weights", missing, rgb));
    }

    @Test
    void badCheckpointFile() throws IOException {
        byte[] noise = new byte[4096];
        new Random(7).nextBytes(noise);
        Path bad = Files.write(dir.resolve("random.pth"), noise);
        try {
            MaskRcnn.load(bad.toString(), MaskRcnnConfig.maskrcnnResnet50Fpn(), Device.CPU).close();
        } catch (UnsupportedOperationException e) {
            assumeFalse(true, "needs MaskRcnn.load, landing in main");
        } catch (RuntimeException expected) {
            // the real behaviour, checked through the command below
        }
        assertFails(PredictCommand.MASK_RCNN, 1, bad.toString(), withOutputs("--weights", bad, rgb, gray));
    }

    @Test
    void aModelThatCannotBeLoadedIsOneLineNamingTheWeights() throws IOException {
        PredictCommand.ModelLoader unsupported = (w, c, d) -> {
            throw new UnsupportedOperationException("not yet");
        };
        assertFails(unsupported, 1, "cannot load weights " + weights + ": loading a model is not supported",
                withOutputs("--weights", weights, rgb));
        PredictCommand.ModelLoader corrupt = (w, c, d) -> {
            throw new MaskRcnnException(w + ": truncated or corrupt");
        };
        assertEquals("maskrcnn4j: " + weights + ": truncated or corrupt",
                assertFails(corrupt, 1, "truncated", withOutputs("--weights", weights, rgb)));
    }

    @Test
    void unusableOutputLocations() throws IOException {
        Path noDir = dir.resolve("absent/r.json");
        assertFails(PredictCommand.MASK_RCNN, 1, "--output " + noDir + ": directory " + noDir.getParent() + " does not exist",
                "--weights", weights, "--output", noDir, rgb);
        Path file = Files.writeString(dir.resolve("file"), "x");
        assertFails(PredictCommand.MASK_RCNN, 1, "--overlay " + file + " exists and is not a directory",
                "--weights", weights, "--overlay", file, rgb);
        assertFails(PredictCommand.MASK_RCNN, 1, "--output " + dir.resolve("in") + " is a directory",
                "--weights", weights, "--output", dir.resolve("in"), rgb);
    }

    @Test
    void imagesWhoseNamesWouldCollide() throws IOException {
        Path other = Files.createDirectory(dir.resolve("other"));
        Path sameName = Files.copy(rgb, other.resolve("rgb.png"));
        assertFails(PredictCommand.MASK_RCNN, 2, "same file name", withOutputs("--weights", weights, rgb, sameName));
        Path sameStem = Files.copy(jpeg, dir.resolve("in/rgb.jpg"));
        assertFails(PredictCommand.MASK_RCNN, 2, "would both be drawn to " + dir.resolve("ov/rgb.png"),
                "--weights", weights, "--overlay", dir.resolve("ov"), rgb, sameStem);
    }

    @Test
    void writesTheCocoResultsAndOverlaysOfEveryImage() throws IOException {
        FakeModel model = new FakeModel(-1, null);
        List<Path> images = List.of(rgb, gray, palette, jpeg);
        Result r = run(model.loader(), "--weights", weights, "--arch", "resnet34_fpn", "--score-threshold", "0.25",
                "--output", dir.resolve("r.json"), "--overlay", dir.resolve("ov"), rgb, gray, palette, jpeg);
        assertEquals(0, r.code(), r.err());
        assertEquals("", r.err());
        assertEquals(weights.toString(), model.weights);
        assertEquals("resnet34_fpn", model.config.arch());
        assertEquals(0.25, model.config.boxScoreThresh());
        assertEquals(Device.CPU, model.device);
        assertTrue(model.closed);

        String[] lines = r.out().split("\n");
        assertEquals(6, lines.length, r.out());
        assertTrue(lines[0].matches(java.util.regex.Pattern.quote(rgb.toString()) + ": no detections in \\d+ ms"), lines[0]);
        assertTrue(lines[1].matches(java.util.regex.Pattern.quote(gray.toString()) + ": 1 detection \\(1 class_1\\) in \\d+ ms"),
                lines[1]);
        assertTrue(lines[2].startsWith(palette + ": 2 detections (1 class_1, 1 class_2) in "), lines[2]);
        assertEquals("wrote 3 detections of 4 images to " + dir.resolve("r.json"), lines[4]);
        assertEquals("wrote 4 overlays to " + dir.resolve("ov"), lines[5]);

        // the model saw each image at its size, gray and palette colors as stored
        assertEquals(4, model.seen.size());
        assertEquals(16, model.seen.get(1).height());
        assertEquals(12, model.seen.get(1).width());
        for (float v : model.seen.get(1).chw()) {
            assertEquals(128 / 255f, v);
        }
        float[] pal = model.seen.get(2).chw();
        assertEquals(10 / 255f, pal[0]);
        assertEquals(20 / 255f, pal[63]);
        assertEquals(30 / 255f, pal[126]);

        List<?> results = (List<?>) TestJson.parse(Files.readString(dir.resolve("r.json")));
        List<Detection> expected = new ArrayList<>();
        List<String> expectedIds = new ArrayList<>();
        for (int i = 0; i < images.size(); i++) {
            for (Detection d : model.returned.get(i).detections()) {
                expected.add(d);
                expectedIds.add(images.get(i).getFileName().toString());
            }
        }
        assertEquals(expected.size(), results.size());
        for (int k = 0; k < expected.size(); k++) {
            Map<?, ?> o = (Map<?, ?>) results.get(k);
            Detection d = expected.get(k);
            assertEquals(expectedIds.get(k), o.get("image_id"));
            assertEquals((long) d.label(), o.get("category_id"));
            assertEquals(d.score(), ((Number) o.get("score")).floatValue(), 0f);
            List<?> bbox = (List<?>) o.get("bbox");
            float[] xywh = d.box().xywh();
            for (int j = 0; j < 4; j++) {
                assertEquals(xywh[j], ((Number) bbox.get(j)).floatValue(), 0f);
            }
            Map<?, ?> seg = (Map<?, ?>) o.get("segmentation");
            List<?> size = (List<?>) seg.get("size");
            assertEquals(List.of((long) d.mask().height(), (long) d.mask().width()), size);
            assertEquals(d.mask().countsString(), seg.get("counts"));
            assertArrayEquals(d.binaryMask(), CocoRle.fromString(d.mask().height(), d.mask().width(),
                    (String) seg.get("counts")).decode());
        }

        for (Path image : images) {
            BufferedImage overlay = ImageIO.read(dir.resolve("ov").resolve(ImageFiles.overlayName(image)).toFile());
            BufferedImage original = ImageIO.read(image.toFile());
            assertEquals(original.getWidth(), overlay.getWidth());
            assertEquals(original.getHeight(), overlay.getHeight());
        }
        // nothing else, in particular no staging files
        Map<String, String> tree = AtomicOutputsTest.tree(dir);
        assertTrue(tree.keySet().stream().noneMatch(k -> k.contains("/.") || k.startsWith(".")), tree.keySet().toString());
        assertEquals(4, tree.keySet().stream().filter(k -> k.startsWith("ov/") && k.endsWith(".png")).count());
    }

    @Test
    void withoutOutputsOnlyTheSummaryIsPrinted() throws IOException {
        FakeModel model = new FakeModel(-1, null);
        Map<String, String> before = AtomicOutputsTest.tree(dir);
        Result r = run(model.loader(), "--weights", weights, "--device", "cpu", rgb, gray);
        assertEquals(0, r.code(), r.err());
        assertEquals(2, r.out().split("\n").length, r.out());
        assertEquals(before, AtomicOutputsTest.tree(dir));
    }

    @Test
    void aFailureAfterTheFirstImageLeavesNothingBehind() throws IOException {
        FakeModel model = new FakeModel(1, new MaskRcnnException("kernel exploded"));
        String line = assertFails(model.loader(), 1, "prediction failed on image " + gray + ": kernel exploded",
                withOutputs("--weights", weights, palette, gray, rgb));
        assertEquals(1, model.seen.size());
        assertTrue(model.closed);
        assertTrue(line.startsWith("maskrcnn4j: "));
    }

    @Test
    void aFailureAfterTheFirstImageLeavesExistingOutputsAsTheyWere() throws IOException {
        Path ov = Files.createDirectory(dir.resolve("ov"));
        Files.writeString(ov.resolve("palette.png"), "previous overlay");
        Files.writeString(dir.resolve("r.json"), "previous results");
        FakeModel model = new FakeModel(2, new IllegalStateException("a bug"));
        String line = assertFails(model.loader(), 1, "internal error: java.lang.IllegalStateException: a bug",
                withOutputs("--weights", weights, palette, gray, rgb));
        assertTrue(line.contains("MASKRCNN4J_DEBUG"), line);
        assertEquals("previous overlay", Files.readString(ov.resolve("palette.png")));
    }

    @Test
    void aSecondRunReplacesTheOutputsOfTheFirst() throws IOException {
        assertEquals(0, run(new FakeModel(-1, null).loader(), withOutputs("--weights", weights, rgb, gray, palette)).code());
        Result second = run(new FakeModel(-1, null).loader(), withOutputs("--weights", weights, palette));
        assertEquals(0, second.code(), second.err());
        assertEquals(List.of(), TestJson.parse(Files.readString(dir.resolve("r.json"))));
        assertEquals(3, AtomicOutputsTest.tree(dir.resolve("ov")).keySet().stream().filter(k -> k.endsWith(".png")).count());
    }

    @Test
    void helpGoesToStdout() {
        Result r = run(PredictCommand.MASK_RCNN, "--help");
        assertEquals(0, r.code());
        assertEquals(PredictOptions.USAGE + "\n", r.out());
        assertEquals("", r.err());
    }
}
