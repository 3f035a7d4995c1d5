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

/**
 * No tolerance: the kernels reproduce torch 1.13's float32/float64 operations and its fma order
 * (mrcnn/math/image_preprocess.h), so the batch equals torchvision's bit for bit on every backend.
 */
@ExtendWith(NoLeaks.class)
class ImagePreprocessTest {

    private static double[] doubles(float[] f) {
        double[] d = new double[f.length];
        for (int i = 0; i < f.length; i++) {
            d[i] = f[i];
        }
        return d;
    }

    /** Runs the transform on HWC images ({h, w, data}); returns {batch floats, image sizes}. */
    private static Object[] transform(Device device, List<float[]> images, List<int[]> shapes, ImagePreprocess.Config cfg,
            long[] batchShape) {
        Scope s = Allocator.global().openScope("image_preprocess-test");
        try {
            List<Tensor> ts = new ArrayList<>();
            for (int i = 0; i < images.size(); i++) {
                int[] hw = shapes.get(i);
                ts.add(Tensor.fromFloats(s, device, images.get(i), hw[0], hw[1], cfg.mean().length));
            }
            ImagePreprocess.Batch b = ImagePreprocess.run(s, ts, cfg);
            if (batchShape != null) {
                assertArrayEquals(batchShape, b.images().shape(), "batch shape");
            }
            return new Object[] {b.images().toFloatArray(), b.imageSizes()};
        } finally {
            s.release();
        }
    }

    // ---- (1) CPU against the torchvision goldens ----------------------------------------------------

    @Test
    void cpuMatchesTorchvisionGoldens() {
        Golden g = Golden.load("image_preprocess");
        int checked = 0;
        for (Golden.Case c : g.cases()) {
            if (!c.name().startsWith("batch_")) {
                continue;
            }
            ImagePreprocess.Config cfg = new ImagePreprocess.Config(c.intParam("min_size"), c.intParam("max_size"),
                    doubles(c.array("mean").floats()), doubles(c.array("std").floats()), c.intParam("size_divisible"));
            List<float[]> images = new ArrayList<>();
            List<int[]> shapes = new ArrayList<>();
            for (int i = 0; i < c.intParam("images"); i++) {
                Golden.Array a = c.array("image" + i);
                images.add(Layouts.nchwToNhwc(a.floats(), 1, a.dim(0), a.dim(1), a.dim(2)));
                shapes.add(new int[] {a.dim(1), a.dim(2)});
            }
            Golden.Array out = c.array("output");
            int n = out.dim(0);
            int ch = out.dim(1);
            int hp = out.dim(2);
            int wp = out.dim(3);
            Object[] r = transform(Device.CPU, images, shapes, cfg, new long[] {n, hp, wp, ch});
            assertSameFloats(Layouts.nchwToNhwc(out.floats(), n, ch, hp, wp), (float[]) r[0], "golden " + c.name());
            int[] expectedSizes = c.array("image_sizes").ints();
            int[][] sizes = (int[][]) r[1];
            for (int i = 0; i < n; i++) {
                assertArrayEquals(new int[] {expectedSizes[2 * i], expectedSizes[2 * i + 1]}, sizes[i], c.name() + " size " + i);
            }
            checked++;
        }
        assertTrue(checked >= 5, "batch cases");
    }

    @Test
    void resizedSizesMatchTorchvisionAtMaskRcnnScale() {
        Golden.Case c = Golden.load("image_preprocess").get("sizes_mask_rcnn_800_1333");
        int[] in = c.array("input_sizes").ints();
        int[] want = c.array("resized").ints();
        for (int i = 0; i < in.length; i += 2) {
            assertArrayEquals(new int[] {want[i], want[i + 1]},
                    ImagePreprocess.resizedSize(in[i], in[i + 1], c.intParam("min_size"), c.intParam("max_size")),
                    in[i] + "x" + in[i + 1]);
        }
    }

    // ---- (2) emulated CUDA against the CPU, every emulator schedule -------------------------------

    private static float[] image(Random r, int count) {
        float[] x = new float[count];
        for (int i = 0; i < count; i++) {
            x[i] = r.nextFloat();
        }
        return x;
    }

    @ParameterizedTest
    @MethodSource("dev.maskrcnn4j.testing.Backends#emulatorSchedules")
    void emulatedCudaMatchesCpu(Schedule schedule) {
        long errorsBefore = Backends.useSchedule(schedule);
        Random r = new Random(31);
        ImagePreprocess.Config cfg = new ImagePreprocess.Config(40, 70, new double[] {0.485, 0.456, 0.406},
                new double[] {0.229, 0.224, 0.225}, 32);
        List<int[]> shapes = List.of(new int[] {23, 37}, new int[] {61, 29}, new int[] {40, 40});
        List<float[]> images = new ArrayList<>();
        for (int[] s : shapes) {
            images.add(image(r, s[0] * s[1] * 3));
        }
        Object[] cpu = transform(Device.CPU, images, shapes, cfg, null);
        Object[] emu = transform(Device.CUDA_EMULATED, images, shapes, cfg, null);
        assertSameFloats((float[]) cpu[0], (float[]) emu[0], "emulated " + schedule);
        ImagePreprocess.Config gray = new ImagePreprocess.Config(16, 30, new double[] {0.5}, new double[] {0.25}, 8);
        List<int[]> one = List.of(new int[] {9, 13});
        List<float[]> img = List.of(image(r, 9 * 13));
        assertSameFloats((float[]) transform(Device.CPU, img, one, gray, null)[0],
                (float[]) transform(Device.CUDA_EMULATED, img, one, gray, null)[0], "emulated one channel " + schedule);
        assertEquals(errorsBefore, CudaEmulator.errorCount(), "emulator misuse reports");
    }

    // ---- (3) real CUDA against the CPU ------------------------------------------------------------

    @Test
    void cudaMatchesCpu() {
        Backends.assumeCuda();
        Random r = new Random(32);
        List<int[]> shapes = List.of(new int[] {480, 640}, new int[] {427, 640});
        List<float[]> images = List.of(image(r, 480 * 640 * 3), image(r, 427 * 640 * 3));
        assertSameFloats((float[]) transform(Device.CPU, images, shapes, ImagePreprocess.Config.MASK_RCNN, null)[0],
                (float[]) transform(Device.CUDA, images, shapes, ImagePreprocess.Config.MASK_RCNN, null)[0], "cuda");
    }

    // ---- edge cases and bad arguments -------------------------------------------------------------

    @Test
    void sizesFollowTorchvision() {
        assertArrayEquals(new int[] {800, 1066}, ImagePreprocess.resizedSize(480, 640, 800, 1333));
        assertArrayEquals(new int[] {800, 800}, ImagePreprocess.resizedSize(1, 1, 800, 1333));
        assertArrayEquals(new int[] {832, 1088}, ImagePreprocess.paddedSize(new int[][] {{800, 1066}, {812, 1000}}, 32));
        assertThrows(InvalidArgumentException.class, () -> ImagePreprocess.resizedSize(1, 5000, 800, 1333)); // 0 rows
    }

    @Test
    void rejectsBadArguments() {
        ImagePreprocess.Config cfg = ImagePreprocess.Config.MASK_RCNN;
        assertThrows(InvalidArgumentException.class, () -> new ImagePreprocess.Config(0, 10, new double[] {0}, new double[] {1}, 32));
        assertThrows(InvalidArgumentException.class, () -> new ImagePreprocess.Config(8, 10, new double[] {0, 0},
                new double[] {1}, 32));
        assertThrows(InvalidArgumentException.class, () -> new ImagePreprocess.Config(8, 10, new double[] {0}, new double[] {0}, 32));
        assertThrows(InvalidArgumentException.class, () -> new ImagePreprocess.Config(8, 10, new double[5], new double[5], 32));
        Scope s = Allocator.global().openScope("image_preprocess-bad");
        try {
            Tensor img = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 8, 3);
            img.zero();
            Tensor slot = Tensor.allocate(s, Device.CPU, DType.FLOAT32, 32, 32, 3);
            ImagePreprocess.Config small = new ImagePreprocess.Config(8, 20, cfg.mean(), cfg.std(), 32);
            Tensor ws = Tensor.allocate(s, Device.CPU, DType.UINT8, ImagePreprocess.workspaceBytes(Device.CPU, 6, 8, 3, 8, 10));
            ImagePreprocess.run(img, small, 8, 10, slot, ws); // valid
            Executable[] bad = {
                () -> ImagePreprocess.run(null, List.of(img), cfg),
                () -> ImagePreprocess.run(s, List.of(), cfg),
                () -> ImagePreprocess.run(s, List.of(img), null),
                () -> ImagePreprocess.run(s, List.of(Tensor.allocate(s, Device.CPU, DType.FLOAT32, 3, 6, 8)), cfg), // CHW
                () -> ImagePreprocess.run(s, List.of(Tensor.allocate(s, Device.CPU, DType.FLOAT32, 6, 8)), cfg),
                () -> ImagePreprocess.run(s, List.of(Tensor.allocate(s, Device.CPU, DType.UINT8, 6, 8, 3)), cfg),
                () -> ImagePreprocess.run(s, List.of(img, Tensor.allocate(s, Device.CUDA_EMULATED, DType.FLOAT32, 6, 8, 3)), cfg),
                () -> ImagePreprocess.run(img, small, 33, 10, slot, ws),                      // does not fit
                () -> ImagePreprocess.run(img, small, 8, 10, Tensor.allocate(s, Device.CPU, DType.FLOAT32, 32, 32, 4), ws),
                () -> ImagePreprocess.run(img, small, 8, 10, slot, null),                     // workspace missing
                () -> ImagePreprocess.run(img, small, 8, 10, slot, Tensor.allocate(s, Device.CPU, DType.UINT8, 16)),
                () -> ImagePreprocess.run(img, small, 4, 4,
                        Tensor.view(img.buffer(), 0, DType.FLOAT32, new long[] {4, 4, 3}, new long[] {12, 3, 1}), ws),
            };
            for (int i = 0; i < bad.length; i++) {
                assertThrows(InvalidArgumentException.class, bad[i], "bad call #" + i);
            }
        } finally {
            s.release();
        }
    }
}
