package dev.maskrcnn4j.ops;

import static dev.maskrcnn4j.ops.SmallOpsTesting.assertAllInvalid;
import static dev.maskrcnn4j.ops.SmallOpsTesting.assertSameFloats;
import static dev.maskrcnn4j.ops.SmallOpsTesting.onDevice;
import static dev.maskrcnn4j.ops.SmallOpsTesting.uniform;
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

/**
 * No tolerance: each output is one selected float or one correctly rounded float32 sum
 * {@code lateral + top}, exactly what torch computes, so every backend must match torch bit for bit.
 */
@ExtendWith(NoLeaks.class)
class UpsampleNearestAddTest {

    /** mode 0: lateral + up(top) into a new tensor; 1: plain upsample; 2: in place into lateral. */
    private static float[] run(Device device, float[] top, long[] topShape, float[] lateral, long[] outShape, int mode) {
        return onDevice(device, "upsample-test", (s, t) -> {
            switch (mode) {
                case 0: return UpsampleNearestAdd.run(s, t[0], t[1]);
                case 1: return UpsampleNearestAdd.upsample(s, t[0], (int) outShape[1], (int) outShape[2]);
                default: UpsampleNearestAdd.run(t[0], t[1], t[1]); return t[1];
            }
        }, new float[][] {top, lateral}, new long[][] {topShape, outShape});
    }

    // ---- (1) CPU against the torch goldens ------------------------------------------------------

    @Test
    void cpuMatchesTorchGoldens() {
        Golden g = Golden.load("upsample_nearest_add");
        assertTrue(g.cases().size() >= 10, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array top = c.array("top");
            Golden.Array y = c.array("output");
            int n = top.dim(0), ch = top.dim(1), ih = top.dim(2), iw = top.dim(3), oh = y.dim(2), ow = y.dim(3);
            long[] topShape = {n, ih, iw, ch};
            long[] outShape = {n, oh, ow, ch};
            float[] topNhwc = Layouts.nchwToNhwc(top.floats(), n, ch, ih, iw);
            float[] expected = Layouts.nchwToNhwc(y.floats(), n, ch, oh, ow);
            if (c.boolParam("has_lateral")) {
                float[] lat = Layouts.nchwToNhwc(c.array("lateral").floats(), n, ch, oh, ow);
                assertSameFloats(expected, run(Device.CPU, topNhwc, topShape, lat, outShape, 0), "golden " + c.name());
                assertSameFloats(expected, run(Device.CPU, topNhwc, topShape, lat, outShape, 2),
                        "golden in place " + c.name());
            } else {
                assertSameFloats(expected, run(Device.CPU, topNhwc, topShape, new float[(int) (n * oh * ow * ch)],
                        outShape, 1), "golden " + c.name());
            }
        }
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule -------------------------------

    private static final long[][][] SIZES = { // {top shape, output shape}
        {{2, 5, 7, 37}, {2, 10, 14, 37}},
        {{1, 13, 7, 64}, {1, 25, 13, 64}},
        {{1, 3, 4, 3}, {1, 9, 12, 3}},
        {{1, 9, 11, 16}, {1, 4, 5, 16}},
    };

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        compareWithCpu(Device.CUDA_EMULATED, SIZES, new Random(5));
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    private static void compareWithCpu(Device device, long[][][] sizes, Random r) {
        for (long[][] sz : sizes) {
            float[] top = uniform(r, (int) (sz[0][0] * sz[0][1] * sz[0][2] * sz[0][3]), -2f, 2f);
            float[] lat = uniform(r, (int) (sz[1][0] * sz[1][1] * sz[1][2] * sz[1][3]), -2f, 2f);
            for (int mode = 0; mode < 3; mode++) {
                assertSameFloats(run(Device.CPU, top, sz[0], lat, sz[1], mode), run(device, top, sz[0], lat, sz[1], mode),
                        device + " mode " + mode);
            }
        }
    }

    // ---- (3) real CUDA against the CPU ------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        compareWithCpu(Device.CUDA, new long[][][] {SIZES[0], SIZES[1], {{1, 50, 76, 256}, {1, 100, 152, 256}}},
                new Random(6));
    }

    // ---- edge cases and bad arguments -------------------------------------------------------------

    @Test
    void emptyBatchGivesEmptyOutput() {
        Scope s = Allocator.global().openScope("upsample-empty");
        try {
            Tensor top = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 3, 3, 4);
            Tensor lat = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 6, 6, 4);
            assertArrayEquals(new long[] {0, 6, 6, 4}, UpsampleNearestAdd.run(s, top, lat).shape());
            assertArrayEquals(new long[] {0, 5, 7, 4}, UpsampleNearestAdd.upsample(s, top, 5, 7).shape());
        } finally {
            s.release();
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("upsample-bad");
        try {
            Tensor top = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 4, 5);
            Tensor lat = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 6, 8, 5);
            top.zero();
            lat.zero();
            Tensor out = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 6, 8, 5);
            UpsampleNearestAdd.run(top, lat, out); // valid
            Tensor big = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 6, 8, 5);
            Executable[] bad = {
                () -> UpsampleNearestAdd.run((Tensor) null, lat, out),
                () -> UpsampleNearestAdd.run(top, lat, null),
                () -> UpsampleNearestAdd.run(s, top, null),
                () -> UpsampleNearestAdd.run(top, lat, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 6, 8, 4)), // channels
                () -> UpsampleNearestAdd.run(top, lat, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 6, 8, 5)), // batch
                () -> UpsampleNearestAdd.run(top, lat, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 6, 7, 5)), // lateral shape
                () -> UpsampleNearestAdd.run(top, Tensor.allocate(s, Device.CPU, DType.INT32, 1, 6, 8, 5), out),   // dtype
                () -> UpsampleNearestAdd.run(top, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 1, 6, 8, 5), out),
                () -> UpsampleNearestAdd.run(Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 1, 3, 4, 5), lat, out),
                () -> UpsampleNearestAdd.run(Tensor.allocate(s, Device.CPU, DType.FLOAT32, 3, 4, 5), lat, out),      // rank
                () -> UpsampleNearestAdd.run(top, lat.narrow(2, 0, 4), out.narrow(2, 0, 4)),                          // strided
                () -> UpsampleNearestAdd.run(big.narrow(1, 0, 3).narrow(2, 0, 4), lat, big),                          // overlaps top
                () -> UpsampleNearestAdd.upsample(s, top, 0, 5),
                () -> UpsampleNearestAdd.upsample(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 0, 4, 5), 5, 5),
            };
            UpsampleNearestAdd.run(top, lat, lat); // the very same tensor is the allowed in-place form
            assertAllInvalid(bad);
            Tensor flat = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 241);
            Tensor latPart = flat.narrow(0, 0, 240).reshape(1, 6, 8, 5);
            Tensor outShifted = flat.narrow(0, 1, 240).reshape(1, 6, 8, 5);
            assertThrows(InvalidArgumentException.class, () -> UpsampleNearestAdd.run(top, latPart, outShifted),
                    "output partly overlapping the lateral");
        } finally {
            s.release();
        }
    }
}
