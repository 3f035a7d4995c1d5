package dev.maskrcnn4j.ops;

import static dev.maskrcnn4j.ops.SmallOpsTesting.assertAllInvalid;
import static dev.maskrcnn4j.ops.SmallOpsTesting.EPS32;
import static dev.maskrcnn4j.ops.SmallOpsTesting.uniform;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.Device;
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
 * Tolerance: each output is a float32 sum of K = in products plus the bias; two such sums of the
 * same terms in any order (torch's and conv2d's, or two backends') differ by at most
 * K * 2^-23 * S, S = sum |x * w| + |b| (the recursive-summation bound applied to both).
 */
@ExtendWith(NoLeaks.class)
class LinearTest {

    private record Problem(int rows, int in, int out, float[] x, float[] weight, float[] bias, boolean relu) {
        static Problem random(long seed, int rows, int in, int out, boolean bias, boolean relu) {
            Random r = new Random(seed);
            return new Problem(rows, in, out, uniform(r, rows * in, -1f, 1f), uniform(r, out * in, -0.5f, 0.5f),
                    bias ? uniform(r, out, -1f, 1f) : null, relu);
        }

        float[] run(Device device) {
            Scope s = Allocator.global().openScope("linear-test");
            try (Linear layer = new Linear(s, device, weight, out, in, bias, relu)) {
                return layer.run(s, Tensor.fromFloats(s, device, x, rows, in)).toFloatArray();
            } finally {
                s.release();
            }
        }

        void assertClose(float[] expected, float[] actual, String what) {
            assertEquals(expected.length, actual.length, what + ": length");
            for (int r = 0; r < rows; r++) {
                for (int o = 0; o < out; o++) {
                    double s = bias == null ? 0 : Math.abs(bias[o]);
                    for (int i = 0; i < in; i++) {
                        s += Math.abs((double) x[r * in + i] * weight[o * in + i]);
                    }
                    double tol = in * EPS32 * s;
                    int k = r * out + o;
                    if (!(Math.abs((double) expected[k] - actual[k]) <= tol)) {
                        throw new AssertionError(what + ": y[" + r + "][" + o + "] is " + actual[k] + ", expected "
                                + expected[k] + " (tolerance " + tol + ")");
                    }
                }
            }
        }
    }

    @Test
    void cpuMatchesTorchGoldens() {
        Golden g = Golden.load("linear");
        assertTrue(g.cases().size() >= 5, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array x = c.array("x");
            Golden.Array w = c.array("weight");
            float[] bias = c.boolParam("has_bias") ? c.array("bias").floats() : null;
            Problem p = new Problem(x.dim(0), x.dim(1), w.dim(0), x.floats(), w.floats(), bias, c.boolParam("relu"));
            p.assertClose(c.array("output").floats(), p.run(Device.CPU), "golden " + c.name());
        }
    }

    @Test
    void nhwcFlattenedInputWithReorderedWeightMatchesTorch() {
        Golden.Case c = Golden.load("linear").get("flattened_chw_5x3x4");
        String[] chw = c.param("chw").split(",");
        int ch = Integer.parseInt(chw[0]), h = Integer.parseInt(chw[1]), w = Integer.parseInt(chw[2]);
        Golden.Array x = c.array("x");
        int rows = x.dim(0), in = x.dim(1), out = c.array("weight").dim(0);
        float[] xChw = x.floats();
        float[] xHwc = new float[xChw.length];
        for (int r = 0; r < rows; r++) {
            for (int ci = 0; ci < ch; ci++) {
                for (int y = 0; y < h; y++) {
                    for (int xx = 0; xx < w; xx++) {
                        xHwc[r * in + (y * w + xx) * ch + ci] = xChw[r * in + (ci * h + y) * w + xx];
                    }
                }
            }
        }
        float[] wHwc = Linear.chwToHwcColumns(c.array("weight").floats(), out, ch, h, w);
        Problem p = new Problem(rows, in, out, xHwc, wHwc, c.array("bias").floats(), c.boolParam("relu"));
        p.assertClose(c.array("output").floats(), p.run(Device.CPU), "NHWC-flattened input");
    }

    private static Problem[] problems() {
        return new Problem[] {
            Problem.random(1, 1, 300, 17, true, true), Problem.random(2, 7, 33, 9, false, false),
            Problem.random(3, 3, 64, 91, true, false)};
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        for (Problem p : problems()) {
            p.assertClose(p.run(Device.CPU), p.run(Device.CUDA_EMULATED), "emulated " + schedule);
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        for (Problem p : problems()) {
            p.assertClose(p.run(Device.CPU), p.run(Device.CUDA), "cuda");
        }
        Problem fc6 = Problem.random(4, 100, 12544, 1024, true, true);
        fc6.assertClose(fc6.run(Device.CPU), fc6.run(Device.CUDA), "cuda fc6");
    }

    @Test
    void noRowsGiveEmptyOutput() {
        Scope s = Allocator.global().openScope("linear-empty");
        try (Linear layer = new Linear(s, Device.CPU, new float[6], 2, 3, null, false)) {
            assertArrayEquals(new long[] {0, 2}, layer.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 3)).shape());
        } finally {
            s.release();
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("linear-bad");
        try {
            Linear layer = new Linear(s, Device.CPU, new float[6], 2, 3, new float[2], true);
            Tensor x = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4, 3);
            x.zero();
            Executable[] bad = {
                () -> new Linear(s, Device.CPU, new float[5], 2, 3, null, false),              // weight size
                () -> new Linear(s, Device.CPU, new float[6], 2, 3, new float[3], false),      // bias size
                () -> new Linear(s, Device.CPU, new float[0], 0, 3, null, false),
                () -> new Linear(s, Device.CPU, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6), null, false), // rank
                () -> layer.run(s, null),
                () -> layer.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4, 4)),        // features
                () -> layer.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4, 3, 1)),     // rank
                () -> layer.run(s, Tensor.allocate(s, Device.CPU, DType.INT32, 4, 3)),          // dtype
                () -> layer.run(x, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4, 3)),        // y shape
                () -> layer.run(x, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 4, 2)), // device
                () -> layer.run(s, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 4, 3)),
                () -> Linear.chwToHwcColumns(new float[10], 2, 1, 2, 3),
            };
            assertAllInvalid(bad);
            layer.close();
        } finally {
            s.release();
        }
    }
}
