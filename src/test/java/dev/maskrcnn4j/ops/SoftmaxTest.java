package dev.maskrcnn4j.ops;

import static dev.maskrcnn4j.ops.SmallOpsTesting.assertAllInvalid;
import static dev.maskrcnn4j.ops.SmallOpsTesting.EPS32;
import static dev.maskrcnn4j.ops.SmallOpsTesting.assertClose;
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
import dev.maskrcnn4j.testing.NoLeaks;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

@ExtendWith(NoLeaks.class)
class SoftmaxTest {
    /**
     * Tolerance, relative, for rows of {@code cols} values. The row maximum and x - max are exact and
     * shared by every implementation; with an exp of at most k ulp error, y = e * (1 / sum) is within
     * (cols + 4k + 1) * 2^-24 of exact (exp error in e and in every summand, cols - 1 roundings of a
     * sum of positive terms in any order, then the reciprocal and the product). torch (Sleef, k = 1)
     * and ours (libm k = 1, CUDA k = 2) thus differ by at most (2 cols + 14) * 2^-24 = (cols + 7) * 2^-23.
     */
    private static double relTol(long cols) {
        return (cols + 7) * EPS32;
    }

    /** Results below FLT_MIN are subnormal, without relative precision: absolute FLT_MIN there. */
    private static final double ABS_TOL = Float.MIN_NORMAL;

    private static float[] run(Device device, float[] x, long[] shape, boolean inPlace) {
        return onDevice(device, "softmax-test", (s, t) -> {
            if (!inPlace) {
                return Softmax.run(s, t[0]);
            }
            Softmax.run(t[0], t[0]);
            return t[0];
        }, new float[][] {x}, new long[][] {shape});
    }

    @Test
    void cpuMatchesTorchGoldens() {
        Golden g = Golden.load("softmax");
        assertTrue(g.cases().size() >= 8, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array x = c.array("x");
            for (boolean inPlace : new boolean[] {false, true}) {
                assertClose(c.array("output").floats(), run(Device.CPU, x.floats(), x.shape(), inPlace),
                        relTol(x.dim(1)), ABS_TOL, "golden " + c.name() + (inPlace ? " in place" : ""));
            }
        }
    }

    private static void compareWithCpu(Device device, long[][] shapes, Random r) {
        for (long[] shape : shapes) {
            float[] x = uniform(r, (int) (shape[0] * shape[1] * (shape.length > 2 ? shape[2] : 1)), -10f, 10f);
            for (boolean inPlace : new boolean[] {false, true}) {
                assertClose(run(Device.CPU, x, shape, inPlace), run(device, x, shape, inPlace),
                        relTol(shape[shape.length - 1]), ABS_TOL, device + " " + shape.length + "-d" + (inPlace ? " in place" : ""));
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        compareWithCpu(Device.CUDA_EMULATED, new long[][] {{9, 91}, {5, 33}, {2, 3, 7}, {1, 300}}, new Random(11));
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        compareWithCpu(Device.CUDA, new long[][] {{9, 91}, {1000, 91}, {2, 3, 7}, {3, 5000}}, new Random(12));
    }

    @Test
    void emptyShapesGiveEmptyOutputs() {
        Scope s = Allocator.global().openScope("softmax-empty");
        try {
            assertArrayEquals(new long[] {0, 91}, Softmax.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 91)).shape());
            assertArrayEquals(new long[] {4, 0},
                    Softmax.run(s, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 4, 0)).shape());
        } finally {
            s.release();
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("softmax-bad");
        try {
            Tensor x = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4, 6);
            x.zero();
            Tensor flat = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 25);
            Executable[] bad = {
                () -> Softmax.run(s, null),
                () -> Softmax.run(x, null),
                () -> Softmax.run(s, Tensor.allocate(s, Device.CPU, DType.INT32, 4, 6)),
                () -> Softmax.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32)),                 // rank 0
                () -> Softmax.run(x, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 4)),
                () -> Softmax.run(x, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 4, 6)),
                () -> Softmax.run(s, x.narrow(1, 1, 3)),
                () -> Softmax.run(flat.narrow(0, 0, 24).reshape(4, 6), flat.narrow(0, 1, 24).reshape(4, 6)),
            };
            assertAllInvalid(bad);
        } finally {
            s.release();
        }
    }
}
