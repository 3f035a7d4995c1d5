package dev.maskrcnn4j.ops;

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
import dev.maskrcnn4j.testing.Layouts;
import dev.maskrcnn4j.testing.NoLeaks;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(NoLeaks.class)
class Conv2dTest {
    /**
     * Tolerance. An fp32 sum of K products in any order is within K*u*S of the exact value, where
     * u = 2^-24 and S = sum|x_i*w_i| + |bias| + |residual| (the classical gamma_K bound of
     * recursive summation; FMA and blocked orders only tighten it). Two fp32 results (ours and
     * torch's, or two of our backends) each obey it, so they differ by at most 2*K*u*S = K*eps*S,
     * eps = 2^-23. A bound, not a statistical guess; a dropped or doubled product (about S/K) still
     * exceeds it for the small K of these cases.
     */
    private static final double EPS32 = Math.ulp(1.0f);
    /**
     * TF32 keeps 10 of fp32's 23 mantissa bits: rounding or truncating each operand is off by less
     * than 2^-10 relative, so each product by less than 2*2^-10 (+2^-20) of |x*w|, on top of the
     * fp32 accumulation bound.
     */
    private static final double TF32_PRODUCT_REL = 2 * 0x1p-10 + 1e-6;

    /** One problem: NHWC input, OIHW weight, optional bias/residual, with its error scale S per output. */
    private static final class Problem {
        final int n, h, w, cIn, cOut, kh, kw;
        final Conv2d.Spec spec;
        final float[] input, weight, bias, residual;
        final int oh, ow;
        final double[] scale;

        Problem(int n, int h, int w, int cIn, int cOut, int kh, int kw, Conv2d.Spec spec,
                float[] input, float[] weight, float[] bias, float[] residual) {
            this.n = n; this.h = h; this.w = w; this.cIn = cIn; this.cOut = cOut; this.kh = kh; this.kw = kw;
            this.spec = spec;
            this.input = input; this.weight = weight; this.bias = bias; this.residual = residual;
            this.oh = (int) Conv2d.outSize(h, kh, spec.strideH(), spec.padH(), spec.dilH());
            this.ow = (int) Conv2d.outSize(w, kw, spec.strideW(), spec.padW(), spec.dilW());
            this.scale = errorScale();
        }

        static Problem random(long seed, int n, int h, int w, int cIn, int cOut, int kh, int kw, Conv2d.Spec spec,
                              boolean withBias, boolean withResidual) {
            Random r = new Random(seed);
            float[] in = uniform(r, n * h * w * cIn, 1f);
            float[] wt = uniform(r, cOut * cIn * kh * kw, 0.5f);
            float[] b = withBias ? uniform(r, cOut, 1f) : null;
            int oh = (int) Conv2d.outSize(h, kh, spec.strideH(), spec.padH(), spec.dilH());
            int ow = (int) Conv2d.outSize(w, kw, spec.strideW(), spec.padW(), spec.dilW());
            float[] res = withResidual ? uniform(r, n * oh * ow * cOut, 1f) : null;
            return new Problem(n, h, w, cIn, cOut, kh, kw, spec, in, wt, b, res);
        }

        long k() {
            return (long) cIn * kh * kw;
        }

        long[] inputShape() {
            return new long[] {n, h, w, cIn};
        }

        long[] outputShape() {
            return new long[] {n, oh, ow, cOut};
        }

        private double[] errorScale() {
            double[] s = new double[n * oh * ow * cOut];
            for (int b = 0; b < n; b++) {
                for (int oy = 0; oy < oh; oy++) {
                    for (int ox = 0; ox < ow; ox++) {
                        for (int co = 0; co < cOut; co++) {
                            double acc = 0;
                            for (int ky = 0; ky < kh; ky++) {
                                int iy = oy * spec.strideH() - spec.padH() + ky * spec.dilH();
                                if (iy < 0 || iy >= h) {
                                    continue;
                                }
                                for (int kx = 0; kx < kw; kx++) {
                                    int ix = ox * spec.strideW() - spec.padW() + kx * spec.dilW();
                                    if (ix < 0 || ix >= w) {
                                        continue;
                                    }
                                    int ib = ((b * h + iy) * w + ix) * cIn;
                                    for (int ci = 0; ci < cIn; ci++) {
                                        acc += Math.abs((double) input[ib + ci] * weight[((co * cIn + ci) * kh + ky) * kw + kx]);
                                    }
                                }
                            }
                            int o = ((b * oh + oy) * ow + ox) * cOut + co;
                            if (bias != null) {
                                acc += Math.abs(bias[co]);
                            }
                            if (residual != null) {
                                acc += Math.abs(residual[o]);
                            }
                            s[o] = acc;
                        }
                    }
                }
            }
            return s;
        }

        float[] run(Device device) {
            return run(device, Conv2d.Precision.FP32);
        }

        /** Runs the problem on {@code device} through a Conv2d layer; returns the NHWC output. */
        float[] run(Device device, Conv2d.Precision precision) {
            Scope s = Allocator.global().openScope("conv2d-test");
            try (Conv2d conv = new Conv2d(s, device, weight, cOut, cIn, kh, kw, bias, spec)) {
                Tensor in = Tensor.fromFloats(s, device, input, inputShape());
                Tensor out = conv.allocateOutput(s, in);
                Tensor res = residual == null ? null : Tensor.fromFloats(s, device, residual, outputShape());
                conv.run(in, res, out, precision);
                return out.toFloatArray();
            } finally {
                s.release();
            }
        }

        void assertClose(float[] expected, float[] actual, String what) {
            assertClose(expected, actual, what, k() * EPS32);
        }

        void assertClose(float[] expected, float[] actual, String what, double tolPerScale) {
            assertEquals(expected.length, actual.length, what + ": length");
            for (int i = 0; i < expected.length; i++) {
                double tol = tolPerScale * scale[i];
                double d = Math.abs((double) expected[i] - actual[i]);
                if (!(d <= tol) && !(Float.isNaN(expected[i]) && Float.isNaN(actual[i]))) {
                    throw new AssertionError(what + ": element " + i + " expected " + expected[i] + " got "
                            + actual[i] + " (|diff| " + d + " > tolerance " + tol + ", K=" + k() + ")");
                }
            }
        }
    }

    private static float[] uniform(Random r, int count, float range) {
        float[] a = new float[count];
        for (int i = 0; i < count; i++) {
            a[i] = (r.nextFloat() * 2 - 1) * range;
        }
        return a;
    }

    /** Small ragged problems covering kernel 1/3/7, stride 1/2, padding 0/1/3, dilation 1/2. */
    private static Problem[] smallProblems() {
        return new Problem[] {
            Problem.random(1, 1, 17, 23, 5, 33, 1, 1, Conv2d.Spec.of(1, 0, 1, false), true, false),
            Problem.random(2, 2, 9, 11, 33, 17, 3, 3, Conv2d.Spec.of(1, 1, 1, true), true, true),
            Problem.random(3, 1, 13, 11, 16, 40, 3, 3, Conv2d.Spec.of(2, 1, 1, false), false, true),
            Problem.random(4, 1, 11, 13, 9, 35, 3, 3, Conv2d.Spec.of(1, 2, 2, true), true, false),
            Problem.random(5, 1, 19, 21, 3, 64, 7, 7, Conv2d.Spec.of(2, 3, 1, true), true, false),
            Problem.random(6, 2, 9, 10, 12, 20, 1, 1, Conv2d.Spec.of(2, 0, 1, true), false, true),
            Problem.random(7, 1, 12, 17, 11, 19, 5, 3, new Conv2d.Spec(2, 1, 2, 0, 1, 2, true), true, true),
        };
    }

    // ---- (1) CPU against the torchvision goldens ---------------------------------------------

    @Test
    void cpuMatchesTorchGoldens() {
        Golden g = Golden.load("conv2d");
        assertTrue(g.cases().size() >= 10, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array x = c.array("input");
            Golden.Array wt = c.array("weight");
            Golden.Array y = c.array("output");
            int n = x.dim(0), cIn = x.dim(1), h = x.dim(2), w = x.dim(3);
            int cOut = wt.dim(0), kh = wt.dim(2), kw = wt.dim(3);
            int oh = y.dim(2), ow = y.dim(3);
            Conv2d.Spec spec = new Conv2d.Spec(c.intParam("stride_h"), c.intParam("stride_w"), c.intParam("pad_h"),
                    c.intParam("pad_w"), c.intParam("dil_h"), c.intParam("dil_w"), c.boolParam("relu"));
            float[] bias = c.boolParam("has_bias") ? c.array("bias").floats() : null;
            float[] res = c.boolParam("has_residual")
                    ? Layouts.nchwToNhwc(c.array("residual").floats(), n, cOut, oh, ow) : null;
            Problem p = new Problem(n, h, w, cIn, cOut, kh, kw, spec, Layouts.nchwToNhwc(x.floats(), n, cIn, h, w),
                    wt.floats(), bias, res);
            assertEquals(oh, p.oh, c.name() + ": output height");
            assertEquals(ow, p.ow, c.name() + ": output width");
            float[] expected = Layouts.nchwToNhwc(y.floats(), n, cOut, oh, ow);
            p.assertClose(expected, p.run(Device.CPU), "golden " + c.name());
        }
    }

    @Test
    void tensorConstructorMatchesArrayConstructor() {
        Problem p = Problem.random(9, 1, 6, 7, 5, 6, 3, 3, Conv2d.Spec.of(1, 1, 1, false), true, false);
        Scope s = Allocator.global().openScope("conv2d-tensor-ctor");
        try {
            Tensor wt = Tensor.fromFloats(s, Device.CUDA_EMULATED, p.weight, p.cOut, p.cIn, p.kh, p.kw);
            Tensor b = Tensor.fromFloats(s, Device.CPU, p.bias, p.cOut);
            try (Conv2d conv = new Conv2d(s, Device.CPU, wt, b, p.spec)) {
                assertEquals(p.cOut, conv.outChannels());
                Tensor in = Tensor.fromFloats(s, Device.CPU, p.input, p.inputShape());
                Tensor out = conv.allocateOutput(s, in);
                conv.run(in, out);
                assertArrayEquals(p.run(Device.CPU), out.toFloatArray());
            }
        } finally {
            s.release();
        }
    }

    @Test
    void residualMayBeTheOutputItself() {
        Problem p = Problem.random(10, 1, 5, 9, 7, 13, 3, 3, Conv2d.Spec.of(1, 1, 1, true), true, true);
        float[] expected = p.run(Device.CPU);
        Scope s = Allocator.global().openScope("conv2d-inplace");
        try (Conv2d conv = new Conv2d(s, Device.CPU, p.weight, p.cOut, p.cIn, p.kh, p.kw, p.bias, p.spec)) {
            Tensor in = Tensor.fromFloats(s, Device.CPU, p.input, p.inputShape());
            Tensor acc = Tensor.fromFloats(s, Device.CPU, p.residual, p.outputShape());
            conv.run(in, acc, acc);
            assertArrayEquals(expected, acc.toFloatArray());
        } finally {
            s.release();
        }
    }

    @Test
    void emptyBatchIsANoOp() {
        Scope s = Allocator.global().openScope("conv2d-empty");
        try (Conv2d conv = new Conv2d(s, Device.CPU, new float[2 * 3 * 9], 2, 3, 3, 3, null, Conv2d.Spec.of(1, 1, 1, false))) {
            Tensor in = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 4, 5, 3);
            Tensor out = conv.allocateOutput(s, in);
            assertArrayEquals(new long[] {0, 4, 5, 2}, out.shape());
            conv.run(in, out);
        } finally {
            s.release();
        }
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule ----------------------------

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        for (Problem p : smallProblems()) {
            p.assertClose(p.run(Device.CPU), p.run(Device.CUDA_EMULATED), "emulated (" + schedule + ")");
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedTf32MatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        for (Problem p : smallProblems()) {
            p.assertClose(p.run(Device.CPU), p.run(Device.CUDA_EMULATED, Conv2d.Precision.TF32),
                    "emulated tf32 (" + schedule + ")", TF32_PRODUCT_REL + p.k() * EPS32);
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    @Test
    void tf32OnCpuComputesFp32() {
        Problem p = Problem.random(12, 1, 5, 6, 7, 9, 3, 3, Conv2d.Spec.of(1, 1, 1, false), true, false);
        assertArrayEquals(p.run(Device.CPU), p.run(Device.CPU, Conv2d.Precision.TF32));
    }

    // ---- (3) real CUDA against the CPU --------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        for (Problem p : smallProblems()) {
            p.assertClose(p.run(Device.CPU), p.run(Device.CUDA), "cuda");
        }
        Problem big = Problem.random(11, 1, 38, 50, 64, 96, 3, 3, Conv2d.Spec.of(1, 1, 1, true), true, true);
        big.assertClose(big.run(Device.CPU), big.run(Device.CUDA), "cuda 38x50x64->96");
        for (Problem p : new Problem[] {big, smallProblems()[1], smallProblems()[4]}) {
            p.assertClose(p.run(Device.CPU), p.run(Device.CUDA, Conv2d.Precision.TF32), "cuda tf32",
                    TF32_PRODUCT_REL + p.k() * EPS32);
        }
    }

    // ---- (4) bad arguments --------------------------------------------------------------------

    @Test
    void rejectsBadSpecs() {
        assertThrows(InvalidArgumentException.class, () -> Conv2d.Spec.of(0, 1, 1, false));
        assertThrows(InvalidArgumentException.class, () -> Conv2d.Spec.of(1, -1, 1, false));
        assertThrows(InvalidArgumentException.class, () -> Conv2d.Spec.of(1, 1, 0, false));
    }

    @Test
    void rejectsBadWeights() {
        Scope s = Allocator.global().openScope("conv2d-bad-weights");
        try {
            Conv2d.Spec spec = Conv2d.Spec.of(1, 1, 1, false);
            assertThrows(InvalidArgumentException.class,
                    () -> new Conv2d(s, Device.CPU, new float[10], 2, 3, 3, 3, null, spec));      // wrong length
            assertThrows(InvalidArgumentException.class,
                    () -> new Conv2d(s, Device.CPU, new float[0], 0, 3, 3, 3, null, spec));       // c_out 0
            assertThrows(InvalidArgumentException.class,
                    () -> new Conv2d(s, Device.CPU, new float[54], 2, 3, 3, 3, new float[3], spec)); // bias length
            assertThrows(InvalidArgumentException.class,
                    () -> new Conv2d(s, Device.CPU, (float[]) null, 2, 3, 3, 3, null, spec));
            assertThrows(InvalidArgumentException.class,
                    () -> new Conv2d(s, Device.CPU, new float[54], 2, 3, 3, 3, null, null));
            Tensor w3 = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 9);
            assertThrows(InvalidArgumentException.class, () -> new Conv2d(s, Device.CPU, w3, null, spec)); // rank 3
            Tensor wi = Tensor.allocate(s, Device.CPU, DType.INT32, 2, 3, 3, 3);
            assertThrows(InvalidArgumentException.class, () -> new Conv2d(s, Device.CPU, wi, null, spec)); // dtype
        } finally {
            s.release();
        }
    }

    @Test
    void rejectsBadTensors() {
        Scope s = Allocator.global().openScope("conv2d-bad-tensors");
        try (Conv2d conv = new Conv2d(s, Device.CPU, new float[4 * 3 * 9], 4, 3, 3, 3, new float[4],
                Conv2d.Spec.of(2, 1, 1, true))) {
            assertArrayEquals(new long[] {2, 3, 4, 4}, conv.outputShape(2, 5, 7, 3));
            Tensor in = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 5, 7, 3);
            in.zero();
            Tensor out = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 4, 4);
            conv.run(in, out); // valid
            Executable[] bad = {
                () -> conv.run(null, out),
                () -> conv.run(in, null),
                () -> conv.run(Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 5, 7, 4), out),      // channels
                () -> conv.run(Tensor.allocate(s, Device.CPU, DType.FLOAT32, 10, 7, 3), out),        // rank
                () -> conv.run(Tensor.allocate(s, Device.CPU, DType.INT32, 2, 5, 7, 3), out),        // dtype
                () -> conv.run(in, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 3, 4)),       // out shape
                () -> conv.run(in, Tensor.allocate(s, Device.CPU, DType.INT32, 2, 3, 4, 4)),         // out dtype
                () -> conv.run(in, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 2, 3, 4, 4)), // device
                () -> conv.run(in, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 4, 5), out),  // residual shape
                () -> conv.run(in.narrow(2, 0, 6), Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 3, 4)), // strided
                () -> conv.run(in, in.reshape(2 * 5 * 7 * 3).narrow(0, 0, 96).reshape(2, 3, 4, 4)),  // overlaps input
                () -> conv.outputShape(1, 0, 7, 3),                                                 // zero height
                () -> conv.outputShape(1, -1, 7, 3),                                                // negative
                () -> conv.outputShape(1, 5, 7),                                                    // rank
            };
            for (int i = 0; i < bad.length; i++) {
                assertThrows(InvalidArgumentException.class, bad[i], "bad call #" + i);
            }
            Conv2d big = new Conv2d(s, Device.CPU, new float[7 * 7], 1, 1, 7, 7, null, Conv2d.Spec.of(1, 0, 1, false));
            assertThrows(InvalidArgumentException.class, () -> big.outputShape(1, 5, 5, 1)); // 7x7 kernel on 5x5
            big.close();
            Tensor in1 = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 7, 7, 1);
            assertThrows(InvalidArgumentException.class, () -> big.run(in1, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 1, 1, 1))); // closed
        } finally {
            s.release();
        }
    }
}
