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
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * topk only selects: no tolerance. Without ties, values and indices equal torch's exactly; with
 * ties (torch's order of equal values is unspecified) the value sequence equals torch's and every
 * index names a distinct element holding that value. Backends agree exactly, ties included.
 */
@ExtendWith(NoLeaks.class)
class TopkTest {

    /** {values (as float bits widened to long), indices} of topk over columns [offset, offset+n) of a [rows, ld] matrix. */
    private static Object[] topk(Device device, float[] x, int rows, int ld, int offset, int n, int k) {
        Scope s = Allocator.global().openScope("topk-test");
        try {
            Tensor in = Tensor.fromFloats(s, device, x, rows, ld).narrow(1, offset, n);
            Topk.Result r = Topk.run(s, in, k);
            assertArrayEquals(new long[] {rows, k}, r.values().shape());
            float[] v = r.values().numel() == 0 ? new float[0] : r.values().toFloatArray();
            long[] i = r.indices().numel() == 0 ? new long[0] : r.indices().toLongArray();
            return new Object[] {v, i};
        } finally {
            s.release();
        }
    }

    // ---- (1) CPU against the torch goldens ----------------------------------------------------------

    @Test
    void cpuMatchesTorchGoldens() {
        Golden g = Golden.load("topk");
        assertTrue(g.cases().size() >= 9, "golden cases");
        for (Golden.Case c : g.cases()) {
            Golden.Array x = c.array("input");
            int rows = x.dim(0);
            int ld = x.dim(1);
            int n = c.intParam("n");
            int k = c.intParam("k");
            Object[] r = topk(Device.CPU, x.floats(), rows, ld, c.intParam("offset"), n, k);
            float[] values = (float[]) r[0];
            long[] indices = (long[]) r[1];
            float[] expected = c.array("values").floats();
            if (!c.boolParam("ties")) {
                assertSameFloats(expected, values, c.name() + " values");
                assertArrayEquals(c.array("indices").longs(), indices, c.name() + " indices");
                continue;
            }
            // Ties: the same value sequence (-0 == +0), indices distinct and naming those values.
            float[] in = x.floats();
            for (int row = 0; row < rows; row++) {
                Set<Long> seen = new HashSet<>();
                for (int j = 0; j < k; j++) {
                    int at = row * k + j;
                    assertEquals(expected[at], values[at], 0f, c.name() + " value " + at);
                    long idx = indices[at];
                    assertTrue(idx >= 0 && idx < n && seen.add(idx), c.name() + " index " + idx + " at " + at);
                    assertEquals(Float.floatToRawIntBits(in[row * ld + c.intParam("offset") + (int) idx]),
                            Float.floatToRawIntBits(values[at]), c.name() + " value of index " + idx);
                }
            }
        }
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule -------------------------------

    private static float[] input(Random r, int count, boolean ties) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = ties ? r.nextInt(5) - 2 : (float) r.nextGaussian();
        }
        x[r.nextInt(count)] = Float.NaN;
        x[r.nextInt(count)] = Float.NEGATIVE_INFINITY;
        x[r.nextInt(count)] = -0f;
        return x;
    }

    private static void assertSameResult(Object[] expected, Object[] actual, String what) {
        assertSameFloats((float[]) expected[0], (float[]) actual[0], what + " values");
        assertArrayEquals((long[]) expected[1], (long[]) actual[1], what + " indices");
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        Random r = new Random(23);
        // {rows, ld, offset, n, k, ties}
        int[][] cases = {{2, 3000, 0, 3000, 700, 1}, {3, 900, 100, 700, 50, 0}, {1, 6000, 0, 6000, 4500, 0},
            {4, 37, 0, 37, 37, 1}};
        for (int[] c : cases) {
            float[] x = input(r, c[0] * c[1], c[5] == 1);
            assertSameResult(topk(Device.CPU, x, c[0], c[1], c[2], c[3], c[4]),
                    topk(Device.CUDA_EMULATED, x, c[0], c[1], c[2], c[3], c[4]),
                    "emulated " + schedule + " " + java.util.Arrays.toString(c));
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    // ---- (3) real CUDA against the CPU ------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        Random r = new Random(24);
        float[] x = input(r, 2 * 182400, false);
        assertSameResult(topk(Device.CPU, x, 2, 182400, 0, 182400, 1000), topk(Device.CUDA, x, 2, 182400, 0, 182400, 1000),
                "cuda rpn level");
        float[] t = input(r, 50000, true);
        assertSameResult(topk(Device.CPU, t, 1, 50000, 0, 50000, 20000), topk(Device.CUDA, t, 1, 50000, 0, 50000, 20000),
                "cuda ties, big k");
    }

    // ---- edge cases and bad arguments -------------------------------------------------------------

    @Test
    void emptyInputsAndZeroK() {
        for (Device d : new Device[] {Device.CPU, Device.CUDA_EMULATED}) {
            assertEquals(0, ((float[]) topk(d, new float[] {1, 2, 3}, 1, 3, 0, 3, 0)[0]).length);
            Scope s = Allocator.global().openScope("topk-empty");
            try {
                Topk.Result res = Topk.run(s, Tensor.allocate(s, d, DType.FLOAT32, 0, 5), 3);
                assertArrayEquals(new long[] {0, 3}, res.indices().shape());
            } finally {
                s.release();
            }
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("topk-bad");
        try {
            Tensor in = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 10);
            in.zero();
            Tensor v = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3);
            Tensor i = Tensor.allocate(s, Device.CPU, DType.INT64, 2, 3);
            Tensor ws = Tensor.allocate(s, Device.CPU, DType.UINT8, Topk.workspaceBytes(Device.CPU, 2, 10, 3));
            Topk.run(in, 3, v, i, ws); // valid
            Tensor wide = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 10, 2);
            Executable[] bad = {
                () -> Topk.run(null, in, 3),
                () -> Topk.run(s, null, 3),
                () -> Topk.run(s, in, 11),
                () -> Topk.run(s, in, -1),
                () -> Topk.run(s, Tensor.allocate(s, Device.CPU, DType.INT32, 2, 10), 3),
                () -> Topk.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 20), 3),
                () -> Topk.run(s, wide.narrow(0, 0, 10).reshape(2, 10).narrow(0, 0, 2), 11),
                () -> Topk.run(s, Tensor.view(wide.buffer(), 0, DType.FLOAT32, new long[] {2, 10}, new long[] {1, 2}), 3),
                () -> Topk.run(in, 3, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 4), i, ws),
                () -> Topk.run(in, 3, v, Tensor.allocate(s, Device.CPU, DType.INT32, 2, 3), ws),
                () -> Topk.run(in, 3, v, i, null),
                () -> Topk.run(in, 3, v, i, Tensor.allocate(s, Device.CPU, DType.UINT8, 8)),
                () -> Topk.run(in, 3, v, Tensor.allocate(s, Device.CUDA_EMULATED, DType.INT64, 2, 3), ws),
                () -> Topk.run(in, 3, in.narrow(1, 0, 3), i, ws),                                // values overlap input
                () -> Topk.run(in, 3, v, i, Tensor.view(in.buffer(), 0, DType.UINT8, new long[] {80}, new long[] {1})),
                () -> Topk.workspaceBytes(Device.CPU, 2, 3, 4),
            };
            for (int j = 0; j < bad.length; j++) {
                assertThrows(InvalidArgumentException.class, bad[j], "bad call #" + j);
            }
        } finally {
            s.release();
        }
    }
}
