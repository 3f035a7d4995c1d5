package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Topk;
import dev.maskrcnn4j.tensor.DType;
import dev.maskrcnn4j.tensor.Tensor;
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
 * The RPN's pre-NMS top-n on the CPU (one 800x1216 image, N(0, 1) objectness logits):
 * <ul>
 * <li>{@code topk_1000_of_182400}: level P2 alone (200x304x3 anchors); reads 0.73 MB: GB/s =
 *     0.73 / ms;</li>
 * <li>{@code topk_rpn_5_levels}: torchvision's _get_top_n_idx, k = min(1000, n) on each level's
 *     column slice of the 242,991-wide row (no copy); reads 0.97 MB: GB/s = 0.97 / ms.</li>
 * </ul>
 * Outputs and workspace preallocated. One row is one thread's work (rows run in parallel), so
 * these single-image calls do not depend on OMP_NUM_THREADS.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class TopkBenchmark {
    static final int[] LEVELS = {182400, 45600, 11400, 2850, 741};
    private Scope scope;
    private Tensor objectness;
    private Tensor[] values;
    private Tensor[] indices;
    private Tensor workspace;

    @Setup(Level.Trial)
    public void setUp() {
        scope = Allocator.global().openScope("topk-bench");
        int total = 0;
        for (int n : LEVELS) {
            total += n;
        }
        objectness = Tensor.fromFloats(scope, Device.CPU, BoxDecodeBenchmark.gaussian(new java.util.Random(0), total, 1.0),
                1, total);
        values = new Tensor[LEVELS.length];
        indices = new Tensor[LEVELS.length];
        long ws = 0;
        for (int l = 0; l < LEVELS.length; l++) {
            int k = Math.min(1000, LEVELS[l]);
            values[l] = Tensor.allocate(scope, Device.CPU, DType.FLOAT32, 1, k);
            indices[l] = Tensor.allocate(scope, Device.CPU, DType.INT64, 1, k);
            ws = Math.max(ws, Topk.workspaceBytes(Device.CPU, 1, LEVELS[l], k));
        }
        workspace = Tensor.allocate(scope, Device.CPU, DType.UINT8, ws);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.release();
    }

    /** GB/s = 0.73 / ms. */
    @Benchmark
    public Tensor topk_1000_of_182400() {
        Topk.run(objectness.narrow(1, 0, LEVELS[0]), 1000, values[0], indices[0], workspace);
        return indices[0];
    }

    /** GB/s = 0.97 / ms. */
    @Benchmark
    public Tensor topk_rpn_5_levels() {
        long offset = 0;
        for (int l = 0; l < LEVELS.length; l++) {
            Topk.run(objectness.narrow(1, offset, LEVELS[l]), Math.min(1000, LEVELS[l]), values[l], indices[l], workspace);
            offset += LEVELS[l];
        }
        return indices[0];
    }
}
