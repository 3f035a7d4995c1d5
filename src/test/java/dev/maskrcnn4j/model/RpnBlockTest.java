package dev.maskrcnn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.checkpoint.Checkpoint;
import dev.maskrcnn4j.checkpoint.CheckpointException;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.emulation.CudaEmulator;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.Tensor;
import dev.maskrcnn4j.testing.Backends;
import dev.maskrcnn4j.testing.NoLeaks;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The RPN block on a tiny config (8 channels, a 64x72 padded batch of two images): emulated CUDA
 * against the CPU, the weights it reads, empty results and the checks of its inputs. Parity with
 * torchvision is {@link RpnParityTest}.
 */
@ExtendWith(NoLeaks.class)
class RpnBlockTest {
    static final int CHANNELS = 8;
    static final int PADDED_H = 64;
    static final int PADDED_W = 72;
    /** P2..P6 of a 64x72 batch: /4, then halved rounding up (P6 is FPN's max pool of P5, kernel 1, stride 2). */
    static final int[][] GRIDS = {{16, 18}, {8, 9}, {4, 5}, {2, 3}, {1, 2}};
    static final int[][] IMAGE_SIZES = {{64, 61}, {50, 72}};

    @TempDir
    Path dir;

    /** Pre-NMS 100 per level cuts P2 (864 anchors) and P3 (216); post-NMS 60 caps what survives. */
    static MaskRcnnConfig tinyConfig() {
        return MaskRcnnConfig.maskrcnnResnet50Fpn().toBuilder().fpnChannels(CHANNELS).rpnPreNmsTopN(100)
                .rpnPostNmsTopN(60).build();
    }

    /**
     * Random head weights scaled, for unit-variance features, to objectness logits of std ~2
     * (probabilities spread over (0, 1) rather than piled at 1) and deltas of std ~0.15.
     */
    static StateDict randomWeights(Path dir, MaskRcnnConfig config, long seed) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        RegionProposalNetwork.expectedShapes(config, shapes);
        Random r = new Random(seed);
        int c = config.fpnChannels();
        Map<String, float[]> values = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            String key = e.getKey();
            long n = Arrays.stream(e.getValue()).reduce(1, (x, y) -> x * y);
            double std = key.endsWith("bias") ? 0.1
                    : key.contains("conv") ? 1 / Math.sqrt(9.0 * c)
                    : key.contains("cls_logits") ? 2 / Math.sqrt(c / 2.0)
                    : 0.15 / Math.sqrt(c / 2.0);
            float[] v = new float[(int) n];
            for (int i = 0; i < v.length; i++) {
                v[i] = (float) (r.nextGaussian() * std);
            }
            values.put(key, v);
        }
        return Checkpoint.load(writeSafetensors(dir.resolve("rpn-" + seed + ".safetensors"), shapes, values));
    }

    /** A safetensors file of float32 tensors (format: 8-byte header length, JSON header, data). */
    static Path writeSafetensors(Path file, Map<String, long[]> shapes, Map<String, float[]> values) {
        StringBuilder header = new StringBuilder("{");
        long offset = 0;
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            long bytes = values.get(e.getKey()).length * 4L;
            if (header.length() > 1) {
                header.append(',');
            }
            header.append('"').append(e.getKey()).append("\":{\"dtype\":\"F32\",\"shape\":")
                    .append(Arrays.toString(e.getValue()).replace(" ", "")).append(",\"data_offsets\":[")
                    .append(offset).append(',').append(offset + bytes).append("]}");
            offset += bytes;
        }
        header.append('}');
        byte[] h = header.toString().getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(8 + h.length + (int) offset).order(ByteOrder.LITTLE_ENDIAN);
        b.putLong(h.length).put(h);
        for (String key : shapes.keySet()) {
            for (float f : values.get(key)) {
                b.putFloat(f);
            }
        }
        try {
            return Files.write(file, b.array());
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Unit-variance NHWC feature maps of {@link #GRIDS}, as host arrays. */
    static float[][] randomFeatures(long seed, int batch) {
        Random r = new Random(seed);
        float[][] f = new float[GRIDS.length][];
        for (int l = 0; l < GRIDS.length; l++) {
            f[l] = new float[batch * GRIDS[l][0] * GRIDS[l][1] * CHANNELS];
            for (int i = 0; i < f[l].length; i++) {
                f[l][i] = (float) r.nextGaussian();
            }
        }
        return f;
    }

    static List<Tensor> upload(Scope scope, Device device, float[][] features, int batch) {
        List<Tensor> out = new ArrayList<>();
        for (int l = 0; l < features.length; l++) {
            out.add(Tensor.fromFloats(scope, device, features[l], batch, GRIDS[l][0], GRIDS[l][1], CHANNELS));
        }
        return out;
    }

    /** Per image {boxes, scores} as host arrays. */
    static List<float[][]> propose(Device device, StateDict weights, MaskRcnnConfig config, float[][] features,
            int[][] imageSizes) {
        List<float[][]> result = new ArrayList<>();
        try (Scope scope = Allocator.global().openScope("rpn-test");
             RegionProposalNetwork rpn = new RegionProposalNetwork(scope, device, weights, config)) {
            List<Tensor> feats = upload(scope, device, features, imageSizes.length);
            for (RegionProposalNetwork.Proposals p : rpn.forwardWithScores(scope, feats, PADDED_H, PADDED_W, imageSizes)) {
                assertEquals(p.boxes().shape(0), p.scores().shape(0));
                assertEquals(device, p.boxes().device());
                result.add(new float[][] {p.boxes().toFloatArray(), p.scores().toFloatArray()});
                p.close();
            }
            feats.forEach(Tensor::close);
        }
        return result;
    }

    // ---- comparison --------------------------------------------------------------------------------

    /** What {@link #assertSameProposals} found: proposals listed elsewhere, and matched by IoU. */
    record Summary(int proposals, int moved, int replaced, double maxBoxDiff) {
        @Override
        public String toString() {
            return proposals + " proposals, " + moved + " at another position within a near-tie, " + replaced
                    + " matched by IoU (NMS near-tie), largest coordinate difference " + maxBoxDiff;
        }
    }

    /**
     * Asserts that {@code got} (boxes and their scores, in our order) holds the proposals of
     * {@code expected} in the same order, each box within {@code boxTol} per coordinate, except:
     * <ul>
     * <li>near-ties may be listed in another order: where a box sits at position j here and k
     *     there, every score between positions j and k of {@code got} lies within {@code tieEps} of
     *     {@code got}'s score at j (the implementations differ by ulps, and among equal scores the
     *     order is the sort's: torch's CPU sort is not stable);</li>
     * <li>up to {@code maxReplaced} boxes without an equal box there may instead overlap a
     *     still unmatched expected box with IoU above {@code replaceIou} (two overlapping boxes
     *     whose scores are a near-tie: NMS keeps either), under the same position rule.</li>
     * </ul>
     */
    static Summary assertSameProposals(String what, float[] gotBoxes, float[] gotScores, float[] expectedBoxes,
            double boxTol, double tieEps, int maxReplaced, double replaceIou) {
        int n = gotBoxes.length / 4;
        assertEquals(expectedBoxes.length / 4, n, what + ": number of proposals");
        assertEquals(n, gotScores.length, what + ": one score per proposal");
        for (int j = 1; j < n; j++) {
            assertTrue(gotScores[j] <= gotScores[j - 1], what + ": scores not descending at " + j);
        }
        boolean[] used = new boolean[n];
        int[] matchOf = new int[n];
        int moved = 0;
        double maxBoxDiff = 0;
        List<Integer> unmatched = new ArrayList<>();
        for (int j = 0; j < n; j++) {
            int match = -1;
            double best = Double.MAX_VALUE;
            if (!used[j] && maxDiff(gotBoxes, j, expectedBoxes, j) <= boxTol) {
                match = j;
                best = maxDiff(gotBoxes, j, expectedBoxes, j);
            } else {
                for (int k = 0; k < n; k++) {
                    double d = used[k] ? Double.MAX_VALUE : maxDiff(gotBoxes, j, expectedBoxes, k);
                    if (d < best) {
                        best = d;
                        match = k;
                    }
                }
            }
            if (best > boxTol) {
                unmatched.add(j);
                continue;
            }
            used[match] = true;
            matchOf[j] = match;
            maxBoxDiff = Math.max(maxBoxDiff, best);
            if (match != j) {
                moved++;
                assertNearTie(what, gotBoxes, gotScores, j, match, tieEps, "expected at " + match);
            }
        }
        if (unmatched.size() > maxReplaced) {
            int j = unmatched.get(0);
            fail(what + ": " + unmatched.size() + " proposals are not among the expected ones (at most " + maxReplaced
                    + " NMS near-tie replacements allowed), the first: " + j + " " + box(gotBoxes, j) + " (score "
                    + gotScores[j] + "; expected at " + j + ": " + box(expectedBoxes, j) + ")");
        }
        for (int j : unmatched) {
            int match = -1;
            double bestIou = replaceIou;
            for (int k = 0; k < n; k++) {
                double iou = used[k] ? 0 : iou(gotBoxes, j, expectedBoxes, k);
                if (iou > bestIou) {
                    bestIou = iou;
                    match = k;
                }
            }
            if (match < 0) {
                fail(what + ": proposal " + j + " " + box(gotBoxes, j) + " (score " + gotScores[j]
                        + ") neither equals nor overlaps (IoU > " + replaceIou + ") an unmatched expected one");
            }
            used[match] = true;
            assertNearTie(what, gotBoxes, gotScores, j, match, tieEps, "replacing " + box(expectedBoxes, match)
                    + " (IoU " + bestIou + ") at " + match);
        }
        return new Summary(n, moved, unmatched.size(), maxBoxDiff);
    }

    private static void assertNearTie(String what, float[] boxes, float[] scores, int j, int k, double tieEps,
            String where) {
        for (int q = Math.min(j, k); q <= Math.max(j, k); q++) {
            if (Math.abs(scores[q] - scores[j]) > tieEps) {
                fail(what + ": proposal " + j + " " + box(boxes, j) + " (score " + scores[j] + ") is " + where
                        + ", but the score at " + q + " is " + scores[q] + ": not a near-tie");
            }
        }
    }

    private static double iou(float[] a, int i, float[] b, int j) {
        double ix = Math.min(a[4 * i + 2], b[4 * j + 2]) - Math.max(a[4 * i], b[4 * j]);
        double iy = Math.min(a[4 * i + 3], b[4 * j + 3]) - Math.max(a[4 * i + 1], b[4 * j + 1]);
        if (ix <= 0 || iy <= 0) {
            return 0;
        }
        double inter = ix * iy;
        double areaA = (a[4 * i + 2] - a[4 * i]) * (double) (a[4 * i + 3] - a[4 * i + 1]);
        double areaB = (b[4 * j + 2] - b[4 * j]) * (double) (b[4 * j + 3] - b[4 * j + 1]);
        return inter / (areaA + areaB - inter);
    }

    private static double maxDiff(float[] a, int i, float[] b, int j) {
        double d = 0;
        for (int q = 0; q < 4; q++) {
            d = Math.max(d, Math.abs(a[4 * i + q] - b[4 * j + q]));
        }
        return d;
    }

    private static String box(float[] b, int i) {
        return "(" + b[4 * i] + ", " + b[4 * i + 1] + ", " + b[4 * i + 2] + ", " + b[4 * i + 3] + ")";
    }

    // ---- tests -------------------------------------------------------------------------------------

    @Test
    void expectedShapesAreTorchvisionKeys() {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        RegionProposalNetwork.expectedShapes(MaskRcnnConfig.maskrcnnResnet50Fpn(), shapes);
        assertEquals(6, shapes.size());
        assertArrayEquals(new long[] {256, 256, 3, 3}, shapes.get("rpn.head.conv.0.0.weight"));
        assertArrayEquals(new long[] {256}, shapes.get("rpn.head.conv.0.0.bias"));
        assertArrayEquals(new long[] {3, 256, 1, 1}, shapes.get("rpn.head.cls_logits.weight"));
        assertArrayEquals(new long[] {3}, shapes.get("rpn.head.cls_logits.bias"));
        assertArrayEquals(new long[] {12, 256, 1, 1}, shapes.get("rpn.head.bbox_pred.weight"));
        assertArrayEquals(new long[] {12}, shapes.get("rpn.head.bbox_pred.bias"));
    }

    /** CUDA_EMULATED against the CPU, in one emulator schedule (the ops' own tests run them all). */
    @Test
    void emulatedCudaMatchesCpu() {
        CudaEmulator.Schedule schedule = CudaEmulator.TEST_SCHEDULES[2];
        long errorsBefore = Backends.useSchedule(schedule);
        MaskRcnnConfig config = tinyConfig();
        StateDict weights = randomWeights(dir, config, 7);
        float[][] features = randomFeatures(8, IMAGE_SIZES.length);
        List<float[][]> cpu = propose(Device.CPU, weights, config, features, IMAGE_SIZES);
        List<float[][]> emu = propose(Device.CUDA_EMULATED, weights, config, features, IMAGE_SIZES);
        for (int i = 0; i < IMAGE_SIZES.length; i++) {
            int n = cpu.get(i)[0].length / 4;
            assertTrue(n > 10 && n <= config.rpnPostNmsTopN(), "image " + i + ": " + n + " proposals");
            assertSameProposals("emulated " + schedule + " image " + i, emu.get(i)[0], emu.get(i)[1], cpu.get(i)[0],
                    1e-4, 1e-6, 0, config.rpnNmsThresh());
            assertArrayEquals(cpu.get(i)[1], emu.get(i)[1], 1e-6f, "scores of image " + i);
            assertInside(cpu.get(i)[0], IMAGE_SIZES[i]);
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    private static void assertInside(float[] boxes, int[] imageSize) {
        for (int j = 0; j < boxes.length / 4; j++) {
            float x1 = boxes[4 * j];
            float y1 = boxes[4 * j + 1];
            float x2 = boxes[4 * j + 2];
            float y2 = boxes[4 * j + 3];
            assertTrue(x1 >= 0 && y1 >= 0 && x2 <= imageSize[1] && y2 <= imageSize[0] && x2 - x1 >= 1e-3f
                    && y2 - y1 >= 1e-3f, "proposal " + j + " " + box(boxes, j) + " outside " + Arrays.toString(imageSize));
        }
    }

    /** The batch's images are independent: image 1 alone gives what it gave in the pair. */
    @Test
    void imagesOfABatchAreIndependent() {
        MaskRcnnConfig config = tinyConfig();
        StateDict weights = randomWeights(dir, config, 9);
        float[][] pair = randomFeatures(10, 2);
        float[][] second = new float[pair.length][];
        for (int l = 0; l < pair.length; l++) {
            int half = pair[l].length / 2;
            second[l] = Arrays.copyOfRange(pair[l], half, pair[l].length);
        }
        List<float[][]> both = propose(Device.CPU, weights, config, pair, IMAGE_SIZES);
        List<float[][]> alone = propose(Device.CPU, weights, config, second, new int[][] {IMAGE_SIZES[1]});
        assertArrayEquals(both.get(1)[0], alone.get(0)[0]);
        assertArrayEquals(both.get(1)[1], alone.get(0)[1]);
    }

    /** A score threshold no probability reaches leaves every image with an empty [0, 4] tensor. */
    @Test
    void nothingAboveTheScoreThresholdGivesEmptyProposals() {
        MaskRcnnConfig config = tinyConfig().toBuilder().rpnScoreThresh(1.5).build();
        StateDict weights = randomWeights(dir, config, 11);
        try (Scope scope = Allocator.global().openScope("rpn-test");
             RegionProposalNetwork rpn = new RegionProposalNetwork(scope, Device.CPU, weights, config)) {
            List<Tensor> feats = upload(scope, Device.CPU, randomFeatures(12, 2), 2);
            List<Tensor> out = rpn.forward(scope, feats, PADDED_H, PADDED_W, IMAGE_SIZES);
            assertEquals(2, out.size());
            for (Tensor t : out) {
                assertArrayEquals(new long[] {0, 4}, t.shape());
                t.close();
            }
            feats.forEach(Tensor::close);
        }
    }

    @Test
    void weightsOfTheWrongShapeAreRefusedByKey() {
        MaskRcnnConfig config = tinyConfig();
        StateDict weights = randomWeights(dir, config, 13);
        MaskRcnnConfig wider = config.toBuilder().fpnChannels(CHANNELS * 2).build();
        try (Scope scope = Allocator.global().openScope("rpn-test")) {
            CheckpointException e = assertThrows(CheckpointException.class,
                    () -> new RegionProposalNetwork(scope, Device.CPU, weights, wider));
            assertTrue(e.getMessage().contains("rpn.head.conv.0.0.weight"), e.getMessage());
        }
    }

    @Test
    void badInputsAreRefused() {
        MaskRcnnConfig config = tinyConfig();
        StateDict weights = randomWeights(dir, config, 14);
        try (Scope scope = Allocator.global().openScope("rpn-test")) {
            RegionProposalNetwork rpn = new RegionProposalNetwork(scope, Device.CPU, weights, config);
            List<Tensor> feats = upload(scope, Device.CPU, randomFeatures(15, 2), 2);
            long before = Allocator.global().bytesInUse();

            refused(() -> rpn.forward(scope, feats.subList(0, 4), PADDED_H, PADDED_W, IMAGE_SIZES), "4 feature maps");
            List<Tensor> six = new ArrayList<>(feats);
            six.add(feats.get(4));
            refused(() -> rpn.forward(scope, six, PADDED_H, PADDED_W, IMAGE_SIZES), "6 feature maps");

            List<Tensor> wrongChannels = new ArrayList<>(feats);
            wrongChannels.set(2, Tensor.allocate(scope, Device.CPU, dev.maskrcnn4j.tensor.DType.FLOAT32, 2, 4, 5, 16));
            refused(() -> rpn.forward(scope, wrongChannels, PADDED_H, PADDED_W, IMAGE_SIZES), "channels");
            wrongChannels.get(2).close();

            List<Tensor> wrongBatch = new ArrayList<>(feats);
            wrongBatch.set(3, Tensor.allocate(scope, Device.CPU, dev.maskrcnn4j.tensor.DType.FLOAT32, 1, 2, 3, CHANNELS));
            refused(() -> rpn.forward(scope, wrongBatch, PADDED_H, PADDED_W, IMAGE_SIZES), "batch");
            wrongBatch.get(3).close();

            List<Tensor> nchw = new ArrayList<>(feats);
            nchw.set(0, feats.get(0).reshape(2, CHANNELS, 16, 18));
            refused(() -> rpn.forward(scope, nchw, PADDED_H, PADDED_W, IMAGE_SIZES), "channels");

            refused(() -> rpn.forward(scope, feats, PADDED_H, PADDED_W, new int[][] {{64, 72}}), "image sizes");
            refused(() -> rpn.forward(scope, feats, PADDED_H, PADDED_W, new int[][] {{64, 72}, {64, 73}}), "image size");
            refused(() -> rpn.forward(scope, feats, PADDED_H, PADDED_W, new int[][] {{64, 72}, {0, 10}}), "image size");
            refused(() -> rpn.forward(scope, feats, PADDED_H, PADDED_W, new int[][] {{64, 72}, {64}}), "image size");
            refused(() -> rpn.forward(scope, feats, 8, PADDED_W, IMAGE_SIZES), "padded");
            refused(() -> rpn.forward(scope, feats, 0, PADDED_W, IMAGE_SIZES), "padded");
            refused(() -> rpn.forward(scope, feats, PADDED_H, PADDED_W, null), "null");
            List<Tensor> withNull = new ArrayList<>(feats);
            withNull.set(1, null);
            refused(() -> rpn.forward(scope, withNull, PADDED_H, PADDED_W, IMAGE_SIZES), "null");

            List<Tensor> emulated = upload(scope, Device.CUDA_EMULATED, randomFeatures(16, 2), 2);
            refused(() -> rpn.forward(scope, emulated, PADDED_H, PADDED_W, IMAGE_SIZES), "cuda-emulated");
            emulated.forEach(Tensor::close);
            assertEquals(before, Allocator.global().bytesInUse(), "a refused call leaves nothing allocated");

            rpn.close();
            refused(() -> rpn.forward(scope, feats, PADDED_H, PADDED_W, IMAGE_SIZES), "closed");
            feats.forEach(Tensor::close);
        }
    }

    private static void refused(org.junit.jupiter.api.function.Executable call, String mentioned) {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, call);
        assertTrue(e.getMessage().contains(mentioned), "message '" + e.getMessage() + "' should mention " + mentioned);
    }
}
