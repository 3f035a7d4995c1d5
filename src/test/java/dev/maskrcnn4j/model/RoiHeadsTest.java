package dev.maskrcnn4j.model;

import static dev.maskrcnn4j.model.RoiHeadsGoldenTest.CHAIN_ULPS;
import static dev.maskrcnn4j.model.RoiHeadsGoldenTest.U;
import static dev.maskrcnn4j.model.RoiHeadsGoldenTest.assertWithin;
import static dev.maskrcnn4j.model.RoiHeadsGoldenTest.maxAbs;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.checkpoint.CheckpointException;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.emulation.CudaEmulator;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import dev.maskrcnn4j.testing.Backends;
import dev.maskrcnn4j.testing.NoLeaks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/** RoiHeads on the emulated CUDA backend against the CPU, edge cases and bad inputs (a tiny model). */
@ExtendWith(NoLeaks.class)
class RoiHeadsTest {
    static final int CLASSES = 4;
    static final MaskRcnnConfig TINY = MaskRcnnConfig.forArch("resnet50_fpn").toBuilder().fpnChannels(8)
            .representationSize(16).maskHeadChannels(8).boxDetectionsPerImg(8).build();
    /** Two images, resized 100x120 and 90x128, padded to 128x128. */
    static final int[][] SIZES = {{100, 120}, {90, 128}};

    @TempDir
    Path dir;

    static StateDict tinyWeights(Path dir, int classes) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        RoiHeads.expectedShapes(TINY, classes, shapes);
        return RoiTestWeights.random(dir, shapes, 7);
    }

    /** P2..P6 of a 2-image batch padded to 128x128, NHWC (P6 must be ignored). */
    static List<Tensor> features(Scope scope, Device device, long seed) {
        Random r = new Random(seed);
        List<Tensor> maps = new ArrayList<>();
        for (int level = 2; level <= 6; level++) {
            int side = 128 >> level;
            float[] v = new float[2 * side * side * 8];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) r.nextGaussian();
            }
            maps.add(Tensor.fromFloats(scope, device, v, 2, side, side, 8));
        }
        return maps;
    }

    static float[] proposals(long seed, int k, int[] size) {
        Random r = new Random(seed);
        float[] b = new float[4 * k];
        for (int i = 0; i < k; i++) {
            float x = r.nextFloat() * size[1];
            float y = r.nextFloat() * size[0];
            float side = 4 + r.nextFloat() * 120;
            b[4 * i] = x;
            b[4 * i + 1] = y;
            b[4 * i + 2] = Math.min(x + side, size[1]);
            b[4 * i + 3] = Math.min(y + side * (0.5f + r.nextFloat()), size[0]);
        }
        return b;
    }

    /** Outputs on one device, copied to the host. */
    record Run(float[] logits, float[] regression, List<float[]> boxes, List<float[]> scores, List<long[]> labels,
               List<float[]> masks) {
    }

    private Run run(Device device, StateDict weights, int[] counts) {
        Scope scope = Allocator.global().openScope("roi heads " + device);
        try (RoiHeads heads = new RoiHeads(scope, device, weights, TINY, CLASSES)) {
            List<Tensor> features = features(scope, device, 11);
            List<Tensor> props = new ArrayList<>();
            for (int i = 0; i < counts.length; i++) {
                props.add(Tensor.fromFloats(scope, device, proposals(20 + i, counts[i], SIZES[i]), counts[i], 4));
            }
            BoxHead.Predictions p = heads.boxPredictions(scope, features, props, SIZES);
            Run out = new Run(p.classLogits().toFloatArray(), p.boxRegression().toFloatArray(), new ArrayList<>(),
                    new ArrayList<>(), new ArrayList<>(), new ArrayList<>());
            for (Detections d : heads.forward(scope, features, props, SIZES)) {
                assertEquals(device, d.boxes().device());
                out.boxes().add(d.boxes().toFloatArray());
                out.scores().add(d.scores().toFloatArray());
                out.labels().add(d.labels().toLongArray());
                out.masks().add(d.masks().toFloatArray());
            }
            return out;
        } finally {
            scope.release();
        }
    }

    /**
     * One emulator schedule (the kernels are tested in all schedules by their own tests); the same
     * tolerances as against torchvision (see RoiHeadsGoldenTest; masks as on torchvision's boxes:
     * the boxes agree to a few ulps, too little to move RoIAlign's samples measurably), boxes
     * within 8 ulps of 128.
     */
    @Test
    void emulatedCudaMatchesCpu() {
        StateDict weights = tinyWeights(dir, CLASSES);
        int[] counts = {10, 6};
        Run cpu = run(Device.CPU, weights, counts);
        long errorsBefore = Backends.useSchedule(CudaEmulator.TEST_SCHEDULES[2]);
        Run emulated = run(Device.CUDA_EMULATED, weights, counts);
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
        double tolLogits = CHAIN_ULPS * U * maxAbs(cpu.logits());
        assertWithin(cpu.logits(), emulated.logits(), tolLogits, "class logits");
        assertWithin(cpu.regression(), emulated.regression(), CHAIN_ULPS * U * maxAbs(cpu.regression()), "box regression");
        int detections = 0;
        for (int i = 0; i < counts.length; i++) {
            assertArrayEquals(cpu.labels().get(i), emulated.labels().get(i), "labels " + i);
            detections += cpu.labels().get(i).length;
            assertWithin(cpu.scores().get(i), emulated.scores().get(i), 2 * tolLogits + (CLASSES + 7) * U, "scores " + i);
            assertWithin(cpu.boxes().get(i), emulated.boxes().get(i), 8 * Math.ulp(128f), "boxes " + i);
            double tolMasks = 0.25 * CHAIN_ULPS * U * RoiHeadsGoldenTest.maxLogit(cpu.masks().get(i)) + 2 * U;
            assertWithin(cpu.masks().get(i), emulated.masks().get(i), tolMasks, "masks " + i);
        }
        assertTrue(detections > 4, "the case should detect something, got " + detections);
    }

    @Test
    void imagesWithoutProposalsOrSurvivorsGiveEmptyDetections() {
        StateDict weights = tinyWeights(dir, CLASSES);
        MaskRcnnConfig strict = TINY.toBuilder().boxScoreThresh(0.999).build();
        Scope scope = Allocator.global().openScope("empty");
        try (RoiHeads normal = new RoiHeads(scope, Device.CPU, weights, TINY, CLASSES);
             RoiHeads none = new RoiHeads(scope, Device.CPU, weights, strict, CLASSES)) {
            List<Tensor> features = features(scope, Device.CPU, 3);
            List<Tensor> props = List.of(Tensor.allocate(scope, Device.CPU, DType.FLOAT32, 0, 4),
                    Tensor.fromFloats(scope, Device.CPU, proposals(5, 8, SIZES[1]), 8, 4));
            List<Detections> d = normal.forward(scope, features, props, SIZES);
            assertEquals(0, d.get(0).count());
            assertArrayEquals(new long[] {0, 28, 28}, d.get(0).masks().shape());
            assertTrue(d.get(1).count() > 0);
            for (Detections e : none.forward(scope, features, props, SIZES)) {
                assertEquals(0, e.count());
                assertArrayEquals(new long[] {0, 4}, e.boxes().shape());
                assertArrayEquals(new long[] {0, 28, 28}, e.masks().shape());
            }
            // detections are sorted by score, capped, and never background
            float[] s = d.get(1).scores().toFloatArray();
            for (int i = 1; i < s.length; i++) {
                assertTrue(s[i - 1] >= s[i], "scores descending");
            }
            assertTrue(s.length <= TINY.boxDetectionsPerImg());
            for (long label : d.get(1).labels().toLongArray()) {
                assertTrue(label >= 1 && label < CLASSES, "label " + label);
            }
            // more proposals than the candidate tables were built for (the RPN's post-NMS top-n): same result
            try (RoiHeads small = new RoiHeads(scope, Device.CPU, weights, TINY.toBuilder().rpnPostNmsTopN(5).build(),
                    CLASSES)) {
                Detections e = small.forward(scope, features, props, SIZES).get(1);
                assertArrayEquals(d.get(1).labels().toLongArray(), e.labels().toLongArray());
                assertArrayEquals(d.get(1).boxes().toFloatArray(), e.boxes().toFloatArray());
                assertArrayEquals(d.get(1).scores().toFloatArray(), e.scores().toFloatArray());
            }
        } finally {
            scope.release();
        }
    }

    @Test
    void rejectsBadInputs() {
        StateDict weights = tinyWeights(dir, CLASSES);
        Scope scope = Allocator.global().openScope("bad");
        try (RoiHeads heads = new RoiHeads(scope, Device.CPU, weights, TINY, CLASSES)) {
            List<Tensor> features = features(scope, Device.CPU, 3);
            Tensor good = Tensor.fromFloats(scope, Device.CPU, proposals(5, 4, SIZES[0]), 4, 4);
            Tensor five = Tensor.allocate(scope, Device.CPU, DType.FLOAT32, 4, 5);
            Tensor ints = Tensor.allocate(scope, Device.CPU, DType.INT64, 4, 4);
            assertBad(() -> heads.forward(scope, features, List.of(good, five), SIZES), "proposals of image 1");
            assertBad(() -> heads.forward(scope, features, List.of(ints, good), SIZES), "proposals of image 0");
            assertBad(() -> heads.forward(scope, features, List.of(good, good), new int[][] {{100, 120}}), "image sizes");
            assertBad(() -> heads.forward(scope, features, List.of(good), new int[][] {{100, 120}}), "feature map 0");
            assertBad(() -> heads.forward(scope, features.subList(0, 3), List.of(good, good), SIZES), "P2..P5");
            assertBad(() -> heads.forward(scope, features, List.of(good, good), new int[][] {{100, 120}, {0, 5}}),
                    "image size 1");
            Tensor wide = Tensor.allocate(scope, Device.CPU, DType.FLOAT32, 2, 32, 32, 16);
            List<Tensor> wrongChannels = new ArrayList<>(features);
            wrongChannels.set(0, wide);
            assertBad(() -> heads.forward(scope, wrongChannels, List.of(good, good), SIZES), "feature map 0");
        } finally {
            scope.release();
        }
    }

    @Test
    void checkpointChecks() {
        StateDict weights = tinyWeights(dir, CLASSES);
        assertEquals(CLASSES, RoiHeads.numClasses(weights));
        StateDict other = RoiTestWeights.write(dir, Map.of("backbone.body.conv1.weight", new TestWeights.Entry(new long[] {1},
                new float[] {1})));
        assertThrows(CheckpointException.class, () -> RoiHeads.numClasses(other));
        StateDict flat = RoiTestWeights.write(dir, Map.of(RoiHeads.CLASS_WEIGHT, new TestWeights.Entry(new long[] {4},
                new float[4])));
        CheckpointException e = assertThrows(CheckpointException.class, () -> RoiHeads.numClasses(flat));
        assertTrue(e.getMessage().contains("num_classes"), e.getMessage());
        assertThrows(InvalidArgumentException.class, () -> RoiHeads.expectedShapes(TINY, 1, new LinkedHashMap<>()));
        Scope scope = Allocator.global().openScope("checkpoint");
        try {
            // the weights of 4 classes do not fit a 5-class head: the first mismatching key is named
            CheckpointException wrong = assertThrows(CheckpointException.class,
                    () -> new RoiHeads(scope, Device.CPU, weights, TINY, 5));
            assertTrue(wrong.getMessage().contains("cls_score"), wrong.getMessage());
            assertEquals(0, scope.bytesOwned(), "a failed construction frees what it loaded");
        } finally {
            scope.close();
        }
    }

    @Test
    void expectedShapesOfTorchvisionsModel() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        RoiHeads.expectedShapes(MaskRcnnConfig.maskrcnnResnet50Fpn(), 91, shapes);
        assertEquals(20, shapes.size());
        assertArrayEquals(new long[] {1024, 256 * 7 * 7}, shapes.get("roi_heads.box_head.fc6.weight"));
        assertArrayEquals(new long[] {364, 1024}, shapes.get("roi_heads.box_predictor.bbox_pred.weight"));
        assertArrayEquals(new long[] {256, 256, 3, 3}, shapes.get("roi_heads.mask_head.3.0.weight"));
        assertArrayEquals(new long[] {256, 256, 2, 2}, shapes.get("roi_heads.mask_predictor.conv5_mask.weight"));
        assertArrayEquals(new long[] {91, 256, 1, 1}, shapes.get("roi_heads.mask_predictor.mask_fcn_logits.weight"));
        assertArrayEquals(new long[] {91}, shapes.get("roi_heads.mask_predictor.mask_fcn_logits.bias"));
    }

    private static void assertBad(org.junit.jupiter.api.function.Executable call, String mentions) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        assertTrue(e.getMessage().contains(mentions), () -> "message '" + e.getMessage() + "' should mention " + mentions);
    }
}
