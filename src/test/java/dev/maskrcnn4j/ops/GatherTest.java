package dev.maskrcnn4j.ops;

import static dev.maskrcnn4j.ops.SmallOpsTesting.assertAllInvalid;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.emulation.CudaEmulator;
import dev.maskrcnn4j.emulation.CudaEmulator.Schedule;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
import dev.maskrcnn4j.testing.Backends;
import dev.maskrcnn4j.testing.NoLeaks;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** Gather is a copy: compared exactly with the same indexing written as plain Java loops. */
@ExtendWith(NoLeaks.class)
class GatherTest {
    private static long[] indices(Random r, int count, int rows) {
        long[] idx = new long[count];
        for (int i = 0; i < count; i++) {
            idx[i] = r.nextInt(rows);
        }
        return idx;
    }

    private static void checkRows(Device device, Random r, int rows, int cols, int count) {
        float[] in = new float[rows * cols];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextFloat();
        }
        long[] idx = indices(r, count, rows);
        idx[0] = -1; // out of range: a zero row
        if (count > 1) {
            idx[1] = rows;
        }
        float[] expected = new float[count * cols];
        for (int i = 0; i < count; i++) {
            for (int j = 0; j < cols; j++) {
                expected[i * cols + j] = idx[i] >= 0 && idx[i] < rows ? in[(int) idx[i] * cols + j] : 0f;
            }
        }
        try (Scope s = Allocator.global().openScope("gather-rows")) {
            Tensor x = Tensor.fromFloats(s, device, in, rows, cols / 2, 2);
            Tensor i = Tensor.fromLongs(s, device, idx, count);
            Tensor out = Gather.rows(s, x, i);
            assertArrayEquals(new long[] {count, cols / 2, 2}, out.shape());
            assertArrayEquals(expected, out.toFloatArray(), device + " rows " + rows + "x" + cols + " count " + count);
            // int64 rows, into a slice of a larger output
            long[] longs = new long[rows * 3];
            for (int k = 0; k < longs.length; k++) {
                longs[k] = r.nextLong();
            }
            Tensor xl = Tensor.fromLongs(s, device, longs, rows, 3);
            Tensor big = Tensor.allocate(s, device, DType.INT64, count + 2, 3);
            big.zero();
            Gather.rows(xl, i, big.narrow(0, 1, count));
            long[] got = big.toLongArray();
            for (int k = 0; k < count; k++) {
                for (int j = 0; j < 3; j++) {
                    long want = idx[k] >= 0 && idx[k] < rows ? longs[(int) idx[k] * 3 + j] : 0L;
                    assertEquals(want, got[(k + 1) * 3 + j], device + " int64 row " + k);
                }
            }
            s.release();
        }
    }

    private static void checkChannel(Device device, Random r, int k, int p, int c) {
        float[] in = new float[k * p * c];
        for (int i = 0; i < in.length; i++) {
            in[i] = r.nextFloat() - 0.5f;
        }
        long[] ch = indices(r, k, c);
        if (k > 0) {
            ch[k - 1] = c; // out of range: zeros
        }
        float[] expected = new float[k * p];
        for (int a = 0; a < k; a++) {
            for (int q = 0; q < p; q++) {
                expected[a * p + q] = ch[a] < c ? in[(a * p + q) * c + (int) ch[a]] : 0f;
            }
        }
        try (Scope s = Allocator.global().openScope("gather-channel")) {
            Tensor x = Tensor.fromFloats(s, device, in, k, p, c);
            Tensor i = Tensor.fromLongs(s, device, ch, k);
            assertArrayEquals(expected, Gather.channel(s, x, i).toFloatArray(), device + " channel " + k + "x" + p + "x" + c);
            s.release();
        }
    }

    private static void checkAll(Device device, Random r) {
        checkRows(device, r, 1, 2, 1);
        checkRows(device, r, 37, 4, 300);
        checkRows(device, r, 1000, 8, 4001);
        checkChannel(device, r, 1, 1, 1);
        checkChannel(device, r, 7, 784, 91);
        checkChannel(device, r, 100, 784, 3);
    }

    @Test
    void cpuMatchesJavaIndexing() {
        checkAll(Device.CPU, new Random(1));
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesJavaIndexing(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        checkAll(Device.CUDA_EMULATED, new Random(2));
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    @Test
    void cudaMatchesJavaIndexing() {
        Backends.assumeCuda();
        checkAll(Device.CUDA, new Random(3));
    }

    @Test
    void emptyIndicesGiveEmptyOutputs() {
        try (Scope s = Allocator.global().openScope("gather-empty")) {
            Tensor x = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 5, 4);
            Tensor none = Tensor.allocate(s, Device.CPU, DType.INT64, 0);
            assertArrayEquals(new long[] {0, 4}, Gather.rows(s, x, none).shape());
            Tensor empty = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 4);
            assertArrayEquals(new long[] {0, 4}, Gather.rows(s, empty, none).shape());
            Tensor m = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 0, 784, 3);
            assertArrayEquals(new long[] {0, 784}, Gather.channel(s, m, none).shape());
            s.release();
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("gather-bad");
        try {
            Tensor x = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 4);
            Tensor idx = Tensor.fromLongs(s, Device.CPU, new long[] {0, 1}, 2);
            Tensor idx32 = Tensor.fromInts(s, Device.CPU, new int[] {0, 1}, 2);
            Tensor m = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 4, 3);
            Executable[] bad = {
                () -> Gather.rows(s, null, idx),
                () -> Gather.rows(s, x, null),
                () -> Gather.rows(s, x, idx32),
                () -> Gather.rows(s, x, Tensor.allocate(s, Device.CPU, DType.INT64, 2, 1)),
                () -> Gather.rows(s, x, Tensor.allocate(s, Device.CUDA_EMULATED, DType.INT64, 2)),
                () -> Gather.rows(s, Tensor.allocate(s, Device.CPU, DType.UINT8, 6, 4), idx),
                () -> Gather.rows(s, x.narrow(1, 1, 2), idx),
                () -> Gather.rows(x, idx, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 3, 4)),
                () -> Gather.rows(x, idx, x.narrow(0, 0, 2)),
                () -> Gather.channel(s, x, idx),
                () -> Gather.channel(s, m, Tensor.fromLongs(s, Device.CPU, new long[] {0, 1, 2}, 3)),
                () -> Gather.channel(m, idx, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 2, 3)),
            };
            assertAllInvalid(bad);
        } finally {
            s.release();
        }
    }
}
