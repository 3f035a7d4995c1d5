package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.BoxFilter;
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
 * The fused remove_small_boxes + score threshold on the CPU:
 * <ul>
 * <li>{@code box_filter_rpn_4741}: the RPN's 4,741 pre-NMS proposals of one 800x1216 image
 *     (min_size 1e-3, scores >= 0); reads 94.8 KB: GB/s = 0.095 / ms;</li>
 * <li>{@code box_filter_box_head_90000}: RoIHeads' 1000 proposals x 90 classes (scores > 0.05,
 *     min_size 1e-2; about 5% kept, as softmax scores over 91 classes); reads 1.8 MB: GB/s =
 *     1.8 / ms.</li>
 * </ul>
 * Outputs preallocated, count left in the INT32 tensor (no read-back).
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class BoxFilterBenchmark {
    private Scope scope;
    private final Tensor[] boxes = new Tensor[2];
    private final Tensor[] scores = new Tensor[2];
    private final Tensor[] keep = new Tensor[2];
    private Tensor count;

    @Setup(Level.Trial)
    public void setUp() {
        scope = Allocator.global().openScope("box_filter-bench");
        Random r = new Random(0);
        int[] sizes = {4741, 90000};
        for (int i = 0; i < 2; i++) {
            int n = sizes[i];
            float[] b = new float[n * 4];
            float[] s = new float[n];
            for (int j = 0; j < n; j++) {
                float x = r.nextFloat() * 1200;
                float y = r.nextFloat() * 780;
                b[4 * j] = x;
                b[4 * j + 1] = y;
                b[4 * j + 2] = x + (r.nextInt(50) == 0 ? 0 : r.nextFloat() * 300);
                b[4 * j + 3] = y + r.nextFloat() * 300;
                s[j] = i == 0 ? r.nextFloat() : r.nextFloat() * 0.0526f; // ~5% above 0.05
            }
            boxes[i] = Tensor.fromFloats(scope, Device.CPU, b, n, 4);
            scores[i] = Tensor.fromFloats(scope, Device.CPU, s, n);
            keep[i] = Tensor.allocate(scope, Device.CPU, DType.INT64, n);
        }
        count = Tensor.allocate(scope, Device.CPU, DType.INT32, 1);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.release();
    }

    /** GB/s = 0.095 / ms. */
    @Benchmark
    public Tensor box_filter_rpn_4741() {
        BoxFilter.run(boxes[0], scores[0], BoxFilter.Criteria.RPN, keep[0], count, null);
        return count;
    }

    /** GB/s = 1.8 / ms. */
    @Benchmark
    public Tensor box_filter_box_head_90000() {
        BoxFilter.run(boxes[1], scores[1], BoxFilter.Criteria.ROI_HEADS, keep[1], count, null);
        return count;
    }
}
