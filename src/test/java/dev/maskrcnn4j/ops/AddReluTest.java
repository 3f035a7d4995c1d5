package dev.maskrcnn4j.ops;

import static dev.maskrcnn4j.ops.SmallOpsTesting.assertAllInvalid;
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
import dev.maskrcnn4j.testing.NoLeaks;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** No tolerance: one correctly rounded float32 add and a select, exactly torch's, bit for bit. */
@ExtendWith(NoLeaks.class)
class AddReluTest {

    /** form 0: new output; 1: in place into a; 2: in place into b. */
    private static float[] run(Device device, float[] a, float[] b, long[] shape, boolean relu, int form) {
        return onDevice(device, "add_relu-test", (s, t) -> {
            switch (form) {
                case 0: return AddRelu.run(s, t[0], t[1], relu);
                case 1: AddRelu.run(t[0], t[1], t[0], relu); return t[0];
                default: AddRelu.run(t[0], t[1], t[1], relu); return t[1];
            }
        }, new float[][] {a, b}, new long[][] {shape, shape});
    }

    @Test
    void cpuMatchesTorchGoldens() {
        Golden g = Golden.load("add_relu");
        assertTrue(g.cases().size() >= 6, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array a = c.array("a");
            float[] expected = c.array("output").floats();
            for (int form = 0; form < 3; form++) {
                assertSameFloats(expected, run(Device.CPU, a.floats(), c.array("b").floats(), a.shape(),
                        c.boolParam("relu"), form), "golden " + c.name() + " form " + form);
            }
        }
    }

    private static void compareWithCpu(Device device, long[][] shapes, Random r) {
        for (long[] shape : shapes) {
            int count = 1;
            for (long d : shape) {
                count *= (int) d;
            }
            float[] a = uniform(r, count, -2f, 2f);
            float[] b = uniform(r, count, -2f, 2f);
            for (int form = 0; form < 3; form++) {
                for (boolean relu : new boolean[] {false, true}) {
                    assertSameFloats(run(Device.CPU, a, b, shape, relu, form), run(device, a, b, shape, relu, form),
                            device + " form " + form + " relu " + relu);
                }
            }
        }
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        compareWithCpu(Device.CUDA_EMULATED, new long[][] {{7, 13}, {1, 5, 3, 64}, {3}}, new Random(3));
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        compareWithCpu(Device.CUDA, new long[][] {{7, 13}, {1, 100, 152, 256}, {3}}, new Random(4));
    }

    @Test
    void emptyTensorsGiveEmptyOutput() {
        Scope s = Allocator.global().openScope("add_relu-empty");
        try {
            Tensor a = Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 0, 5);
            assertArrayEquals(new long[] {0, 5}, AddRelu.run(s, a, a, true).shape());
        } finally {
            s.release();
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("add_relu-bad");
        try {
            Tensor a = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4, 6);
            Tensor b = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4, 6);
            a.zero();
            b.zero();
            AddRelu.run(a, a, a, true); // a == b == out is allowed
            Tensor flat = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 25);
            Executable[] bad = {
                () -> AddRelu.run((Tensor) null, b, a, false),
                () -> AddRelu.run(a, null, a, false),
                () -> AddRelu.run(a, b, null, false),
                () -> AddRelu.run(s, a, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 4), false),     // shape
                () -> AddRelu.run(s, a, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4, 6, 1), false),  // rank
                () -> AddRelu.run(s, a, Tensor.allocate(s, Device.CPU, DType.INT32, 4, 6), false),       // dtype
                () -> AddRelu.run(s, a, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 4, 6), false), // device
                () -> AddRelu.run(a, b, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 4, 6), false),
                () -> AddRelu.run(s, a.narrow(1, 0, 3), b.narrow(1, 0, 3), false),                        // strided
                () -> AddRelu.run(flat.narrow(0, 0, 24).reshape(4, 6), b, flat.narrow(0, 1, 24).reshape(4, 6), true), // overlap
            };
            assertAllInvalid(bad);
        } finally {
            s.release();
        }
    }

    @Test
    void reluKeepsNegativeZeroAndNan() {
        float[] a = {-0f, Float.NaN, -1f, 2f, Float.POSITIVE_INFINITY};
        float[] b = {-0f, 1f, 0.5f, -3f, Float.NEGATIVE_INFINITY};
        float[] expected = {-0f, Float.NaN, 0f, 0f, Float.NaN};
        for (Device d : new Device[] {Device.CPU, Device.CUDA_EMULATED}) {
            assertSameFloats(expected, run(d, a, b, new long[] {5}, true, 0), d.toString());
        }
    }
}
