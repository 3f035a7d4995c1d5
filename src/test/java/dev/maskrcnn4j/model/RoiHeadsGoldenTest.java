package dev.maskrcnn4j.model;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.checkpoint.StateDict;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.Tensor;
import dev.maskrcnn4j.testing.Golden;
import dev.maskrcnn4j.testing.Layouts;
import dev.maskrcnn4j.testing.NoLeaks;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * RoiHeads on the CPU against torchvision's RoIHeads (tools/goldens/gen_roi_heads.py: a tiny
 * model with random weights; two images with the default thresholds, one image with a higher
 * threshold and a detection cap).
 *
 * <p>Tolerances, u = 2^-23 (float32's ulp at 1):
 * <ul>
 * <li>Box-head outputs: {@value #CHAIN_ULPS} u times the largest |value|. Each passes four float32
 *     sums (RoIAlign's 4 samples, fc6's 392 terms, fc7's and the predictor's 16) whose order
 *     differs from torch's (FMA, vector blocking); the typical rounding error of an n-term sum
 *     grows like sqrt(n) u (Higham and Mary's probabilistic bound, 3 sqrt(392) u ~ 60 u for fc6),
 *     relative to the magnitudes involved, which the outputs' largest |value| bounds here.</li>
 * <li>Scores: softmax moves by at most 2 max|d logit| (|dp_i| <= p_i (|dz_i| + sum_j p_j |dz_j|)),
 *     plus softmax's own (C + 7) u.</li>
 * <li>Boxes: decode gives dx * w / 10 and exp(dw / 5) * w / 2, so a regression error e moves a
 *     coordinate by at most (w / 10) (1 + exp(max dw / 5)) e, w the largest proposal side; plus 4
 *     ulps of the largest coordinate for decode's own float32 steps.</li>
 * <li>Masks on torchvision's boxes and labels: the six-layer chain's logits within
 *     {@value #CHAIN_ULPS} u of their largest |value| (recovered as logit(p) from the golden's
 *     probabilities), times the sigmoid's slope 1/4, plus 2 ulps of 1.</li>
 * <li>Masks end to end: our boxes differ from torchvision's (by the deviation just checked), which
 *     moves RoIAlign's samples; that effect is measured (the masks of torchvision's boxes moved,
 *     grown and shrunk by that deviation) and added to the previous tolerance.</li>
 * </ul>
 * Labels and the detections' order must be identical.
 */
@ExtendWith(NoLeaks.class)
class RoiHeadsGoldenTest {
    static final int CHAIN_ULPS = 64;
    static final double U = Math.ulp(1.0f);

    @TempDir
    Path dir;

    static Stream<Golden.Case> cases() {
        return Golden.load("roi_heads").cases().stream();
    }

    static MaskRcnnConfig config(Golden.Case c) {
        return MaskRcnnConfig.forArch("resnet50_fpn").toBuilder().fpnChannels(c.intParam("fpn_channels"))
                .representationSize(c.intParam("representation_size")).maskHeadChannels(c.intParam("mask_head_channels"))
                .boxScoreThresh(c.doubleParam("score_thresh")).boxNmsThresh(c.doubleParam("nms_thresh"))
                .boxDetectionsPerImg(c.intParam("detections_per_img")).build();
    }

    /** The case's weights, read by the keys {@link RoiHeads#expectedShapes} names (each must be in the golden). */
    static StateDict weights(Path dir, Golden.Case c) {
        Map<String, long[]> shapes = new LinkedHashMap<>();
        RoiHeads.expectedShapes(config(c), c.intParam("num_classes"), shapes);
        Map<String, TestWeights.Entry> tensors = new LinkedHashMap<>();
        for (Map.Entry<String, long[]> e : shapes.entrySet()) {
            Golden.Array a = c.array("w." + e.getKey());
            assertArrayEquals(a.shape(), e.getValue(), e.getKey());
            tensors.put(e.getKey(), new TestWeights.Entry(a.shape(), a.floats()));
        }
        return RoiTestWeights.write(dir, tensors);
    }

    /** A golden case's inputs on a device. */
    static final class Inputs {
        final List<Tensor> features = new ArrayList<>();
        final List<Tensor> proposals = new ArrayList<>();
        final int[][] sizes;
        final int images;

        Inputs(Scope scope, Device device, Golden.Case c) {
            images = c.intParam("images");
            for (int l = 0; l < 5; l++) {
                Golden.Array a = c.array("features_" + l);
                features.add(Tensor.fromFloats(scope, device, Layouts.nchwToNhwc(a.floats(), a.dim(0), a.dim(1), a.dim(2),
                        a.dim(3)), a.dim(0), a.dim(2), a.dim(3), a.dim(1)));
            }
            long[] s = c.array("image_sizes").longs();
            sizes = new int[images][];
            for (int i = 0; i < images; i++) {
                Golden.Array p = c.array("proposals_" + i);
                proposals.add(Tensor.fromFloats(scope, device, p.floats(), p.dim(0), 4));
                sizes[i] = new int[] {(int) s[2 * i], (int) s[2 * i + 1]};
            }
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void matchesTorchvision(Golden.Case c) {
        StateDict w = weights(dir, c);
        int numClasses = RoiHeads.numClasses(w);
        assertEquals(c.intParam("num_classes"), numClasses);
        Scope scope = Allocator.global().openScope("roi heads golden"); // released: holds inputs and results
        try (RoiHeads heads = new RoiHeads(scope, Device.CPU, w, config(c), numClasses)) {
            Inputs in = new Inputs(scope, Device.CPU, c);
            float[] logits = c.array("class_logits").floats();
            float[] regression = c.array("box_regression").floats();
            double tolLogits = CHAIN_ULPS * U * maxAbs(logits);
            double tolRegression = CHAIN_ULPS * U * maxAbs(regression);
            try (Scope out = scope.child("box branch");
                 BoxHead.Predictions p = heads.boxPredictions(out, in.features, in.proposals, in.sizes)) {
                assertWithin(logits, p.classLogits().toFloatArray(), tolLogits, c + " class_logits");
                assertWithin(regression, p.boxRegression().toFloatArray(), tolRegression, c + " box_regression");
            }
            double tolScores = 2 * tolLogits + (numClasses + 7) * U;
            double tolBoxes = boxTolerance(c, in, regression, tolRegression);
            List<Tensor> goldBoxes = new ArrayList<>();
            List<Tensor> goldLabels = new ArrayList<>();
            for (int i = 0; i < in.images; i++) {
                Golden.Array b = c.array("boxes_" + i);
                goldBoxes.add(Tensor.fromFloats(scope, Device.CPU, b.floats(), b.dim(0), 4));
                long[] labels = c.array("labels_" + i).longs();
                goldLabels.add(Tensor.fromLongs(scope, Device.CPU, labels, labels.length));
            }
            Scope out = scope.child("forward");
            List<Detections> detections = heads.forward(out, in.features, in.proposals, in.sizes);
            assertEquals(in.images, detections.size());
            double boxDeviation = 0;
            for (int i = 0; i < in.images; i++) {
                Detections d = detections.get(i);
                String what = c + " image " + i;
                assertArrayEquals(c.array("labels_" + i).longs(), d.labels().toLongArray(), what + " labels");
                assertWithin(c.array("scores_" + i).floats(), d.scores().toFloatArray(), tolScores, what + " scores");
                float[] boxes = d.boxes().toFloatArray();
                assertWithin(c.array("boxes_" + i).floats(), boxes, tolBoxes, what + " boxes");
                boxDeviation = Math.max(boxDeviation, maxDiff(c.array("boxes_" + i).floats(), boxes));
            }
            Scope masks = scope.child("mask branch");
            List<Tensor> ofGold = heads.maskProbabilities(masks, in.features, goldBoxes, goldLabels, in.sizes);
            double[] sensitivity = new double[in.images];
            for (double[] move : new double[][] {{1, 1}, {-1, -1}, {-1, 1}, {1, -1}}) { // translate, grow, shrink
                List<Tensor> moved = heads.maskProbabilities(masks, in.features,
                        shifted(masks, goldBoxes, move[0] * boxDeviation, move[1] * boxDeviation), goldLabels, in.sizes);
                for (int i = 0; i < in.images; i++) {
                    sensitivity[i] = Math.max(sensitivity[i], maxDiff(ofGold.get(i).toFloatArray(), moved.get(i).toFloatArray()));
                }
            }
            for (int i = 0; i < in.images; i++) {
                float[] gold = c.array("mask_probs_" + i).floats();
                double tol = 0.25 * CHAIN_ULPS * U * maxLogit(gold) + 2 * U;
                float[] ours = ofGold.get(i).toFloatArray();
                assertWithin(gold, ours, tol, c + " image " + i + " masks of torchvision's boxes");
                assertWithin(gold, detections.get(i).masks().toFloatArray(), tol + sensitivity[i], c + " image " + i + " masks");
            }
        } finally {
            scope.release();
        }
    }

    /** See the class comment: (w / 10) (1 + exp(max dw / 5)) e + 4 ulps of the largest coordinate. */
    private static double boxTolerance(Golden.Case c, Inputs in, float[] regression, double tolRegression) {
        double side = 0;
        for (int i = 0; i < in.images; i++) {
            float[] p = c.array("proposals_" + i).floats();
            for (int j = 0; j < p.length; j += 4) {
                side = Math.max(side, Math.max(p[j + 2] - p[j], p[j + 3] - p[j + 1]));
            }
        }
        double maxDw = 0;
        for (int j = 2; j < regression.length; j += 4) {
            maxDw = Math.max(maxDw, Math.max(regression[j], regression[j + 1]));
        }
        double dwhClip = Math.log(1000.0 / 16);
        double growth = Math.exp(Math.min(maxDw / 5, dwhClip));
        double largest = 0;
        for (int[] s : in.sizes) {
            largest = Math.max(largest, Math.max(s[0], s[1]));
        }
        return side / 10 * (1 + growth) * tolRegression + 4 * Math.ulp((float) largest);
    }

    /** The boxes with {@code low} added to x1, y1 and {@code high} to x2, y2. */
    private static List<Tensor> shifted(Scope scope, List<Tensor> boxes, double low, double high) {
        List<Tensor> out = new ArrayList<>();
        for (Tensor b : boxes) {
            float[] v = b.toFloatArray();
            for (int j = 0; j < v.length; j++) {
                v[j] += (float) (j % 4 < 2 ? low : high);
            }
            out.add(Tensor.fromFloats(scope, Device.CPU, v, b.shape()));
        }
        return out;
    }

    /** Largest |logit(p)| of the probabilities. */
    static double maxLogit(float[] probabilities) {
        double m = 0;
        for (float p : probabilities) {
            m = Math.max(m, Math.abs(Math.log(p / (1.0 - p))));
        }
        return m;
    }

    static double maxAbs(float[] a) {
        double m = 0;
        for (float v : a) {
            m = Math.max(m, Math.abs(v));
        }
        return m;
    }

    static double maxDiff(float[] a, float[] b) {
        assertEquals(a.length, b.length);
        double m = 0;
        for (int i = 0; i < a.length; i++) {
            m = Math.max(m, Math.abs((double) a[i] - b[i]));
        }
        return m;
    }

    static void assertWithin(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= tol)) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]
                        + " (|diff| " + d + " > tolerance " + tol + ")");
            }
        }
    }
}

