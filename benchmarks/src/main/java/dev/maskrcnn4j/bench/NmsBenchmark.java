package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Nms;
import dev.maskrcnn4j.tensor.Tensor;
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
 * NMS on the CPU at the Mask R-CNN sizes, IoU threshold 0.7 (the RPN's):
 * <ul>
 * <li>{@code nms_1000}, {@code nms_4000}, {@code nms_12000}: {@code torchvision.ops.nms} of that many
 *     clustered boxes (12000 = the RPN's pre-NMS top-n in training, 1000/4000 per level and
 *     inference-sized);</li>
 * <li>{@code batched_nms_4000_5idx}: {@code batched_nms} of 4000 boxes over 5 levels (the RPN's
 *     per-level NMS).</li>
 * </ul>
 * Boxes as in benchmarks/peer/torchvision_ops.py (boxes_clustered): centres with log-uniform sides
 * in 16..600 inside a 1216x800 image, 8 jittered copies each (Gaussian jitter of 0.15 of the size),
 * uniform scores; a fixed seed (java.util.Random, so not torch's exact boxes: the kept counts are
 * printed at setup to compare the workload). Time per call includes the argument checks (a copy of
 * the boxes and scores to validate them), the workspace allocation and reading the kept count.
 * The work is O(kept x N) IoUs; no FLOP figure is meaningful. Single-threaded by design (the greedy
 * suppression is a chain of dependent passes), so OMP_NUM_THREADS does not change it.
 * benchmarks/run.sh prints the torchvision figure beside each.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class NmsBenchmark {
    private static final double IOU = 0.7;
    private Scope scope;
    private Tensor[] boxes;
    private Tensor[] scores;
    private Tensor levels;

    @Setup(Level.Trial)
    public void setUp() {
        scope = Allocator.global().openScope("nms-bench");
        Random r = new Random(0);
        int[] sizes = {1000, 4000, 12000, 4000};
        boxes = new Tensor[sizes.length];
        scores = new Tensor[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            int n = sizes[i];
            boxes[i] = Tensor.fromFloats(scope, Device.CPU, clusteredBoxes(r, n, 8, 0.15), n, 4);
            float[] s = new float[n];
            for (int j = 0; j < n; j++) {
                s[j] = r.nextFloat();
            }
            scores[i] = Tensor.fromFloats(scope, Device.CPU, s, n);
        }
        long[] lvl = new long[4000];
        for (int j = 0; j < lvl.length; j++) {
            lvl[j] = r.nextInt(5);
        }
        levels = Tensor.fromLongs(scope, Device.CPU, lvl, lvl.length);
        for (int i = 0; i < 3; i++) {
            try (Tensor k = Nms.nms(scope, boxes[i], scores[i], IOU, 0)) {
                System.out.println("# nms " + sizes[i] + " boxes: kept " + k.numel());
            }
        }
        try (Tensor k = Nms.batchedNms(scope, boxes[3], scores[3], levels, IOU, 0)) {
            System.out.println("# batched_nms 4000 boxes, 5 levels: kept " + k.numel());
        }
    }

    /** Jittered copies of log-uniform boxes in a 1216x800 image (the peer's boxes_clustered). */
    static float[] clusteredBoxes(Random r, int n, int perCluster, double jitter) {
        float[] b = new float[4 * n];
        float[] c = new float[4];
        for (int i = 0; i < n; i++) {
            if (i % perCluster == 0) {
                float w = (float) Math.exp(Math.log(16) + r.nextDouble() * (Math.log(600) - Math.log(16)));
                float h = (float) Math.exp(Math.log(16) + r.nextDouble() * (Math.log(600) - Math.log(16)));
                float x0 = r.nextFloat() * (1216 - w), y0 = r.nextFloat() * (800 - h);
                c = new float[] {x0, y0, x0 + w, y0 + h};
            }
            float w = c[2] - c[0], h = c[3] - c[1];
            float x1 = c[0] + (float) (jitter * w * r.nextGaussian());
            float y1 = c[1] + (float) (jitter * h * r.nextGaussian());
            b[4 * i] = x1;
            b[4 * i + 1] = y1;
            b[4 * i + 2] = Math.max(c[2] + (float) (jitter * w * r.nextGaussian()), x1 + 1);
            b[4 * i + 3] = Math.max(c[3] + (float) (jitter * h * r.nextGaussian()), y1 + 1);
        }
        return b;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.release();
    }

    private long run(int i) {
        try (Tensor k = Nms.nms(scope, boxes[i], scores[i], IOU, 0)) {
            return k.numel();
        }
    }

    @Benchmark
    public long nms_1000() {
        return run(0);
    }

    @Benchmark
    public long nms_4000() {
        return run(1);
    }

    @Benchmark
    public long nms_12000() {
        return run(2);
    }

    @Benchmark
    public long batched_nms_4000_5idx() {
        try (Tensor k = Nms.batchedNms(scope, boxes[3], scores[3], levels, IOU, 0)) {
            return k.numel();
        }
    }
}
