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
import dev.maskrcnn4j.ops.RoiAlign.Pyramid;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import dev.maskrcnn4j.testing.Backends;
import dev.maskrcnn4j.testing.Golden;
import dev.maskrcnn4j.testing.Layouts;
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
class RoiAlignTest {

    /**
     * Tolerance. An output is the mean of S samples, each a 4-tap weighted sum (weights in [0, 1],
     * summing to <= 1) of inputs bounded by M. In float32 the recursive sum of S terms is within
     * (S - 1) u S M of the exact sum, so the mean is within (S + 3) u M counting the tap sums,
     * u = 2^-24. Two implementations that add in different orders (FMA on AVX-512 and GPUs,
     * torchvision's plain mul + add) differ by at most twice that: (S + 3) 2^-23 M, S the case's
     * largest sampling grid (the golden's max_samples). Only the summation order differs: the
     * sample positions, edge rules and level choices are computed exactly as torchvision does.
     */
    static double tolerance(int maxSamples, double maxAbsInput) {
        return (maxSamples + 3) * (double) Math.ulp(1.0f) * maxAbsInput;
    }

    private static double maxAbs(float[]... arrays) {
        double m = 0;
        for (float[] a : arrays) {
            for (float v : a) {
                m = Math.max(m, Math.abs(v));
            }
        }
        return m;
    }

    private static void assertWithin(float[] expected, float[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double d = Math.abs((double) expected[i] - actual[i]);
            if (!(d <= tol)) {
                throw new AssertionError(what + ": element " + i + " is " + actual[i] + ", expected " + expected[i]
                        + " (|diff| " + d + " > tolerance " + tol + ")");
            }
        }
    }

    // ---- a golden case on a device --------------------------------------------------------

    /** Input of one golden case, converted to NHWC. */
    private static final class Inputs {
        final Golden.Case c;
        final List<float[]> maps = new ArrayList<>();   // NHWC
        final List<long[]> shapes = new ArrayList<>();  // [N, H, W, C]
        final float[] rois;
        final int k;
        final int ph;
        final int pw;
        final float[] expectedNhwc;

        Inputs(Golden.Case c) {
            this.c = c;
            boolean multi = c.param("kind").equals("multi");
            int levels = multi ? c.intParam("num_levels") : 1;
            for (int l = 0; l < levels; l++) {
                Golden.Array a = c.array(multi ? "level" + l : "input");
                int n = a.dim(0), ch = a.dim(1), h = a.dim(2), w = a.dim(3);
                maps.add(Layouts.nchwToNhwc(a.floats(), n, ch, h, w));
                shapes.add(new long[] {n, h, w, ch});
            }
            rois = c.array("rois").floats();
            k = c.array("rois").dim(0);
            ph = c.intParam("pooled_h");
            pw = c.intParam("pooled_w");
            Golden.Array out = c.array("output");
            expectedNhwc = Layouts.nchwToNhwc(out.floats(), out.dim(0), out.dim(1), out.dim(2), out.dim(3));
        }

        boolean multi() {
            return maps.size() > 1 || c.param("kind").equals("multi");
        }

        double tolerance() {
            return RoiAlignTest.tolerance(c.intParam("max_samples"), maxAbs(maps.toArray(new float[0][])));
        }

        /** Runs the op on {@code device}; misalign > 0 places the features at an odd float offset. */
        float[] run(Device device, int misalign) {
            Scope s = Allocator.global().openScope("roi_align-test");
            try {
                List<Tensor> levels = new ArrayList<>();
                for (int l = 0; l < maps.size(); l++) {
                    levels.add(onDevice(s, device, maps.get(l), shapes.get(l), misalign));
                }
                Tensor r = Tensor.fromFloats(s, device, rois, k, 5);
                Tensor out;
                if (multi()) {
                    out = RoiAlign.multiLevel(s, levels, r, ph, pw, c.intParam("sampling_ratio"),
                            c.intParam("image_h"), c.intParam("image_w"));
                } else {
                    out = RoiAlign.roiAlign(s, levels.get(0), r, ph, pw, c.doubleParam("spatial_scale"),
                            c.intParam("sampling_ratio"), c.boolParam("aligned"));
                }
                assertArrayEquals(new long[] {k, ph, pw, shapes.get(0)[3]}, out.shape(), c.name() + " output shape");
                return out.toFloatArray();
            } finally {
                s.release();
            }
        }
    }

    private static Tensor onDevice(Scope s, Device device, float[] data, long[] shape, int misalign) {
        if (misalign == 0) {
            return Tensor.fromFloats(s, device, data, shape);
        }
        Tensor backing = Tensor.allocate(s, device, DType.FLOAT32, data.length + misalign);
        Tensor view = Tensor.view(backing.buffer(), misalign, DType.FLOAT32, shape,
                new long[] {shape[1] * shape[2] * shape[3], shape[2] * shape[3], shape[3], 1});
        view.copyFrom(data);
        return view;
    }

    // ---- tests ------------------------------------------------------------------------------

    @Test
    void cpuMatchesTorchvisionGoldens() {
        Golden g = Golden.load("roi_align");
        assertTrue(g.cases().size() >= 40, "golden cases");
        for (Golden.Case c : g.cases()) {
            Inputs in = new Inputs(c);
            assertWithin(in.expectedNhwc, in.run(Device.CPU, 0), in.tolerance(), "golden " + c.name());
        }
    }

    /** The pyramid the op infers is torchvision's, including its quirk for small images. */
    @Test
    void inferredPyramidMatchesTorchvision() {
        Golden g = Golden.load("roi_align");
        int checked = 0;
        for (Golden.Case c : g.cases()) {
            if (!c.param("kind").equals("multi")) {
                continue;
            }
            Inputs in = new Inputs(c);
            Scope s = Allocator.global().openScope("roi_align-pyramid");
            try {
                List<Tensor> levels = new ArrayList<>();
                for (long[] shape : in.shapes) {
                    levels.add(Tensor.allocate(s, Device.CPU, DType.FLOAT32, shape));
                }
                Pyramid p = RoiAlign.Pyramid.infer(levels, c.intParam("image_h"), c.intParam("image_w"));
                for (int l = 0; l < levels.size(); l++) {
                    assertEquals(c.floatParam("scale" + l), p.scales()[l], c.name() + " scale " + l);
                }
                assertEquals(c.intParam("k_min"), p.kMin(), c.name() + " k_min");
                assertEquals(c.intParam("k_max"), p.kMax(), c.name() + " k_max");
                checked++;
            } finally {
                s.release();
            }
        }
        assertTrue(checked >= 5, "multi-level cases");
        // Mask R-CNN's own sizes: P2..P5 of 800x1216.
        Scope s = Allocator.global().openScope("roi_align-pyramid-800");
        try {
            List<Tensor> levels = new ArrayList<>();
            for (int k = 2; k <= 5; k++) {
                levels.add(Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 800 >> k, 1216 >> k, 1));
            }
            Pyramid p = RoiAlign.Pyramid.infer(levels, 800, 1216);
            assertArrayEquals(new float[] {0.25f, 0.125f, 0.0625f, 0.03125f}, p.scales());
            assertEquals(2, p.kMin());
            assertEquals(5, p.kMax());
        } finally {
            s.release();
        }
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        Golden g = Golden.load("roi_align");
        int i = 0;
        for (Golden.Case c : g.cases()) {
            Inputs in = new Inputs(c);
            float[] cpu = in.run(Device.CPU, 0);
            // Every third case with the features at an odd offset: the kernel's scalar path.
            int misalign = (i++ % 3 == 0) ? 1 : 0;
            assertWithin(cpu, in.run(Device.CUDA_EMULATED, misalign), in.tolerance(),
                    "emulated " + c.name() + " (" + schedule + ")");
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        Golden g = Golden.load("roi_align");
        for (Golden.Case c : g.cases()) {
            Inputs in = new Inputs(c);
            assertWithin(in.run(Device.CPU, 0), in.run(Device.CUDA, 0), in.tolerance(), "cuda " + c.name());
        }
        // Mask R-CNN's box head sizes: 1000 boxes over P2..P5 of 800x1216, 256 channels.
        Random r = new Random(7);
        long[][] shapes = {{1, 200, 304, 256}, {1, 100, 152, 256}, {1, 50, 76, 256}, {1, 25, 38, 256}};
        float[][] maps = new float[4][];
        for (int l = 0; l < 4; l++) {
            maps[l] = new float[(int) (shapes[l][1] * shapes[l][2] * 256)];
            for (int j = 0; j < maps[l].length; j++) {
                maps[l][j] = r.nextFloat();
            }
        }
        float[] rois = randomBoxes(r, 1000, 800, 1216);
        float[] cpu = runMulti(Device.CPU, maps, shapes, rois, 7);
        float[] gpu = runMulti(Device.CUDA, maps, shapes, rois, 7);
        assertWithin(cpu, gpu, tolerance(4, 1.0), "cuda 1000 boxes 7x7");
    }

    static float[] randomBoxes(Random r, int k, int imageH, int imageW) {
        float[] rois = new float[k * 5];
        for (int i = 0; i < k; i++) {
            double w = Math.exp(Math.log(16) + r.nextDouble() * Math.log(600.0 / 16));
            double h = Math.exp(Math.log(16) + r.nextDouble() * Math.log(600.0 / 16));
            double x0 = r.nextDouble() * (imageW - w), y0 = r.nextDouble() * (imageH - h);
            rois[i * 5 + 1] = (float) x0;
            rois[i * 5 + 2] = (float) y0;
            rois[i * 5 + 3] = (float) (x0 + w);
            rois[i * 5 + 4] = (float) (y0 + h);
        }
        return rois;
    }

    private static float[] runMulti(Device device, float[][] maps, long[][] shapes, float[] rois, int pooled) {
        Scope s = Allocator.global().openScope("roi_align-multi");
        try {
            List<Tensor> levels = new ArrayList<>();
            for (int l = 0; l < maps.length; l++) {
                levels.add(Tensor.fromFloats(s, device, maps[l], shapes[l]));
            }
            Tensor r = Tensor.fromFloats(s, device, rois, rois.length / 5, 5);
            return RoiAlign.multiLevel(s, levels, r, pooled, pooled, 2, 800, 1216).toFloatArray();
        } finally {
            s.release();
        }
    }

    @Test
    void emptyRoisGiveEmptyOutput() {
        for (Device d : new Device[] {Device.CPU, Device.CUDA_EMULATED}) {
            Scope s = Allocator.global().openScope("roi_align-empty");
            try {
                Tensor x = Tensor.allocate(s, d, DType.FLOAT32, 1, 5, 6, 3);
                x.zero();
                Tensor rois = Tensor.allocate(s, d, DType.FLOAT32, 0, 5);
                assertArrayEquals(new long[] {0, 7, 7, 3}, RoiAlign.roiAlign(s, x, rois, 7, 7, 0.25, 2, false).shape());
                Tensor y = Tensor.allocate(s, d, DType.FLOAT32, 1, 3, 3, 3);
                assertArrayEquals(new long[] {0, 14, 14, 3},
                        RoiAlign.multiLevel(s, List.of(x, y), rois, 14, 14, 2, 20, 24).shape());
            } finally {
                s.release();
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("roi_align-bad");
        try {
            Tensor x = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 6, 8, 4);
            x.zero();
            Tensor p3 = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 4, 4);
            p3.zero();
            Tensor rois = Tensor.fromFloats(s, Device.CPU, new float[] {1, 0, 0, 8, 8, 0, 2, 2, 5, 5}, 2, 5);
            Tensor out = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 3, 4);
            RoiAlign.roiAlign(x, rois, 3, 3, 1.0, 2, false, out); // the valid call
            RoiAlign.multiLevel(List.of(x, p3), RoiAlign.Pyramid.infer(List.of(x, p3), 24, 32), rois, 3, 3, 2, false, out);
            Tensor nanBox = Tensor.fromFloats(s, Device.CPU, new float[] {0, 0, Float.NaN, 2, 2}, 1, 5);
            Tensor infBox = Tensor.fromFloats(s, Device.CPU, new float[] {0, 0, 0, Float.POSITIVE_INFINITY, 2}, 1, 5);
            Tensor badBatch = Tensor.fromFloats(s, Device.CPU, new float[] {2, 0, 0, 2, 2}, 1, 5);
            Tensor negBatch = Tensor.fromFloats(s, Device.CPU, new float[] {-1, 0, 0, 2, 2}, 1, 5);
            Tensor fracBatch = Tensor.fromFloats(s, Device.CPU, new float[] {0.5f, 0, 0, 2, 2}, 1, 5);
            Tensor nanBatch = Tensor.fromFloats(s, Device.CPU, new float[] {Float.NaN, 0, 0, 2, 2}, 1, 5);
            Tensor rois4 = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 4);
            Tensor roisInt = Tensor.allocate(s, Device.CPU, DType.INT32, 2, 5);
            Tensor emuRois = Tensor.fromFloats(s, Device.CUDA_EMULATED, new float[] {0, 0, 0, 2, 2}, 1, 5);
            Tensor otherC = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 4, 5);
            Tensor otherN = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 4, 4);
            Tensor emuLevel = Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 2, 3, 4, 4);
            Tensor nchwLike = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 6, 8);
            Tensor one = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 3, 4);
            Pyramid two = new Pyramid(new float[] {0.25f, 0.125f}, 2, 3, 224, 4, 1e-6f);
            Executable[] bad = {
                () -> RoiAlign.roiAlign(s, null, rois, 3, 3, 1.0, 2, false),
                () -> RoiAlign.roiAlign(s, x, null, 3, 3, 1.0, 2, false),
                () -> RoiAlign.roiAlign(x, rois, 3, 3, 1.0, 2, false, null),
                () -> RoiAlign.roiAlign(s, x, rois4, 3, 3, 1.0, 2, false),              // rois not [K, 5]
                () -> RoiAlign.roiAlign(s, x, roisInt, 3, 3, 1.0, 2, false),            // rois dtype
                () -> RoiAlign.roiAlign(s, nchwLike, rois, 3, 3, 1.0, 2, false),        // input rank
                () -> RoiAlign.roiAlign(s, x, rois, 0, 3, 1.0, 2, false),               // pooled size
                () -> RoiAlign.roiAlign(s, x, rois, 3, -1, 1.0, 2, false),
                () -> RoiAlign.roiAlign(s, x, rois, 3, 3, Double.NaN, 2, false),        // scale
                () -> RoiAlign.roiAlign(s, x, rois, 3, 3, 1e300, 2, false),
                () -> RoiAlign.roiAlign(s, x, nanBox, 3, 3, 1.0, 2, false),             // coordinates
                () -> RoiAlign.roiAlign(s, x, infBox, 3, 3, 1.0, 2, false),
                () -> RoiAlign.roiAlign(s, x, badBatch, 3, 3, 1.0, 2, false),           // batch index
                () -> RoiAlign.roiAlign(s, x, negBatch, 3, 3, 1.0, 2, false),
                () -> RoiAlign.roiAlign(s, x, fracBatch, 3, 3, 1.0, 2, false),
                () -> RoiAlign.roiAlign(s, x, nanBatch, 3, 3, 1.0, 2, false),
                () -> RoiAlign.roiAlign(s, x, emuRois, 3, 3, 1.0, 2, false),            // devices differ
                () -> RoiAlign.roiAlign(x, rois, 3, 3, 1.0, 2, false,
                        Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 3, 5)),     // output shape
                () -> RoiAlign.roiAlign(x, rois, 3, 3, 1.0, 2, false,
                        Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 2, 3, 3, 4)), // output device
                () -> RoiAlign.roiAlign(x, rois, 3, 3, 1.0, 2, false,
                        Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3, 6, 4).narrow(2, 0, 3)), // strided
                () -> RoiAlign.roiAlign(x, rois, 1, 1, 1.0, 2, false, x.reshape(96, 1, 1, 4).narrow(0, 0, 2)), // aliases input
                () -> RoiAlign.roiAlign(s, x.narrow(2, 0, 4), rois, 3, 3, 1.0, 2, false), // strided input
                () -> RoiAlign.multiLevel(s, List.of(), rois, 3, 3, 2, 24, 32),           // no levels
                () -> RoiAlign.multiLevel(s, List.of(x, otherC), rois, 3, 3, 2, 24, 32),  // channels differ
                () -> RoiAlign.multiLevel(s, List.of(x, otherN), rois, 3, 3, 2, 24, 32),  // batch differs
                () -> RoiAlign.multiLevel(s, List.of(x, emuLevel), rois, 3, 3, 2, 24, 32), // devices differ
                () -> RoiAlign.multiLevel(s, List.of(x, p3), emuRois, 3, 3, 2, 24, 32),
                () -> RoiAlign.multiLevel(s, List.of(x, p3), badBatch, 3, 3, 2, 24, 32),
                () -> RoiAlign.multiLevel(s, List.of(x, p3), nanBox, 3, 3, 2, 24, 32),
                () -> RoiAlign.multiLevel(s, List.of(x, p3), rois, 3, 3, 2, 0, 32),     // image size
                () -> RoiAlign.multiLevel(s, List.of(x, x, x, x, x, x, x, x, x), rois, 3, 3, 2, 24, 32), // > 8 levels
                () -> RoiAlign.multiLevel(s, List.of(x), two, rois, 3, 3, 2, false),     // scales vs levels
                () -> RoiAlign.multiLevel(s, List.of(x, p3),
                        new Pyramid(new float[] {0.25f, 0.125f}, 2, 4, 224, 4, 1e-6f), rois, 3, 3, 2, false), // k range
                () -> RoiAlign.multiLevel(s, List.of(x, p3),
                        new Pyramid(new float[] {0.25f, 0.125f}, 3, 2, 224, 4, 1e-6f), rois, 3, 3, 2, false),
                () -> RoiAlign.multiLevel(s, List.of(x, p3),
                        new Pyramid(new float[] {0.25f, Float.NaN}, 2, 3, 224, 4, 1e-6f), rois, 3, 3, 2, false),
                () -> RoiAlign.multiLevel(s, List.of(x, p3),
                        new Pyramid(new float[] {0.25f, 0.125f}, 2, 3, 0, 4, 1e-6f), rois, 3, 3, 2, false),
                () -> RoiAlign.multiLevel(List.of(x, p3), two, rois, 3, 3, 2, false, one), // output shape
            };
            for (int i = 0; i < bad.length; i++) {
                assertThrows(InvalidArgumentException.class, bad[i], "bad call #" + i);
            }
        } finally {
            s.release();
        }
    }
}
