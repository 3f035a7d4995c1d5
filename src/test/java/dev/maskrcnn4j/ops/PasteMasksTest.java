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
class PasteMasksTest {
    /**
     * Soft-mask tolerance against torchvision and between backends: none (bit-equal). The kernels
     * use torch's own operations (float32 box expansion, float64 source indices and float64 sums of
     * exact float32 products, float32 weights), so the CPU reproduces torch 1.13's CPU values exactly
     * (54 million resized pixels were compared while writing the math) and the GPU kernels run the
     * same functions, whose results FMA contraction cannot change.
     */
    private static final float SOFT_TOLERANCE = 0.0f;

    // ---- (1) CPU against the torchvision goldens ------------------------------------------------

    @Test
    void cpuMatchesTorchvisionGoldens() {
        Golden g = Golden.load("paste_masks");
        int checked = 0;
        for (Golden.Case c : g.cases()) {
            Problem p = Problem.of(c);
            float[] wantSoft = c.array("soft").floats();
            byte[] wantBinary = c.array("binary").bytes();
            for (int outputs = 1; outputs <= 3; outputs++) {
                Result r = p.run(Device.CPU, outputs);
                if ((outputs & 1) != 0) {
                    assertSoft(wantSoft, r.soft, c.name());
                }
                if ((outputs & 2) != 0) {
                    assertArrayEquals(wantBinary, r.binary, c.name() + ": binary masks");
                }
            }
            checked++;
        }
        assertTrue(checked >= 9, "golden cases: " + checked);
    }

    private static void assertSoft(float[] want, float[] got, String name) {
        assertEquals(want.length, got.length, name + ": soft size");
        for (int i = 0; i < want.length; i++) {
            if (!(Math.abs(got[i] - want[i]) <= SOFT_TOLERANCE) && Float.floatToIntBits(got[i]) != Float.floatToIntBits(want[i])) {
                fail(name + ": soft value " + i + " is " + got[i] + ", torchvision " + want[i]);
            }
        }
    }

    // ---- inputs for the backend comparisons ------------------------------------------------------

    /** Both outputs of one run; a missing output is null. */
    private record Result(float[] soft, byte[] binary) {
    }

    /** One call: masks [K, mh, mw], boxes [K, 4], image size, padding, threshold. */
    private record Problem(String name, float[] masks, int k, int maskH, int maskW, float[] boxes, int imgH, int imgW,
            int padding, float threshold) {
        static Problem of(Golden.Case c) {
            Golden.Array m = c.array("masks");
            return new Problem(c.name(), m.floats(), m.dim(0), m.dim(1), m.dim(2), c.array("boxes").floats(),
                    c.intParam("img_h"), c.intParam("img_w"), c.intParam("padding"), c.floatParam("threshold"));
        }

        /** outputs: 1 soft, 2 binary, 3 both. */
        Result run(Device d, int outputs) {
            try (Scope s = Allocator.global().openScope("paste-" + name + "-" + d)) {
                Tensor m = Tensor.fromFloats(s, d, masks, k, maskH, maskW);
                Tensor b = Tensor.fromFloats(s, d, boxes, k, 4);
                Tensor soft = (outputs & 1) != 0 ? Tensor.allocate(s, d, DType.FLOAT32, k, imgH, imgW) : null;
                Tensor bin = (outputs & 2) != 0 ? Tensor.allocate(s, d, DType.UINT8, k, imgH, imgW) : null;
                PasteMasks.paste(m, b, imgH, imgW, padding, threshold, soft, bin);
                Result r = new Result(soft == null ? null : soft.toFloatArray(), bin == null ? null : bin.toByteArray());
                s.release();
                return r;
            }
        }
    }

    /** The golden problems plus random ones with other thresholds, paddings and mask sizes. */
    private static List<Problem> problems() {
        List<Problem> p = new ArrayList<>();
        for (Golden.Case c : Golden.load("paste_masks").cases()) {
            p.add(Problem.of(c));
        }
        Random r = new Random(5);
        int[][] shapes = {{7, 28, 28, 45, 61, 1}, {3, 14, 14, 30, 17, 2}, {2, 9, 13, 19, 40, 0}};
        float[] thresholds = {0.3f, 0.0f, 0.8f};
        for (int i = 0; i < shapes.length; i++) {
            int[] sh = shapes[i];
            p.add(new Problem("random-" + i, randomMasks(r, sh[0] * sh[1] * sh[2]), sh[0], sh[1], sh[2],
                    randomBoxes(r, sh[0], sh[3], sh[4]), sh[3], sh[4], sh[5], thresholds[i]));
        }
        return p;
    }

    static float[] randomMasks(Random r, int n) {
        float[] m = new float[n];
        for (int i = 0; i < n; i++) {
            m[i] = r.nextInt(8) == 0 ? 0.5f : r.nextFloat();
        }
        return m;
    }

    /** Boxes of all sizes around and partly outside an imgH x imgW image. */
    static float[] randomBoxes(Random r, int k, int imgH, int imgW) {
        float[] b = new float[4 * k];
        for (int i = 0; i < k; i++) {
            float x0 = (r.nextFloat() * 1.3f - 0.2f) * imgW;
            float y0 = (r.nextFloat() * 1.3f - 0.2f) * imgH;
            b[4 * i] = x0;
            b[4 * i + 1] = y0;
            b[4 * i + 2] = x0 + r.nextFloat() * imgW;
            b[4 * i + 3] = y0 + r.nextFloat() * imgH;
        }
        return b;
    }

    private static void assertSameResults(Problem p, Device d, String what) {
        for (int outputs = 1; outputs <= 3; outputs++) {
            Result want = p.run(Device.CPU, outputs);
            Result got = p.run(d, outputs);
            if (want.soft != null) {
                assertSoft(want.soft, got.soft, p.name() + " " + what);
            }
            if (want.binary != null) {
                assertArrayEquals(want.binary, got.binary, p.name() + " " + what + ": binary");
            }
        }
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule ----------------------------

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        for (Problem p : problems()) {
            assertSameResults(p, Device.CUDA_EMULATED, "(" + schedule + ")");
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    // ---- (3) real CUDA against the CPU --------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        List<Problem> all = new ArrayList<>(problems());
        Random r = new Random(8);
        all.add(new Problem("benchmark-size", randomMasks(r, 100 * 28 * 28), 100, 28, 28, randomBoxes(r, 100, 800, 1216),
                800, 1216, 1, 0.5f));
        for (Problem p : all) {
            assertSameResults(p, Device.CUDA, "(cuda)");
        }
    }

    // ---- (4) semantics, empty inputs and bad arguments -----------------------------------------

    @Test
    void binaryIsSoftAboveThresholdAndZeroOutsideBoxes() {
        Random r = new Random(3);
        float[] masks = randomMasks(r, 4 * 28 * 28);
        float[] boxes = {2.5f, 3f, 20f, 18f, -10f, -10f, -2f, -2f, 30f, 5f, 70f, 24f, 10f, 10f, 10f, 10f};
        for (float t : new float[] {0f, 0.25f, 0.5f, 0.99f, 2f}) {
            Problem p = new Problem("threshold-" + t, masks, 4, 28, 28, boxes, 27, 41, 1, t);
            Result res = p.run(Device.CPU, 3);
            for (int i = 0; i < res.soft.length; i++) {
                assertEquals(res.soft[i] > t ? 1 : 0, res.binary[i], "pixel " + i + " at threshold " + t);
            }
        }
        // The box wholly outside (mask 1) pastes nothing; the zero-area box (mask 3) one pixel.
        Result res = new Problem("outside", masks, 4, 28, 28, boxes, 27, 41, 1, 0.5f).run(Device.CPU, 1);
        int plane = 27 * 41;
        int nonzero1 = 0;
        int nonzero3 = 0;
        for (int i = 0; i < plane; i++) {
            nonzero1 += res.soft[plane + i] != 0 ? 1 : 0;
            nonzero3 += res.soft[3 * plane + i] != 0 ? 1 : 0;
        }
        assertEquals(0, nonzero1, "box wholly outside the image");
        assertTrue(nonzero3 <= 1, "zero-area box pastes at most its one pixel");
    }

    @Test
    void pasteBinaryAllocatesTheBinaryMasks() {
        Random r = new Random(4);
        float[] masks = randomMasks(r, 3 * 28 * 28);
        float[] boxes = randomBoxes(r, 3, 33, 47);
        Result want = new Problem("conv", masks, 3, 28, 28, boxes, 33, 47, 1, 0.5f).run(Device.CPU, 2);
        try (Scope s = Allocator.global().openScope("paste-binary")) {
            Tensor out = PasteMasks.pasteBinary(s, Tensor.fromFloats(s, Device.CPU, masks, 3, 28, 28),
                    Tensor.fromFloats(s, Device.CPU, boxes, 3, 4), 33, 47, PasteMasks.DEFAULT_THRESHOLD);
            assertEquals(DType.UINT8, out.dtype());
            assertArrayEquals(new long[] {3, 33, 47}, out.shape());
            assertArrayEquals(want.binary, out.toByteArray());
            s.release();
        }
    }

    @Test
    void emptyInputsAreDefinedNoOps() {
        for (Device d : new Device[] {Device.CPU, Device.CUDA_EMULATED}) {
            try (Scope s = Allocator.global().openScope("paste-empty")) {
                Tensor m0 = Tensor.allocate(s, d, DType.FLOAT32, 0, 28, 28);
                Tensor b0 = Tensor.allocate(s, d, DType.FLOAT32, 0, 4);
                PasteMasks.paste(m0, b0, 20, 30, 0.5f, Tensor.allocate(s, d, DType.FLOAT32, 0, 20, 30),
                        Tensor.allocate(s, d, DType.UINT8, 0, 20, 30));
                assertEquals(0, PasteMasks.pasteBinary(s, m0, b0, 20, 30, 0.5f).numel());
                // An empty image: nothing to write, even for a NaN-free box outside it.
                Tensor m1 = Tensor.fromFloats(s, d, new float[28 * 28], 1, 28, 28);
                Tensor b1 = Tensor.fromFloats(s, d, new float[] {0, 0, 5, 5}, 1, 4);
                PasteMasks.paste(m1, b1, 0, 30, 0.5f, null, Tensor.allocate(s, d, DType.UINT8, 1, 0, 30));
                PasteMasks.paste(m1, b1, 20, 0, 0.5f, Tensor.allocate(s, d, DType.FLOAT32, 1, 20, 0), null);
                s.release();
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("paste-bad");
        try {
            Device c = Device.CPU;
            Tensor m = Tensor.fromFloats(s, c, new float[2 * 28 * 28], 2, 28, 28);
            Tensor b = Tensor.fromFloats(s, c, new float[] {1, 1, 9, 9, 2, 3, 7, 8}, 2, 4);
            Tensor soft = Tensor.allocate(s, c, DType.FLOAT32, 2, 10, 12);
            Tensor bin = Tensor.allocate(s, c, DType.UINT8, 2, 10, 12);
            PasteMasks.paste(m, b, 10, 12, 0.5f, soft, bin); // valid
            Executable[] bad = {
                () -> PasteMasks.paste(null, b, 10, 12, 0.5f, soft, bin),
                () -> PasteMasks.paste(m, null, 10, 12, 0.5f, soft, bin),
                () -> PasteMasks.paste(m, b, 10, 12, 0.5f, null, null),                          // no output
                () -> PasteMasks.paste(m.reshape(2, 784), b, 10, 12, 0.5f, soft, bin),            // masks rank
                () -> PasteMasks.paste(Tensor.allocate(s, c, DType.INT32, 2, 28, 28), b, 10, 12, 0.5f, soft, bin),
                () -> PasteMasks.paste(Tensor.allocate(s, c, DType.FLOAT32, 2, 0, 28), b, 10, 12, 0.5f, soft, bin),
                () -> PasteMasks.paste(m, b.reshape(8), 10, 12, 0.5f, soft, bin),                 // boxes rank
                () -> PasteMasks.paste(m, b.reshape(4, 2), 10, 12, 0.5f, soft, bin),              // boxes [K, 2]
                () -> PasteMasks.paste(m, Tensor.allocate(s, c, DType.FLOAT32, 3, 4), 10, 12, 0.5f, soft, bin), // K
                () -> PasteMasks.paste(m, Tensor.allocate(s, c, DType.INT64, 2, 4), 10, 12, 0.5f, soft, bin),
                () -> PasteMasks.paste(m, Tensor.fromFloats(s, Device.CUDA_EMULATED, new float[8], 2, 4), 10, 12, 0.5f,
                        soft, bin),                                                                // device
                () -> PasteMasks.paste(m, b, -10, 12, 0.5f, soft, bin),                           // image size
                () -> PasteMasks.paste(m, b, 10, -1, 0.5f, soft, bin),
                () -> PasteMasks.paste(m, b, 10, 12, -1, 0.5f, soft, bin),                        // padding
                () -> PasteMasks.paste(m, b, 10, 12, 40000, 0.5f, soft, bin),
                () -> PasteMasks.paste(m, b, 10, 12, Float.NaN, soft, bin),                       // threshold
                () -> PasteMasks.paste(m, b, 10, 12, -0.1f, soft, bin),
                () -> PasteMasks.paste(m, b, 10, 12, Float.POSITIVE_INFINITY, soft, bin),
                () -> PasteMasks.paste(m, b, 11, 12, 0.5f, soft, bin),                            // output shapes
                () -> PasteMasks.paste(m, b, 10, 12, 0.5f, soft.reshape(20, 12), bin),
                () -> PasteMasks.paste(m, b, 10, 12, 0.5f, soft, bin.reshape(2, 120)),
                () -> PasteMasks.paste(m, b, 10, 12, 0.5f, bin, null),                            // output dtypes
                () -> PasteMasks.paste(m, b, 10, 12, 0.5f, null, soft),
                () -> PasteMasks.paste(m, b, 10, 12, 0.5f, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 2, 10,
                        12), null),                                                                // output device
                () -> PasteMasks.paste(m, b, 10, 12, 0.5f, Tensor.allocate(s, c, DType.FLOAT32, 2, 10, 24).narrow(2, 0, 12),
                        null),                                                                     // not dense
                () -> PasteMasks.paste(m, Tensor.fromFloats(s, c, new float[] {1, Float.NaN, 9, 9, 2, 3, 7, 8}, 2, 4), 10,
                        12, 0.5f, soft, bin),                                                      // NaN box
                () -> PasteMasks.paste(m, Tensor.fromFloats(s, c, new float[] {1, 1, 9, 9, 2, 3, Float.NEGATIVE_INFINITY,
                        8}, 2, 4), 10, 12, 0.5f, soft, bin),                                       // infinite box
                () -> PasteMasks.paste(m, b, 14, 56, 0.5f, m.reshape(2, 14, 56), null),           // output is the input
                () -> PasteMasks.pasteBinary(null, m, b, 10, 12, 0.5f),
                () -> PasteMasks.pasteBinary(s, m, b, -1, 12, 0.5f),
            };
            for (int i = 0; i < bad.length; i++) {
                assertThrows(InvalidArgumentException.class, bad[i], "bad call #" + i);
            }
            Tensor closed = Tensor.allocate(s, c, DType.UINT8, 2, 10, 12);
            closed.close();
            assertThrows(InvalidArgumentException.class, () -> PasteMasks.paste(m, b, 10, 12, 0.5f, null, closed));
            // Inverted, huge and wholly outside boxes are valid (torchvision's rules, zero outside).
            Tensor odd = Tensor.fromFloats(s, c, new float[] {9, 9, 1, 1, -1e30f, -1e30f, 1e30f, 1e30f}, 2, 4);
            PasteMasks.paste(m, odd, 10, 12, 0.5f, soft, bin);
        } finally {
            s.release();
        }
    }
}
