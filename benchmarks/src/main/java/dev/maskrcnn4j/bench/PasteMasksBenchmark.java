package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.PasteMasks;
import dev.maskrcnn4j.tensor.DType;
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
 * Mask paste on the CPU at Mask R-CNN's inference size: 100 detections, 28x28 mask probabilities,
 * an 800x1216 image (torchvision's {@code paste_masks_in_image(masks, boxes, (800, 1216), 1)}):
 * <ul>
 * <li>{@code paste_100_800x1216}: soft and binary masks in one pass (486.4 MB written);</li>
 * <li>{@code paste_100_800x1216_soft}: soft masks only, what torchvision computes (389.1 MB);</li>
 * <li>{@code paste_100_800x1216_binary}: binary masks only (97.3 MB), no float image memory.</li>
 * </ul>
 * Output bandwidth: GB/s = 100 * 800 * 1216 * (4 soft + 1 binary bytes) / time; e.g. 486.4 MB in
 * 10 ms is 48.6 GB/s. Boxes as benchmarks/peer/torchvision_ops.py's boxes_log_uniform: sides
 * log-uniform in 16..600 inside the image (a few percent of each plane is inside its box, the rest
 * is zero fill); masks uniform in [0, 1); a fixed java.util.Random seed. The outputs are allocated
 * once (page faults are not timed); time per call includes the argument checks (a copy of the boxes
 * to validate them). Threads: OMP_NUM_THREADS. benchmarks/run.sh prints torchvision's figure.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class PasteMasksBenchmark {
    private static final int K = 100;
    private static final int H = 800;
    private static final int W = 1216;
    private Scope scope;
    private Tensor masks;
    private Tensor boxes;
    private Tensor soft;
    private Tensor binary;

    @Setup(Level.Trial)
    public void setUp() {
        scope = Allocator.global().openScope("paste-bench");
        Random r = new Random(0);
        float[] m = new float[K * 28 * 28];
        for (int i = 0; i < m.length; i++) {
            m[i] = r.nextFloat();
        }
        float[] b = new float[4 * K];
        for (int i = 0; i < K; i++) {
            float w = (float) Math.min(Math.exp(Math.log(16) + r.nextDouble() * (Math.log(600) - Math.log(16))), W - 1);
            float h = (float) Math.min(Math.exp(Math.log(16) + r.nextDouble() * (Math.log(600) - Math.log(16))), H - 1);
            float x0 = r.nextFloat() * (W - w);
            float y0 = r.nextFloat() * (H - h);
            b[4 * i] = x0;
            b[4 * i + 1] = y0;
            b[4 * i + 2] = x0 + w;
            b[4 * i + 3] = y0 + h;
        }
        masks = Tensor.fromFloats(scope, Device.CPU, m, K, 28, 28);
        boxes = Tensor.fromFloats(scope, Device.CPU, b, K, 4);
        soft = Tensor.allocate(scope, Device.CPU, DType.FLOAT32, K, H, W);
        binary = Tensor.allocate(scope, Device.CPU, DType.UINT8, K, H, W);
        soft.zero();   // touch the pages before timing
        binary.zero();
        System.out.println("# paste: " + K + " masks into " + H + "x" + W + ", bytes written: soft+binary "
                + (long) K * H * W * 5 + ", soft " + (long) K * H * W * 4 + ", binary " + (long) K * H * W);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.release();
    }

    @Benchmark
    public Tensor paste_100_800x1216() {
        PasteMasks.paste(masks, boxes, H, W, PasteMasks.DEFAULT_THRESHOLD, soft, binary);
        return binary;
    }

    @Benchmark
    public Tensor paste_100_800x1216_soft() {
        PasteMasks.paste(masks, boxes, H, W, PasteMasks.DEFAULT_THRESHOLD, soft, null);
        return soft;
    }

    @Benchmark
    public Tensor paste_100_800x1216_binary() {
        PasteMasks.paste(masks, boxes, H, W, PasteMasks.DEFAULT_THRESHOLD, null, binary);
        return binary;
    }
}
