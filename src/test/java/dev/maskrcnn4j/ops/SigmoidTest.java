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
class SigmoidTest {
    /**
     * Tolerance, relative. 1 / (1 + exp(-x)) in float32 with an exp of at most 2 ulp error (CUDA's
     * expf; libm and torch's Sleef are within 1 ulp) is within 2 ulp of exp (carried into y unchanged
     * in relative terms: |dy/y| = e/(1+e) |de/e|) plus two roundings, so within 3 * 2^-23 of exact;
     * two such results (torch's and ours, or two backends) differ by at most 6 * 2^-23.
     */
    private static final double REL_TOL = 6 * EPS32;
    /** Results below FLT_MIN are subnormal, without relative precision: absolute FLT_MIN there. */
    private static final double ABS_TOL = Float.MIN_NORMAL;

    /** mode 0: new output; 1: in place. */
    private static float[] run(Device device, float[] x, long[] shape, int mode) {
        return onDevice(device, "sigmoid-test", (s, t) -> {
            if (mode == 0) {
                return Sigmoid.run(s, t[0]);
            }
            Sigmoid.run(t[0], t[0]);
            return t[0];
        }, new float[][] {x}, new long[][] {shape});
    }

    @Test
    void cpuMatchesTorchGoldens() {
        Golden g = Golden.load("sigmoid");
        assertTrue(g.cases().size() >= 5, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array x = c.array("x");
            for (int mode = 0; mode < 2; mode++) {
                assertClose(c.array("output").floats(), run(Device.CPU, x.floats(), x.shape(), mode), REL_TOL, ABS_TOL,
                        "golden " + c.name() + " mode " + mode);
            }
        }
    }

    private static void compareWithCpu(Device device, int[] counts, Random r) {
        for (int n : counts) {
            float[] x = uniform(r, n, -20f, 20f);
            for (int mode = 0; mode < 2; mode++) {
                assertClose(run(Device.CPU, x, new long[] {n}, mode), run(device, x, new long[] {n}, mode), REL_TOL,
                        ABS_TOL, device + " count " + n + " mode " + mode);
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        compareWithCpu(Device.CUDA_EMULATED, new int[] {1, 7, 1001}, new Random(9));
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        compareWithCpu(Device.CUDA, new int[] {1, 7, 1001, 100 * 91 * 28 * 28}, new Random(10));
    }

    @Test
    void emptyTensorGivesEmptyOutput() {
        Scope s = Allocator.global().openScope("sigmoid-empty");
        try {
            assertArrayEquals(new long[] {0, 28},
                    Sigmoid.run(s, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 0, 28)).shape());
        } finally {
            s.release();
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("sigmoid-bad");
        try {
            Tensor x = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4, 6);
            x.zero();
            Tensor flat = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 25);
            Executable[] bad = {
                () -> Sigmoid.run(s, null),
                () -> Sigmoid.run(x, null),
                () -> Sigmoid.run(s, Tensor.allocate(s, Device.CPU, DType.INT32, 4, 6)),
                () -> Sigmoid.run(x, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 4)),
                () -> Sigmoid.run(x, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 4, 6)),
                () -> Sigmoid.run(s, x.narrow(1, 1, 3)),
                () -> Sigmoid.run(flat.narrow(0, 0, 24), flat.narrow(0, 1, 24)),
            };
            assertAllInvalid(bad);
        } finally {
            s.release();
        }
    }
}
