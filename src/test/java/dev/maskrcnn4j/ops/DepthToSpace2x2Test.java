package dev.maskrcnn4j.ops;

import static dev.maskrcnn4j.ops.SmallOpsTesting.assertAllInvalid;
import static dev.maskrcnn4j.ops.SmallOpsTesting.EPS32;
import static dev.maskrcnn4j.ops.SmallOpsTesting.assertSameFloats;
import static dev.maskrcnn4j.ops.SmallOpsTesting.onDevice;
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
import dev.maskrcnn4j.testing.Layouts;
import dev.maskrcnn4j.testing.NoLeaks;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The scatter alone is a permutation (plus torch.relu's select): bit for bit against torch. Composed
 * with the 1x1 {@link Conv2d} into {@link ConvTranspose2x2} it is checked against torch's
 * ConvTranspose2d with conv2d's tolerance: each output is a sum of K = cIn products plus the bias,
 * and two fp32 sums of the same terms in any order differ by at most K * 2^-23 * S,
 * S = sum |x * w| + |bias| (the recursive-summation bound, applied to both results).
 */
@ExtendWith(NoLeaks.class)
class DepthToSpace2x2Test {

    /** One transposed convolution: NHWC input, torch's IOHW weight, optional bias. */
    private record Problem(int n, int h, int w, int cIn, int cOut, float[] input, float[] weight, float[] bias,
                           boolean relu) {
        static Problem random(long seed, int n, int h, int w, int cIn, int cOut, boolean bias, boolean relu) {
            Random r = new Random(seed);
            return new Problem(n, h, w, cIn, cOut, uniform(r, n * h * w * cIn, -1f, 1f),
                    uniform(r, cIn * cOut * 4, -0.5f, 0.5f), bias ? uniform(r, cOut, -1f, 1f) : null, relu);
        }

        float[] run(Device device) {
            Scope s = Allocator.global().openScope("conv_transpose2x2-test");
            try (ConvTranspose2x2 layer = new ConvTranspose2x2(s, device, weight, cIn, cOut, bias, relu)) {
                Tensor in = Tensor.fromFloats(s, device, input, n, h, w, cIn);
                return layer.run(s, in).toFloatArray();
            } finally {
                s.release();
            }
        }

        /** S per NHWC output element: sum_ci |x * w| + |bias|. */
        double[] errorScale() {
            double[] scale = new double[n * 4 * h * w * cOut];
            for (int b = 0; b < n; b++) {
                for (int y = 0; y < 2 * h; y++) {
                    for (int x = 0; x < 2 * w; x++) {
                        for (int co = 0; co < cOut; co++) {
                            double acc = bias == null ? 0 : Math.abs(bias[co]);
                            int k = (y % 2) * 2 + x % 2;
                            for (int ci = 0; ci < cIn; ci++) {
                                acc += Math.abs((double) input[((b * h + y / 2) * w + x / 2) * cIn + ci]
                                        * weight[(ci * cOut + co) * 4 + k]);
                            }
                            scale[((b * 2 * h + y) * 2 * w + x) * cOut + co] = acc;
                        }
                    }
                }
            }
            return scale;
        }

        void assertClose(float[] expected, float[] actual, String what) {
            assertEquals(expected.length, actual.length, what + ": length");
            double[] scale = errorScale();
            for (int i = 0; i < expected.length; i++) {
                double tol = cIn * EPS32 * scale[i];
                if (!(Math.abs((double) expected[i] - actual[i]) <= tol)) {
                    throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]
                            + " (tolerance " + tol + ")");
                }
            }
        }
    }

    private static float[] scatter(Device device, float[] depthNhwc, long[] shape, boolean relu) {
        return onDevice(device, "depth_to_space-test", (s, t) -> DepthToSpace2x2.run(s, t[0], relu),
                new float[][] {depthNhwc}, new long[][] {shape});
    }

    // ---- (1) CPU against the torch goldens ------------------------------------------------------

    @Test
    void scatterMatchesTorchBitForBit() {
        Golden g = Golden.load("depth_to_space_2x2");
        assertTrue(g.cases().size() >= 5, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array depth = c.array("depth");
            int n = depth.dim(0), c4 = depth.dim(1), h = depth.dim(2), w = depth.dim(3);
            float[] expected = Layouts.nchwToNhwc(c.array("scattered").floats(), n, c4 / 4, 2 * h, 2 * w);
            float[] actual = scatter(Device.CPU, Layouts.nchwToNhwc(depth.floats(), n, c4, h, w),
                    new long[] {n, h, w, c4}, c.boolParam("relu"));
            assertSameFloats(expected, actual, "golden " + c.name());
        }
    }

    @Test
    void convTransposeMatchesTorch() {
        Golden g = Golden.load("depth_to_space_2x2");
        for (Golden.Case c : g.cases()) {
            Golden.Array x = c.array("input");
            Golden.Array wt = c.array("weight");
            int n = x.dim(0), cIn = x.dim(1), h = x.dim(2), w = x.dim(3), cOut = wt.dim(1);
            Problem p = new Problem(n, h, w, cIn, cOut, Layouts.nchwToNhwc(x.floats(), n, cIn, h, w), wt.floats(),
                    c.boolParam("has_bias") ? c.array("bias").floats() : null, c.boolParam("relu"));
            float[] expected = Layouts.nchwToNhwc(c.array("output").floats(), n, cOut, 2 * h, 2 * w);
            p.assertClose(expected, p.run(Device.CPU), "golden " + c.name());
        }
    }

    @Test
    void rearrangedWeightIsTheOneByOneConvolutionOfTheGolden() {
        // torch's own 1x1 conv with W' gives "depth"; our rearrangement must be that W'.
        Golden.Case c = Golden.load("depth_to_space_2x2").get("ragged_batch2_relu");
        float[] wt = c.array("weight").floats();
        int cIn = c.array("weight").dim(0), cOut = c.array("weight").dim(1);
        float[] w1 = ConvTranspose2x2.rearrangeWeight(wt, cIn, cOut);
        for (int ci = 0; ci < cIn; ci++) {
            for (int co = 0; co < cOut; co++) {
                for (int dy = 0; dy < 2; dy++) {
                    for (int dx = 0; dx < 2; dx++) {
                        assertEquals(wt[((ci * cOut + co) * 2 + dy) * 2 + dx], w1[((dy * 2 + dx) * cOut + co) * cIn + ci]);
                    }
                }
            }
        }
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule -------------------------------

    private static final long[][] SCATTER_SHAPES = {{2, 3, 5, 28}, {1, 4, 4, 32}, {1, 1, 1, 4}, {1, 3, 2, 12}};

    private static void compareWithCpu(Device device, long[][] shapes, Problem[] problems, Random r) {
        for (long[] shape : shapes) {
            float[] x = uniform(r, (int) (shape[0] * shape[1] * shape[2] * shape[3]), -1f, 1f);
            for (boolean relu : new boolean[] {false, true}) {
                assertSameFloats(scatter(Device.CPU, x, shape, relu), scatter(device, x, shape, relu),
                        device + " scatter relu " + relu);
            }
        }
        for (Problem p : problems) {
            p.assertClose(p.run(Device.CPU), p.run(device), device + " conv_transpose2x2");
        }
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        compareWithCpu(Device.CUDA_EMULATED, SCATTER_SHAPES, new Problem[] {
            Problem.random(1, 2, 3, 4, 7, 3, true, true), Problem.random(2, 1, 2, 2, 16, 8, false, false)}, new Random(13));
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    // ---- (3) real CUDA against the CPU ------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        compareWithCpu(Device.CUDA, new long[][] {SCATTER_SHAPES[0], {100, 14, 14, 364}}, new Problem[] {
            Problem.random(3, 2, 3, 4, 7, 3, true, true), Problem.random(4, 8, 14, 14, 256, 91, true, true)},
                new Random(14));
    }

    // ---- edge cases and bad arguments -------------------------------------------------------------

    @Test
    void emptyBatchGivesEmptyOutput() {
        Scope s = Allocator.global().openScope("depth_to_space-empty");
        try {
            Tensor in = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 14, 14, 12);
            assertArrayEquals(new long[] {0, 28, 28, 3}, DepthToSpace2x2.run(s, in, true).shape());
            try (ConvTranspose2x2 layer = new ConvTranspose2x2(s, Device.CPU, new float[5 * 3 * 4], 5, 3, null, true)) {
                assertArrayEquals(new long[] {0, 8, 6, 3},
                        layer.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 4, 3, 5)).shape());
            }
        } finally {
            s.release();
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("depth_to_space-bad");
        try {
            Tensor in = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 4, 8);
            in.zero();
            Tensor out = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 6, 8, 2);
            DepthToSpace2x2.run(in, out, true); // valid
            Tensor flat = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 200);
            ConvTranspose2x2 layer = new ConvTranspose2x2(s, Device.CPU, new float[8 * 2 * 4], 8, 2, new float[2], false);
            Executable[] bad = {
                () -> DepthToSpace2x2.run(s, null, false),
                () -> DepthToSpace2x2.run(in, null, false),
                () -> DepthToSpace2x2.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 4, 7), false), // not 4k
                () -> DepthToSpace2x2.run(s, Tensor.allocate(s, Device.CPU, DType.INT32, 1, 3, 4, 8), false),
                () -> DepthToSpace2x2.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 3, 4, 8), false),   // rank
                () -> DepthToSpace2x2.run(in, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 6, 8, 3), false),
                () -> DepthToSpace2x2.run(in, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 1, 6, 8, 2), false),
                () -> DepthToSpace2x2.run(flat.narrow(0, 0, 96).reshape(1, 3, 4, 8), flat.narrow(0, 90, 96).reshape(1, 6, 8, 2), false),
                () -> DepthToSpace2x2.run(s, in.narrow(2, 0, 2), false),                                         // strided
                () -> new ConvTranspose2x2(s, Device.CPU, new float[10], 8, 2, null, false),                    // weight size
                () -> new ConvTranspose2x2(s, Device.CPU, new float[64], 8, 2, new float[3], false),            // bias size
                () -> new ConvTranspose2x2(s, Device.CPU, new float[0], 0, 2, null, false),
                () -> new ConvTranspose2x2(s, Device.CPU, (float[]) null, 8, 2, null, false),
                () -> new ConvTranspose2x2(s, Device.CPU, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 8, 2, 3, 3), null, false),
                () -> layer.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 4, 5)),                  // channels
                () -> layer.run(s, null),
                () -> layer.run(in, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 4, 7), out),             // workspace
                () -> layer.run(in, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 4, 8), in),              // output shape
            };
            assertAllInvalid(bad);
            layer.close();
        } finally {
            s.release();
        }
    }
}
