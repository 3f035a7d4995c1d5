package dev.maskrcnn4j.ops;

import static dev.maskrcnn4j.ops.SmallOpsTesting.assertSameFloats;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

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
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Against torchvision: each coordinate within {@link #ULPS_VS_TORCH} ulps of the larger magnitude
 * of the box's two coordinates on that axis. Reason: torch's exp (Sleef, and glibc on the tail of a
 * vector loop) and ours (glibc's expf; CUDA's expf on a GPU) differ by up to 1 ulp (2 on a GPU);
 * that ulp of exp(dw) becomes up to ~1.5 ulp of pw = exp(dw) * w, half of it moves both corners
 * px -/+ pw/2, and the final subtraction may round the other way: 4 ulps of max(|x1|, |x2|) bound
 * it (pw <= |x1| + |x2|). The CPU and the emulated CUDA kernel agree bit for bit.
 */
@ExtendWith(NoLeaks.class)
class BoxDecodeTest {
    private static final int ULPS_VS_TORCH = 4;
    /** Real GPU: CUDA's expf is within 2 ulps, twice libm's error: twice the torch tolerance. */
    private static final int ULPS_GPU_VS_CPU = 8;

    private static float[] decode(Device device, float[] deltas, long[] deltasShape, float[] boxes,
            BoxDecode.Coder coder, boolean clip, int imageH, int imageW) {
        Scope s = Allocator.global().openScope("box_decode-test");
        try {
            long n = deltasShape[0];
            Tensor d = deltas.length == 0 ? Tensor.allocate(s, device, DType.FLOAT32, deltasShape)
                    : Tensor.fromFloats(s, device, deltas, deltasShape);
            Tensor b = boxes.length == 0 ? Tensor.allocate(s, device, DType.FLOAT32, n, 4)
                    : Tensor.fromFloats(s, device, boxes, n, 4);
            Tensor out = clip ? BoxDecode.decodeClipped(s, d, b, coder, imageH, imageW) : BoxDecode.decode(s, d, b, coder);
            return out.numel() == 0 ? new float[0] : out.toFloatArray();
        } finally {
            s.release();
        }
    }

    /** Every coordinate within {@code ulps} ulps of max(|c1|, |c2|) of its axis in the expected box; NaN where NaN. */
    static void assertBoxesClose(float[] expected, float[] actual, int ulps, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            float e = expected[i];
            float a = actual[i];
            if (Float.isNaN(e) || Float.isNaN(a)) {
                assertEquals(Float.isNaN(e), Float.isNaN(a), what + ": element " + i + " is " + a + ", expected " + e);
                continue;
            }
            int base = i - i % 4;
            float scale = Math.max(Math.abs(expected[base + i % 2]), Math.abs(expected[base + 2 + i % 2]));
            double tol = ulps * (double) Math.ulp(Float.isFinite(scale) ? scale : Float.MAX_VALUE);
            if (e != a && !(Math.abs((double) e - a) <= tol)) {
                throw new AssertionError(what + ": element " + i + " (box " + i / 4 + ") is " + a + ", expected " + e
                        + " (tolerance " + tol + ")");
            }
        }
    }

    private static BoxDecode.Coder coder(Golden.Case c) {
        return new BoxDecode.Coder(c.doubleParam("wx"), c.doubleParam("wy"), c.doubleParam("ww"), c.doubleParam("wh"),
                BoxDecode.DEFAULT_XFORM_CLIP);
    }

    // ---- (1) CPU against the torchvision goldens --------------------------------------------------

    @Test
    void cpuMatchesTorchvisionGoldens() {
        Golden g = Golden.load("box_decode");
        assertTrue(g.cases().size() >= 7, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array d = c.array("deltas");
            Golden.Array b = c.array("boxes");
            Golden.Array y = c.array("output");
            assertArrayEquals(y.shape(), BoxDecode.outputShape(d.shape(), b.shape()), c.name() + ": output shape");
            float[] actual = decode(Device.CPU, d.floats(), d.shape(), b.floats(), coder(c), c.boolParam("clip"),
                    c.intParam("image_h"), c.intParam("image_w"));
            assertBoxesClose(y.floats(), actual, ULPS_VS_TORCH, "golden " + c.name());
        }
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule -------------------------------

    private static float[] randomDeltas(Random r, int count) {
        float[] d = SmallOpsTesting.uniform(r, count, -3f, 3f);
        d[r.nextInt(count)] = Float.NaN;
        d[r.nextInt(count)] = Float.POSITIVE_INFINITY;
        d[r.nextInt(count)] = 40f;
        return d;
    }

    private static float[] randomBoxes(Random r, int n) {
        float[] b = new float[n * 4];
        for (int i = 0; i < n; i++) {
            float x = r.nextFloat() * 600 - 20;
            float y = r.nextFloat() * 400 - 20;
            b[i * 4] = x;
            b[i * 4 + 1] = y;
            b[i * 4 + 2] = x + r.nextFloat() * 200;
            b[i * 4 + 3] = y + r.nextFloat() * 200;
        }
        return b;
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        Random r = new Random(17);
        int[][] shapes = {{301, 1}, {7, 91}, {33, 5}};
        for (int[] nk : shapes) {
            int n = nk[0];
            int k = nk[1];
            float[] d = randomDeltas(r, n * k * 4);
            float[] b = randomBoxes(r, n);
            long[] ds = {n, k * 4L};
            BoxDecode.Coder coder = k == 1 ? BoxDecode.Coder.RPN : BoxDecode.Coder.BOX_HEAD;
            for (boolean clip : new boolean[] {false, true}) {
                assertSameFloats(decode(Device.CPU, d, ds, b, coder, clip, 333, 517),
                        decode(Device.CUDA_EMULATED, d, ds, b, coder, clip, 333, 517),
                        "emulated " + schedule + " n=" + n + " k=" + k + " clip=" + clip);
            }
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    // ---- (3) real CUDA against the CPU ------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        Random r = new Random(18);
        for (int[] nk : new int[][] {{4999, 1}, {1000, 91}}) {
            float[] d = randomDeltas(r, nk[0] * nk[1] * 4);
            float[] b = randomBoxes(r, nk[0]);
            long[] ds = {nk[0], nk[1] * 4L};
            assertBoxesClose(decode(Device.CPU, d, ds, b, BoxDecode.Coder.BOX_HEAD, true, 800, 1216),
                    decode(Device.CUDA, d, ds, b, BoxDecode.Coder.BOX_HEAD, true, 800, 1216), ULPS_GPU_VS_CPU, "cuda");
        }
    }

    // ---- edge cases and bad arguments -------------------------------------------------------------

    @Test
    void threeDimensionalDeltasAndEmptyInput() {
        Random r = new Random(19);
        float[] d = randomDeltas(r, 5 * 3 * 4);
        float[] b = randomBoxes(r, 5);
        for (Device dev : new Device[] {Device.CPU, Device.CUDA_EMULATED}) {
            assertSameFloats(decode(dev, d, new long[] {5, 12}, b, BoxDecode.Coder.BOX_HEAD, true, 50, 60),
                    decode(dev, d, new long[] {5, 3, 4}, b, BoxDecode.Coder.BOX_HEAD, true, 50, 60), "[N, K, 4] deltas");
            assertEquals(0, decode(dev, new float[0], new long[] {0, 4}, new float[0], BoxDecode.Coder.RPN, false, 0, 0).length);
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(InvalidArgumentException.class, () -> new BoxDecode.Coder(0, 1, 1, 1, 1));
        assertThrows(InvalidArgumentException.class, () -> new BoxDecode.Coder(1, -1, 1, 1, 1));
        assertThrows(InvalidArgumentException.class, () -> new BoxDecode.Coder(1, 1, Double.NaN, 1, 1));
        assertThrows(InvalidArgumentException.class, () -> new BoxDecode.Coder(1, 1, 1, 1e300, 1));
        assertThrows(InvalidArgumentException.class, () -> new BoxDecode.Coder(1, 1, 1, 1, Double.NaN));
        Scope s = Allocator.global().openScope("box_decode-bad");
        try {
            BoxDecode.Coder rpn = BoxDecode.Coder.RPN;
            Tensor d = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 8);
            Tensor b = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 4);
            d.zero();
            b.zero();
            Tensor out = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 2, 4);
            BoxDecode.run(d, b, rpn, true, 10, 10, out); // valid
            Executable[] bad = {
                () -> BoxDecode.decode(null, d, b, rpn),
                () -> BoxDecode.decode(s, null, b, rpn),
                () -> BoxDecode.decode(s, d, null, rpn),
                () -> BoxDecode.decode(s, d, b, null),
                () -> BoxDecode.decode(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 6), b, rpn),    // K*4
                () -> BoxDecode.decode(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 5, 8), b, rpn),    // N
                () -> BoxDecode.decode(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 2, 3), b, rpn), // [N,K,3]
                () -> BoxDecode.decode(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 0), b, rpn),    // K = 0
                () -> BoxDecode.decode(s, d, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 5), rpn),    // boxes
                () -> BoxDecode.decode(s, d, Tensor.allocate(s, Device.CPU, DType.INT32, 6, 4), rpn),      // dtype
                () -> BoxDecode.decode(s, d, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 6, 4), rpn),
                () -> BoxDecode.decodeClipped(s, d, b, rpn, -1, 5),
                () -> BoxDecode.run(d, b, rpn, false, 0, 0, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 1, 4)),
                () -> BoxDecode.run(d, b, rpn, false, 0, 0, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 6, 2, 4)),
                () -> BoxDecode.run(d, b, rpn, false, 0, 0, d.reshape(6, 2, 4)),                          // out = deltas
                () -> BoxDecode.decode(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 12).narrow(1, 0, 8), b, rpn),
            };
            for (int i = 0; i < bad.length; i++) {
                assertThrows(InvalidArgumentException.class, bad[i], "bad call #" + i);
            }
            Tensor closed = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 4);
            closed.close();
            assertThrows(InvalidArgumentException.class, () -> BoxDecode.decode(s, d, closed, rpn));
        } finally {
            s.release();
        }
    }
}
