package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.RoiAlign;
import dev.maskrcnn4j.tensor.Tensor;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * Multi-level RoIAlign (MultiScaleRoIAlign) on the CPU at the Mask R-CNN sizes: FPN levels P2..P5 of
 * an 800x1216 image (1x200x304x256, 1x100x152x256, 1x50x76x256, 1x25x38x256, NHWC), sampling ratio
 * 2, boxes with log-uniform sides in [16, 600] px inside the image (the torchvision peer's
 * distribution), so they spread over the levels. Threads: OMP_NUM_THREADS.
 * <ul>
 * <li>{@code roialign_1000_7x7}: 1000 boxes to 7x7 (the box head): boxes/s = 1e6 / ms;</li>
 * <li>{@code roialign_100_14x14}: 100 boxes to 14x14 (the mask head): boxes/s = 1e5 / ms.</li>
 * </ul>
 * Gathered bytes (4 bilinear taps x 4 samples per bin x 256 channels x 4 B, mostly cache hits):
 * 1000 x 49 x 16 KiB = 803 MB per 7x7 call (GB/s = 803 / ms) and 100 x 196 x 16 KiB = 321 MB per
 * 14x14 call (GB/s = 321 / ms). The distinct feature bytes a 7x7 call reads are about 280 MB, so
 * memory bandwidth bounds it. benchmarks/run.sh prints the torchvision figure beside each.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class RoiAlignBenchmark {
    private static final int IMAGE_H = 800;
    private static final int IMAGE_W = 1216;
    private static final int CHANNELS = 256;

    private Scope scope;
    private List<Tensor> levels;
    private RoiAlign.Pyramid pyramid;
    private Tensor rois1000;
    private Tensor out7;
    private Tensor rois100;
    private Tensor out14;

    @Setup(Level.Trial)
    public void setUp() {
        scope = Allocator.global().openScope("roi_align-bench");
        Random r = new Random(0);
        levels = new ArrayList<>();
        for (int k = 2; k <= 5; k++) {
            int h = IMAGE_H >> k, w = IMAGE_W >> k;
            float[] data = new float[h * w * CHANNELS];
            for (int i = 0; i < data.length; i++) {
                data[i] = r.nextFloat();
            }
            levels.add(Tensor.fromFloats(scope, Device.CPU, data, 1, h, w, CHANNELS));
        }
        pyramid = RoiAlign.Pyramid.infer(levels, IMAGE_H, IMAGE_W);
        rois1000 = Tensor.fromFloats(scope, Device.CPU, boxes(r, 1000), 1000, 5);
        rois100 = Tensor.fromFloats(scope, Device.CPU, boxes(r, 100), 100, 5);
        out7 = RoiAlign.multiLevel(scope, levels, pyramid, rois1000, 7, 7, 2, false);
        out14 = RoiAlign.multiLevel(scope, levels, pyramid, rois100, 14, 14, 2, false);
    }

    /** (0, x1, y1, x2, y2) rows: log-uniform sides in [16, 600] px, inside the image. */
    private static float[] boxes(Random r, int k) {
        float[] rois = new float[k * 5];
        for (int i = 0; i < k; i++) {
            double w = Math.min(Math.exp(Math.log(16) + r.nextDouble() * Math.log(600.0 / 16)), IMAGE_W - 1);
            double h = Math.min(Math.exp(Math.log(16) + r.nextDouble() * Math.log(600.0 / 16)), IMAGE_H - 1);
            double x0 = r.nextDouble() * (IMAGE_W - w), y0 = r.nextDouble() * (IMAGE_H - h);
            rois[i * 5 + 1] = (float) x0;
            rois[i * 5 + 2] = (float) y0;
            rois[i * 5 + 3] = (float) (x0 + w);
            rois[i * 5 + 4] = (float) (y0 + h);
        }
        return rois;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.release();
    }

    /** 1000 boxes, 7x7, sampling ratio 2: boxes/s = 1e6 / ms. */
    @Benchmark
    public void roialign_1000_7x7() {
        RoiAlign.multiLevel(levels, pyramid, rois1000, 7, 7, 2, false, out7);
    }

    /** 100 boxes, 14x14, sampling ratio 2: boxes/s = 1e5 / ms. */
    @Benchmark
    public void roialign_100_14x14() {
        RoiAlign.multiLevel(levels, pyramid, rois100, 14, 14, 2, false, out14);
    }
}
