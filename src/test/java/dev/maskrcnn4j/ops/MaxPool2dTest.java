package dev.maskrcnn4j.ops;

import static dev.maskrcnn4j.ops.SmallOpsTesting.assertAllInvalid;
import static dev.maskrcnn4j.ops.SmallOpsTesting.assertSameFloats;
import static dev.maskrcnn4j.ops.SmallOpsTesting.onDevice;
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
 * Max pooling only selects input values, so there is no tolerance: every backend must return
 * torch's float bit for bit (NaN wherever torch has NaN, and the same sign of zero).
 */
@ExtendWith(NoLeaks.class)
class MaxPool2dTest {

    private static float[] pool(Device device, float[] nhwc, long[] shape, MaxPool2d.Spec spec) {
        return onDevice(device, "max_pool2d-test", (s, in) -> MaxPool2d.run(s, in[0], spec),
                new float[][] {nhwc}, new long[][] {shape});
    }

    // ---- (1) CPU against the torch goldens ------------------------------------------------------

    @Test
    void cpuMatchesTorchGoldens() {
        Golden g = Golden.load("max_pool2d");
        assertTrue(g.cases().size() >= 10, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array x = c.array("input");
            Golden.Array y = c.array("output");
            int n = x.dim(0), ch = x.dim(1), h = x.dim(2), w = x.dim(3);
            MaxPool2d.Spec spec = new MaxPool2d.Spec(c.intParam("kernel_h"), c.intParam("kernel_w"),
                    c.intParam("stride_h"), c.intParam("stride_w"), c.intParam("pad_h"), c.intParam("pad_w"));
            long[] outShape = MaxPool2d.outputShape(new long[] {n, h, w, ch}, spec);
            assertArrayEquals(new long[] {y.dim(0), y.dim(2), y.dim(3), y.dim(1)}, outShape, c.name() + ": output shape");
            float[] expected = Layouts.nchwToNhwc(y.floats(), n, ch, y.dim(2), y.dim(3));
            float[] actual = pool(Device.CPU, Layouts.nchwToNhwc(x.floats(), n, ch, h, w), new long[] {n, h, w, ch}, spec);
            assertSameFloats(expected, actual, "golden " + c.name());
        }
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule -------------------------------

    private static final long[][] SHAPES = {{2, 13, 17, 37}, {1, 9, 12, 64}, {2, 7, 9, 20}, {1, 6, 7, 1}};
    private static final MaxPool2d.Spec[] SPECS = {
        MaxPool2d.Spec.of(3, 2, 1), MaxPool2d.Spec.of(1, 2, 0), new MaxPool2d.Spec(5, 3, 3, 2, 2, 1)};

    private static float[] randomInput(Random r, long[] shape) {
        float[] x = SmallOpsTesting.uniform(r, (int) (shape[0] * shape[1] * shape[2] * shape[3]), -2f, 2f);
        x[r.nextInt(x.length)] = Float.NaN;
        x[r.nextInt(x.length)] = Float.NEGATIVE_INFINITY;
        x[r.nextInt(x.length)] = -0f;
        return x;
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        Random r = new Random(7);
        for (long[] shape : SHAPES) {
            float[] x = randomInput(r, shape);
            for (MaxPool2d.Spec spec : SPECS) {
                if (shape[1] < spec.kernelH() || shape[2] < spec.kernelW()) {
                    continue;
                }
                assertSameFloats(pool(Device.CPU, x, shape, spec), pool(Device.CUDA_EMULATED, x, shape, spec),
                        "emulated " + schedule + " " + spec);
            }
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    // ---- (3) real CUDA against the CPU ------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        Random r = new Random(8);
        for (long[] shape : new long[][] {{2, 13, 17, 37}, {1, 50, 76, 64}}) {
            float[] x = randomInput(r, shape);
            for (MaxPool2d.Spec spec : SPECS) {
                assertSameFloats(pool(Device.CPU, x, shape, spec), pool(Device.CUDA, x, shape, spec), "cuda " + spec);
            }
        }
    }

    // ---- edge cases and bad arguments -------------------------------------------------------------

    @Test
    void emptyBatchAndNoChannelsGiveEmptyOutputs() {
        Scope s = Allocator.global().openScope("max_pool2d-empty");
        try {
            for (Device d : new Device[] {Device.CPU, Device.CUDA_EMULATED}) {
                Tensor out = MaxPool2d.run(s, Tensor.allocate(s, d, DType.FLOAT32, 0, 5, 5, 3), MaxPool2d.Spec.of(3, 2, 1));
                assertArrayEquals(new long[] {0, 3, 3, 3}, out.shape());
                out = MaxPool2d.run(s, Tensor.allocate(s, d, DType.FLOAT32, 2, 5, 4, 0), MaxPool2d.Spec.of(1, 2, 0));
                assertArrayEquals(new long[] {2, 3, 2, 0}, out.shape());
            }
        } finally {
            s.release();
        }
    }

    @Test
    void rejectsBadSpecs() {
        assertThrows(InvalidArgumentException.class, () -> MaxPool2d.Spec.of(0, 1, 0));
        assertThrows(InvalidArgumentException.class, () -> MaxPool2d.Spec.of(3, 0, 1));
        assertThrows(InvalidArgumentException.class, () -> MaxPool2d.Spec.of(3, 2, 2)); // pad > kernel/2
        assertThrows(InvalidArgumentException.class, () -> MaxPool2d.Spec.of(3, 2, -1));
        assertThrows(InvalidArgumentException.class, () -> new MaxPool2d.Spec(3, 1, 1, 1, 1, 1)); // pad_w > 1/2
    }

    @Test
    void rejectsBadTensors() {
        Scope s = Allocator.global().openScope("max_pool2d-bad");
        try {
            MaxPool2d.Spec spec = MaxPool2d.Spec.of(3, 2, 1);
            Tensor in = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 5, 7, 3);
            in.zero();
            Tensor out = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 4, 3);
            MaxPool2d.run(in, spec, out); // valid
            Tensor flat = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1 * 5 * 7 * 3);
            Executable[] bad = {
                () -> MaxPool2d.run(null, spec, out),
                () -> MaxPool2d.run(in, null, out),
                () -> MaxPool2d.run(in, spec, null),
                () -> MaxPool2d.run(Tensor.allocate(s, Device.CPU, DType.INT32, 1, 5, 7, 3), spec, out),   // dtype
                () -> MaxPool2d.run(Tensor.allocate(s, Device.CPU, DType.FLOAT32, 5, 7, 3), spec, out),    // rank
                () -> MaxPool2d.run(in, spec, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 3, 3)),  // out shape
                () -> MaxPool2d.run(in, spec, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 1, 3, 4, 3)), // device
                () -> MaxPool2d.run(in.narrow(2, 0, 6), spec, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 3, 3, 3)), // strided
                () -> MaxPool2d.run(flat.reshape(1, 5, 7, 3), spec, flat.narrow(0, 0, 36).reshape(1, 3, 4, 3)), // overlap
                () -> MaxPool2d.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 2, 2, 1), MaxPool2d.Spec.of(5, 1, 1)), // no fit
                () -> MaxPool2d.outputShape(new long[] {1, 0, 7, 3}, spec),
                () -> MaxPool2d.outputShape(new long[] {1, 5, 7}, spec),
                () -> MaxPool2d.outputShape(new long[] {1, -5, 7, 3}, spec),
            };
            assertAllInvalid(bad);
            Tensor closed = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 1, 5, 7, 3);
            closed.close();
            assertThrows(InvalidArgumentException.class, () -> MaxPool2d.run(closed, spec, out));
        } finally {
            s.release();
        }
    }
}
