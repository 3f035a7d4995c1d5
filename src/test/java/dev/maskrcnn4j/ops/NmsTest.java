package dev.maskrcnn4j.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.emulation.CudaEmulator;
import dev.maskrcnn4j.emulation.CudaEmulator.Schedule;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import dev.maskrcnn4j.testing.Backends;
import dev.maskrcnn4j.testing.Golden;
import dev.maskrcnn4j.testing.NoLeaks;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(NoLeaks.class)
class NmsTest {
    /**
     * Soft-NMS score tolerance against the golden's numpy reference, per decay the selected box went
     * through: the linear method uses the very same float32 operations as the reference (bit-equal),
     * the Gaussian one differs only in exp (ours: a portable polynomial within 3 ulp; numpy's float32
     * exp within 1 ulp), so each decay may differ by up to 4 ulp of relative error plus the product's
     * rounding; a score selected after j decays is within (j + 1) * 5 * 2^-24 relative. Kept indices
     * must be identical (the golden script checks that no case sits on a near tie). Between our own
     * backends there is no tolerance at all: they run the same float32 functions (bit-equal).
     */
    private static final double SOFT_ULPS_PER_DECAY = 5.0;
    private static final double U = Math.ulp(1.0f) / 2;  // 2^-24

    // ---- (1) CPU against the torchvision goldens ------------------------------------------------

    @Test
    void cpuMatchesTorchvisionGoldens() {
        Golden g = Golden.load("nms");
        int checked = 0;
        for (Golden.Case c : g.cases()) {
            try (Scope s = Allocator.global().openScope("nms-golden-" + c.name())) {
                Tensor boxes = tensor(s, Device.CPU, c.array("boxes").floats(), c.array("boxes").shape());
                Tensor scores = tensor(s, Device.CPU, c.array("scores").floats(), c.array("scores").shape());
                String kind = c.param("kind");
                int maxKeep = c.intParam("max_keep");
                if (kind.equals("soft")) {
                    Nms.SoftMethod method = c.intParam("method") == 1 ? Nms.SoftMethod.LINEAR : Nms.SoftMethod.GAUSSIAN;
                    try (Nms.SoftResult r = Nms.softNms(s, boxes, scores, method, c.doubleParam("iou_threshold"),
                            c.floatParam("sigma"), c.floatParam("score_threshold"), maxKeep)) {
                        assertArrayEquals(c.array("keep").longs(), r.indices().toLongArray(), c.name() + ": kept indices");
                        assertSoftScores(c.array("kept_scores").floats(), r.scores().toFloatArray(),
                                method == Nms.SoftMethod.LINEAR ? 0.0 : SOFT_ULPS_PER_DECAY, c.name());
                    }
                    checked++;
                } else {
                    Tensor idxs = kind.equals("batched")
                            ? Tensor.fromLongs(s, Device.CPU, c.array("idxs").longs(), c.array("idxs").shape()) : null;
                    for (int k = 0; k < c.intParam("num_thresholds"); k++) {
                        double iou = c.doubleParam("iou_" + k);
                        try (Tensor keep = idxs == null ? Nms.nms(s, boxes, scores, iou, maxKeep)
                                : Nms.batchedNms(s, boxes, scores, idxs, iou, maxKeep)) {
                            assertArrayEquals(c.array("keep_" + k).longs(), keep.toLongArray(),
                                    c.name() + " at iou " + iou);
                        }
                        checked++;
                    }
                }
                s.release();
            }
        }
        assertTrue(checked >= 80, "golden comparisons: " + checked);
    }

    private static void assertSoftScores(float[] want, float[] got, double ulpsPerDecay, String name) {
        assertEquals(want.length, got.length, name + ": kept count");
        for (int j = 0; j < want.length; j++) {
            double tol = (j + 1) * ulpsPerDecay * U * Math.abs(want[j]);
            if (!(Math.abs((double) got[j] - want[j]) <= tol)) {
                fail(name + ": score " + j + " is " + got[j] + ", the reference " + want[j] + " (tolerance " + tol + ")");
            }
        }
    }

    private static Tensor tensor(Scope s, Device d, float[] data, long[] shape) {
        return Tensor.fromFloats(s, d, data, shape);
    }

    // ---- inputs for the backend comparisons --------------------------------------------------------

    /** One problem: boxes, scores, classes, and which op to run with which parameters. */
    private record Problem(String name, float[] boxes, float[] scores, long[] idxs, String op, double iou, int maxKeep,
            Nms.SoftMethod method, float sigma, float scoreThreshold) {
        int n() {
            return scores.length;
        }

        /** Kept indices, then (soft) the kept scores' raw bits, as longs. */
        long[] run(Device d) {
            try (Scope s = Allocator.global().openScope("nms-" + name + "-" + d)) {
                Tensor b = Tensor.fromFloats(s, d, boxes, n(), 4);
                Tensor sc = Tensor.fromFloats(s, d, scores, n());
                long[] out;
                switch (op) {
                    case "nms":
                        out = Nms.nms(s, b, sc, iou, maxKeep).toLongArray();
                        break;
                    case "batched":
                        out = Nms.batchedNms(s, b, sc, Tensor.fromLongs(s, d, idxs, n()), iou, maxKeep).toLongArray();
                        break;
                    default:
                        Nms.SoftResult r = Nms.softNms(s, b, sc, method, iou, sigma, scoreThreshold, maxKeep);
                        long[] k = r.indices().toLongArray();
                        float[] v = r.scores().toFloatArray();
                        out = new long[2 * k.length];
                        for (int i = 0; i < k.length; i++) {
                            out[i] = k[i];
                            out[k.length + i] = Float.floatToRawIntBits(v[i]);
                        }
                        break;
                }
                s.release();
                return out;
            }
        }
    }

    /** Clustered boxes in a 1216x800 image (jittered copies of log-uniform boxes), as the benchmark. */
    static float[] clusteredBoxes(Random r, int n, int perCluster, double jitter) {
        float[] b = new float[4 * n];
        float[] center = new float[4];
        for (int i = 0; i < n; i++) {
            if (i % perCluster == 0) {
                float w = (float) Math.exp(Math.log(16) + r.nextDouble() * (Math.log(600) - Math.log(16)));
                float h = (float) Math.exp(Math.log(16) + r.nextDouble() * (Math.log(600) - Math.log(16)));
                float x0 = r.nextFloat() * (1216 - w), y0 = r.nextFloat() * (800 - h);
                center = new float[] {x0, y0, x0 + w, y0 + h};
            }
            float w = center[2] - center[0], h = center[3] - center[1];
            float x1 = center[0] + (float) (jitter * w * r.nextGaussian());
            float y1 = center[1] + (float) (jitter * h * r.nextGaussian());
            float x2 = Math.max(center[2] + (float) (jitter * w * r.nextGaussian()), x1 + 1);
            float y2 = Math.max(center[3] + (float) (jitter * h * r.nextGaussian()), y1 + 1);
            b[4 * i] = x1;
            b[4 * i + 1] = y1;
            b[4 * i + 2] = x2;
            b[4 * i + 3] = y2;
        }
        return b;
    }

    private static float[] scores(Random r, int n, int levels) {
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            s[i] = levels > 0 ? r.nextInt(levels) / (float) levels : r.nextFloat();
        }
        return s;
    }

    private static long[] classes(Random r, int n, int k) {
        long[] c = new long[n];
        for (int i = 0; i < n; i++) {
            c[i] = r.nextInt(k);
        }
        return c;
    }

    /** Ragged sizes (not multiples of 64 or 1024), ties, both batched paths, both Soft-NMS decays. */
    private static List<Problem> problems() {
        Random r = new Random(7);
        List<Problem> p = new ArrayList<>();
        for (int n : new int[] {1, 67, 300}) {
            float[] b = clusteredBoxes(r, n, 8, 0.15);
            float[] s = scores(r, n, 0);
            for (double iou : new double[] {0.0, 0.5, 0.7, 1.0}) {
                p.add(new Problem("nms" + n, b, s, null, "nms", iou, 0, null, 0, 0));
            }
        }
        float[] b = clusteredBoxes(r, 1100, 10, 0.08);
        float[] tied = scores(r, 1100, 5);
        p.add(new Problem("nms-ties-1100", b, tied, null, "nms", 0.5, 0, null, 0, 0));
        p.add(new Problem("nms-top25", b, tied, null, "nms", 0.7, 25, null, 0, 0));
        p.add(new Problem("batched-trick-500", clusteredBoxes(r, 500, 8, 0.15), scores(r, 500, 0), classes(r, 500, 3),
                "batched", 0.5, 0, null, 0, 0));
        p.add(new Problem("batched-per-class-1100", b, tied, classes(r, 1100, 91), "batched", 0.7, 0, null, 0, 0));
        float[] sb = clusteredBoxes(r, 120, 6, 0.1);
        float[] ss = scores(r, 120, 0);
        p.add(new Problem("soft-linear", sb, ss, null, "soft", 0.3, 0, Nms.SoftMethod.LINEAR, 0.5f, 0.001f));
        p.add(new Problem("soft-gaussian", sb, ss, null, "soft", 0.3, 15, Nms.SoftMethod.GAUSSIAN, 0.5f, 0.01f));
        return p;
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule ----------------------------

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        for (Problem p : problems()) {
            assertArrayEquals(p.run(Device.CPU), p.run(Device.CUDA_EMULATED), p.name() + " at iou " + p.iou()
                    + " (" + schedule + ")");
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    // ---- (3) real CUDA against the CPU --------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        List<Problem> all = new ArrayList<>(problems());
        Random r = new Random(9);
        for (int n : new int[] {4000, 12000}) {
            all.add(new Problem("nms-" + n, clusteredBoxes(r, n, 8, 0.15), scores(r, n, 0), null, "nms", 0.7, 0, null, 0, 0));
        }
        for (Problem p : all) {
            assertArrayEquals(p.run(Device.CPU), p.run(Device.CUDA), p.name() + " at iou " + p.iou());
        }
    }

    // ---- (4) semantics and bad arguments -------------------------------------------------------

    @Test
    void thresholdIsComparedAsTorchvisionDoes() {
        // fl(3/10) = 0.300000012 > 0.3 (double): torchvision suppresses; a plain (float) 0.3 would not.
        assertEquals(Math.nextDown(0.3f), Nms.thresholdAsFloat(0.3));
        assertEquals(0.7f, Nms.thresholdAsFloat(0.7));   // (float) 0.7 is already below 0.7
        assertEquals(0.5f, Nms.thresholdAsFloat(0.5));   // exact
        try (Scope s = Allocator.global().openScope("nms-threshold")) {
            Tensor b = Tensor.fromFloats(s, Device.CPU, new float[] {10, 0, 20, 1, 10, 0, 13, 1}, 2, 4);
            Tensor sc = Tensor.fromFloats(s, Device.CPU, new float[] {0.9f, 0.8f}, 2);
            assertArrayEquals(new long[] {0}, Nms.nms(s, b, sc, 0.3, 0).toLongArray());
            assertArrayEquals(new long[] {0, 1}, Nms.nms(s, b, sc, 0.30000001192092896, 0).toLongArray());
            s.release();
        }
    }

    @Test
    void emptyInputGivesEmptyResults() {
        for (Device d : new Device[] {Device.CPU, Device.CUDA_EMULATED}) {
            try (Scope s = Allocator.global().openScope("nms-empty")) {
                Tensor b = Tensor.allocate(s, d, DType.FLOAT32, 0, 4);
                Tensor sc = Tensor.allocate(s, d, DType.FLOAT32, 0);
                Tensor idx = Tensor.allocate(s, d, DType.INT64, 0);
                assertEquals(0, Nms.nms(s, b, sc, 0.5, 0).numel());
                assertEquals(0, Nms.batchedNms(s, b, sc, idx, 0.5, 3).numel());
                Nms.SoftResult r = Nms.softNms(s, b, sc, Nms.SoftMethod.GAUSSIAN, 0.3, 0.5f, 0.001f, 0);
                assertEquals(0, r.indices().numel());
                assertEquals(0, r.scores().numel());
                s.release();
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("nms-bad");
        try {
            Tensor b = Tensor.fromFloats(s, Device.CPU, new float[] {0, 0, 10, 10, 1, 1, 9, 9, 5, 5, 6, 6}, 3, 4);
            Tensor sc = Tensor.fromFloats(s, Device.CPU, new float[] {0.5f, 0.9f, 0.1f}, 3);
            Tensor idx = Tensor.fromLongs(s, Device.CPU, new long[] {0, 1, 0}, 3);
            assertArrayEquals(new long[] {1, 2}, Nms.nms(s, b, sc, 0.5, 0).toLongArray()); // valid
            Executable[] bad = {
                () -> Nms.nms(null, b, sc, 0.5, 0),
                () -> Nms.nms(s, null, sc, 0.5, 0),
                () -> Nms.nms(s, b, null, 0.5, 0),
                () -> Nms.nms(s, b.reshape(12), sc, 0.5, 0),                                          // rank
                () -> Nms.nms(s, b.reshape(2, 6), sc, 0.5, 0),                                        // [N, 6]
                () -> Nms.nms(s, b, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4), 0.5, 0),       // N differs
                () -> Nms.nms(s, b, Tensor.allocate(s, Device.CPU, DType.INT32, 3), 0.5, 0),         // scores dtype
                () -> Nms.nms(s, Tensor.allocate(s, Device.CPU, DType.INT32, 3, 4), sc, 0.5, 0),     // boxes dtype
                () -> Nms.nms(s, b, Tensor.fromFloats(s, Device.CUDA_EMULATED, new float[3], 3), 0.5, 0), // device
                () -> Nms.nms(s, b, sc, -0.1, 0),                                                    // threshold
                () -> Nms.nms(s, b, sc, 1.5, 0),
                () -> Nms.nms(s, b, sc, Double.NaN, 0),
                () -> Nms.nms(s, b, sc, 0.5, -1),                                                    // cap
                () -> Nms.nms(s, b, Tensor.fromFloats(s, Device.CPU, new float[] {0, Float.NaN, 1}, 3), 0.5, 0),
                () -> Nms.nms(s, Tensor.fromFloats(s, Device.CPU, new float[] {0, 0, 1, Float.NaN, 0, 0, 1, 1, 0, 0, 1, 1},
                        3, 4), sc, 0.5, 0),                                                          // NaN box
                () -> Nms.nms(s, Tensor.fromFloats(s, Device.CPU, new float[] {0, 0, 1, 1, 0, 0, Float.POSITIVE_INFINITY, 1,
                        0, 0, 1, 1}, 3, 4), sc, 0.5, 0),                                             // infinite box
                () -> Nms.nms(s, Tensor.fromFloats(s, Device.CPU, new float[] {0, 0, 1, 1, 5, 0, 4, 1, 0, 0, 1, 1}, 3, 4),
                        sc, 0.5, 0),                                                                 // x2 < x1
                () -> Nms.batchedNms(s, b, sc, null, 0.5, 0),
                () -> Nms.batchedNms(s, b, sc, Tensor.fromInts(s, Device.CPU, new int[] {0, 1, 0}, 3), 0.5, 0), // dtype
                () -> Nms.batchedNms(s, b, sc, Tensor.fromLongs(s, Device.CPU, new long[] {0, 1}, 2), 0.5, 0),  // length
                () -> Nms.softNms(s, b, sc, null, 0.3, 0.5f, 0.001f, 0),
                () -> Nms.softNms(s, b, sc, Nms.SoftMethod.GAUSSIAN, 0.3, 0f, 0.001f, 0),           // sigma
                () -> Nms.softNms(s, b, sc, Nms.SoftMethod.GAUSSIAN, 0.3, Float.NaN, 0.001f, 0),
                () -> Nms.softNms(s, b, sc, Nms.SoftMethod.LINEAR, 0.3, 0.5f, Float.NaN, 0),        // score threshold
                () -> Nms.softNms(s, b, Tensor.fromFloats(s, Device.CPU, new float[] {0, Float.NEGATIVE_INFINITY, 1}, 3),
                        Nms.SoftMethod.LINEAR, 0.3, 0.5f, 0.001f, 0),                               // infinite score
                () -> Nms.workspaceBytes(Device.CPU, -1),
            };
            for (int i = 0; i < bad.length; i++) {
                assertThrows(InvalidArgumentException.class, bad[i], "bad call #" + i);
            }
            Tensor closed = Tensor.fromFloats(s, Device.CPU, new float[3], 3);
            closed.close();
            assertThrows(InvalidArgumentException.class, () -> Nms.nms(s, b, closed, 0.5, 0));
            // -inf scores are allowed in hard NMS (ranked last), as in torchvision.
            Tensor negInf = Tensor.fromFloats(s, Device.CPU, new float[] {Float.NEGATIVE_INFINITY, 0.5f, 0.1f}, 3);
            assertArrayEquals(new long[] {1, 2}, Nms.nms(s, b, negInf, 0.5, 0).toLongArray());
            assertArrayEquals(new long[] {1, 2}, Nms.batchedNms(s, b, sc, Tensor.fromLongs(s, Device.CPU,
                    new long[] {5, 5, 5}, 3), 0.5, 0).toLongArray());
        } finally {
            s.release();
        }
    }
}
