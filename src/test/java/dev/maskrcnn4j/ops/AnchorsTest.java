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
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.function.Executable;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Anchors are float32 sums of small integers and rounded halves: no tolerance anywhere. The cell
 * anchors (Java), the grid anchors (every backend) and their concatenation must equal torchvision's
 * bit for bit, signed zeros included.
 */
@ExtendWith(NoLeaks.class)
class AnchorsTest {

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Row {@code r} of a 2-D golden array as doubles. */
    private static double[] row(Golden.Array a, int r) {
        int cols = a.dim(1);
        float[] all = a.floats();
        double[] d = new double[cols];
        for (int i = 0; i < cols; i++) {
            d[i] = all[r * cols + i];
        }
        return d;
    }

    private static float[] generate(Device device, float[][] cells, int imageH, int imageW, int[][] grids) {
        Scope s = Allocator.global().openScope("anchors-test");
        try {
            return Anchors.generate(s, device, cells, imageH, imageW, grids).toFloatArray();
        } finally {
            s.release();
        }
    }

    // ---- (1) against the torchvision goldens ------------------------------------------------------

    @Test
    void cellAnchorsMatchTorchvisionBitForBit() {
        Golden g = Golden.load("anchors");
        int checked = 0;
        for (Golden.Case c : g.cases()) {
            if (!c.name().startsWith("cell_")) {
                continue;
            }
            float[] actual = Anchors.cellAnchors(doubles(c.array("scales").floats()), doubles(c.array("ratios").floats()));
            assertSameFloats(c.array("output").floats(), actual, "golden " + c.name());
            checked++;
        }
        assertTrue(checked >= 5, "cell cases");
        assertSameFloats(new float[] {-23, -11, 23, 11, -16, -16, 16, 16, -11, -23, 11, 23}, Anchors.fpnCellAnchors()[0],
                "FPN level 0");
    }

    @Test
    void cpuGridAnchorsMatchTorchvisionGoldens() {
        Golden g = Golden.load("anchors");
        int checked = 0;
        for (Golden.Case c : g.cases()) {
            if (!c.name().startsWith("grid_")) {
                continue;
            }
            Golden.Array sizes = c.array("sizes");
            Golden.Array ratios = c.array("ratios");
            int levels = sizes.dim(0);
            double[][] sz = new double[levels][];
            double[][] rt = new double[levels][];
            int[][] grids = new int[levels][];
            int[] gs = c.array("grid_sizes").ints();
            for (int l = 0; l < levels; l++) {
                sz[l] = row(sizes, l);
                rt[l] = row(ratios, l);
                grids[l] = new int[] {gs[2 * l], gs[2 * l + 1]};
            }
            float[] actual = generate(Device.CPU, Anchors.cellAnchors(sz, rt), c.intParam("image_h"), c.intParam("image_w"),
                    grids);
            assertSameFloats(c.array("output").floats(), actual, "golden " + c.name());
            checked++;
        }
        assertTrue(checked >= 3, "grid cases");
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule -------------------------------

    private static final int[][] RAGGED_GRIDS = {{25, 38}, {13, 19}, {7, 10}, {4, 5}, {2, 3}};

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        float[][] cells = Anchors.fpnCellAnchors();
        assertSameFloats(generate(Device.CPU, cells, 100, 150, RAGGED_GRIDS),
                generate(Device.CUDA_EMULATED, cells, 100, 150, RAGGED_GRIDS), "emulated " + schedule);
        float[][] nine = {Anchors.cellAnchors(new double[] {16, 24, 33}, new double[] {0.5, 1, 2})};
        assertSameFloats(generate(Device.CPU, nine, 64, 61, new int[][] {{9, 7}}),
                generate(Device.CUDA_EMULATED, nine, 64, 61, new int[][] {{9, 7}}), "emulated 9 per cell " + schedule);
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    // ---- (3) real CUDA against the CPU ------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        float[][] cells = Anchors.fpnCellAnchors();
        int[][] grids = {{200, 304}, {100, 152}, {50, 76}, {25, 38}, {13, 19}};
        assertSameFloats(generate(Device.CPU, cells, 800, 1216, grids), generate(Device.CUDA, cells, 800, 1216, grids),
                "cuda");
    }

    // ---- edge cases and bad arguments -------------------------------------------------------------

    @Test
    void levelsAreConcatenatedInOrder() {
        Scope s = Allocator.global().openScope("anchors-levels");
        try {
            float[][] cells = Anchors.fpnCellAnchors();
            Tensor all = Anchors.generate(s, Device.CPU, cells, 100, 150, RAGGED_GRIDS);
            assertArrayEquals(new long[] {3L * (25 * 38 + 13 * 19 + 7 * 10 + 4 * 5 + 2 * 3), 4}, all.shape());
            Tensor last = Anchors.grid(s, Device.CPU, cells[4], 2, 3, 50, 50);
            float[] a = all.toFloatArray();
            float[] l = last.toFloatArray();
            float[] tail = java.util.Arrays.copyOfRange(a, a.length - l.length, a.length);
            assertSameFloats(l, tail, "last level");
            // (y, x, anchor) order: the anchor after the first cell's three is cell (0, 1)
            assertSameFloats(new float[] {-362 + 50, -181, 362 + 50, 181}, java.util.Arrays.copyOfRange(l, 12, 16), "cell (0,1)");
            assertEquals(0, Anchors.grid(s, Device.CUDA_EMULATED, cells[0], 0, 5, 4, 4).numel());
        } finally {
            s.release();
        }
    }

    @Test
    void rejectsBadArguments() {
        Scope s = Allocator.global().openScope("anchors-bad");
        try {
            float[] cell = Anchors.fpnCellAnchors()[0];
            Executable[] bad = {
                () -> Anchors.cellAnchors(new double[0], new double[] {1}),
                () -> Anchors.cellAnchors(new double[] {32}, new double[] {0}),
                () -> Anchors.cellAnchors(new double[] {32}, new double[] {Double.NaN}),
                () -> Anchors.cellAnchors(new double[] {-32}, new double[] {1}),
                () -> Anchors.cellAnchors(new double[9], new double[8]), // 72 per location
                () -> Anchors.cellAnchors(new double[][] {{32}}, new double[][] {{1}, {2}}),
                () -> Anchors.grid(s, Device.CPU, new float[] {1, 2, 3}, 2, 2, 4, 4),
                () -> Anchors.grid(s, Device.CPU, new float[] {1, 2, 3, Float.NaN}, 2, 2, 4, 4),
                () -> Anchors.grid(s, Device.CPU, cell, -1, 2, 4, 4),
                () -> Anchors.grid(s, Device.CPU, cell, 2, 2, -4, 4),
                () -> Anchors.grid(s, Device.CPU, cell, 3, 2, 1 << 30, 4),
                () -> Anchors.grid(s, null, cell, 2, 2, 4, 4),
                () -> Anchors.grid(cell, 2, 2, 4, 4, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 11, 4)),
                () -> Anchors.grid(cell, 2, 2, 4, 4, Tensor.allocate(s, Device.CPU, DType.INT32, 12, 4)),
                () -> Anchors.generate(s, Device.CPU, new float[][] {cell}, 100, 100, new int[][] {{5, 5}, {3, 3}}),
                () -> Anchors.generate(s, Device.CPU, new float[][] {cell}, 0, 100, new int[][] {{5, 5}}),
                () -> Anchors.generate(s, Device.CPU, new float[][] {cell}, 100, 100, new int[][] {{0, 5}}),
            };
            for (int i = 0; i < bad.length; i++) {
                assertThrows(InvalidArgumentException.class, bad[i], "bad call #" + i);
            }
        } finally {
            s.release();
        }
    }
}
