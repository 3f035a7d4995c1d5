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
import dev.maskrcnn4j.testing.NoLeaks;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/** A filter only compares: the kept indices equal torchvision's exactly, on every backend. */
@ExtendWith(NoLeaks.class)
class BoxFilterTest {

    private static long[] filter(Device device, float[] boxes, float[] scores, BoxFilter.Criteria c) {
        Scope s = Allocator.global().openScope("box_filter-test");
        try {
            int n = boxes.length / 4;
            Tensor b = n == 0 ? Tensor.allocate(s, device, DType.FLOAT32, 0, 4) : Tensor.fromFloats(s, device, boxes, n, 4);
            Tensor sc = scores == null ? null
                    : n == 0 ? Tensor.allocate(s, device, DType.FLOAT32, 0) : Tensor.fromFloats(s, device, scores, n);
            Tensor keep = BoxFilter.run(s, b, sc, c);
            return keep.numel() == 0 ? new long[0] : keep.toLongArray();
        } finally {
            s.release();
        }
    }

    // ---- (1) CPU against the torchvision goldens --------------------------------------------------

    @Test
    void cpuMatchesTorchvisionGoldens() {
        Golden g = Golden.load("box_filter");
        assertTrue(g.cases().size() >= 6, "golden cases");
        for (Golden.Case c : g.cases()) {
            BoxFilter.Criteria crit = new BoxFilter.Criteria(c.doubleParam("min_size"), c.doubleParam("score_thresh"),
                    c.boolParam("strict"));
            float[] scores = c.boolParam("has_scores") ? c.array("scores").floats() : null;
            assertArrayEquals(c.array("keep").longs(), filter(Device.CPU, c.array("boxes").floats(), scores, crit),
                    "golden " + c.name());
        }
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule -------------------------------

    private static float[][] input(Random r, int n) {
        float[] b = new float[n * 4];
        float[] s = new float[n];
        for (int i = 0; i < n; i++) {
            float x = r.nextFloat() * 100;
            float y = r.nextFloat() * 100;
            b[i * 4] = x;
            b[i * 4 + 1] = y;
            b[i * 4 + 2] = x + r.nextFloat() * 0.05f;
            b[i * 4 + 3] = y + (r.nextInt(10) == 0 ? Float.NaN : r.nextFloat() * 0.05f);
            s[i] = r.nextInt(20) == 0 ? 0.05f : r.nextFloat();
        }
        return new float[][] {b, s};
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        Random r = new Random(29);
        for (int n : new int[] {1, 2047, 5000, 70001}) {
            float[][] in = input(r, n);
            for (BoxFilter.Criteria c : new BoxFilter.Criteria[] {BoxFilter.Criteria.RPN, BoxFilter.Criteria.ROI_HEADS}) {
                assertArrayEquals(filter(Device.CPU, in[0], in[1], c), filter(Device.CUDA_EMULATED, in[0], in[1], c),
                        "emulated " + schedule + " n=" + n + " " + c);
            }
            assertArrayEquals(filter(Device.CPU, in[0], null, BoxFilter.Criteria.ROI_HEADS),
                    filter(Device.CUDA_EMULATED, in[0], null, BoxFilter.Criteria.ROI_HEADS), "no scores n=" + n);
        }
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    // ---- (3) real CUDA against the CPU ------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        float[][] in = input(new Random(30), 90000);
        for (BoxFilter.Criteria c : new BoxFilter.Criteria[] {BoxFilter.Criteria.RPN, BoxFilter.Criteria.ROI_HEADS}) {
            assertArrayEquals(filter(Device.CPU, in[0], in[1], c), filter(Device.CUDA, in[0], in[1], c), "cuda " + c);
        }
    }

    // ---- edge cases and bad arguments -------------------------------------------------------------

    @Test
    void emptyInputAndThresholdSemantics() {
        for (Device d : new Device[] {Device.CPU, Device.CUDA_EMULATED}) {
            assertEquals(0, filter(d, new float[0], new float[0], BoxFilter.Criteria.RPN).length);
            // torch compares in float32: a score of 0.05f is not > 0.05 but is >= 0.05.
            float[] box = {0, 0, 1, 1};
            assertEquals(0, filter(d, box, new float[] {0.05f}, BoxFilter.Criteria.ROI_HEADS).length);
            assertEquals(1, filter(d, box, new float[] {0.05f}, new BoxFilter.Criteria(1e-2, 0.05, false)).length);
        }
    }

    @Test
    void rejectsBadArguments() {
        assertThrows(InvalidArgumentException.class, () -> new BoxFilter.Criteria(Double.NaN, 0, false));
        assertThrows(InvalidArgumentException.class, () -> new BoxFilter.Criteria(0, Double.NaN, false));
        Scope s = Allocator.global().openScope("box_filter-bad");
        try {
            BoxFilter.Criteria c = BoxFilter.Criteria.RPN;
            Tensor b = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 5, 4);
            Tensor sc = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 5);
            b.zero();
            sc.zero();
            Tensor keep = Tensor.allocate(s, Device.CPU, DType.INT64, 5);
            Tensor count = Tensor.allocate(s, Device.CPU, DType.INT32, 1);
            BoxFilter.run(b, sc, c, keep, count, null); // valid (the CPU needs no workspace)
            Executable[] bad = {
                () -> BoxFilter.run(null, b, sc, c),
                () -> BoxFilter.run(s, null, sc, c),
                () -> BoxFilter.run(s, b, sc, null),
                () -> BoxFilter.run(s, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 5, 3), sc, c),
                () -> BoxFilter.run(s, b, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 4), c),
                () -> BoxFilter.run(s, b, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 5), c),
                () -> BoxFilter.run(s, Tensor.allocate(s, Device.CPU, DType.INT32, 5, 4), sc, c),
                () -> BoxFilter.run(b, sc, c, Tensor.allocate(s, Device.CPU, DType.INT32, 5), count, null),
                () -> BoxFilter.run(b, sc, c, keep, Tensor.allocate(s, Device.CPU, DType.INT32, 2), null),
                () -> BoxFilter.run(b, sc, c, keep, Tensor.view(keep.buffer(), 0, DType.INT32, new long[] {1}, new long[] {1}), null),
                () -> BoxFilter.run(b, sc, c, Tensor.view(b.buffer(), 0, DType.INT64, new long[] {5}, new long[] {1}), count,
                        null),
            };
            for (int i = 0; i < bad.length; i++) {
                assertThrows(InvalidArgumentException.class, bad[i], "bad call #" + i);
            }
            Scope e = Allocator.global().openScope("box_filter-bad-emu");
            try {
                Tensor eb = Tensor.allocate(e, Device.CUDA_EMULATED, DType.FLOAT32, 5, 4);
                assertThrows(InvalidArgumentException.class, () -> BoxFilter.run(eb, null, c,
                        Tensor.allocate(e, Device.CUDA_EMULATED, DType.INT64, 5),
                        Tensor.allocate(e, Device.CUDA_EMULATED, DType.INT32, 1), null)); // workspace missing
            } finally {
                e.release();
            }
        } finally {
            s.release();
        }
    }
}
