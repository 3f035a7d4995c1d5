package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.MaxPool2d;
import dev.maskrcnn4j.ops.UpsampleNearestAdd;
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
 * The small memory-bound ops on the CPU at the Mask R-CNN sizes of an 800x1216 image (NHWC, float32).
 * Threads: OMP_NUM_THREADS. Bytes moved are the compulsory traffic (each tensor read or written
 * once), so GB/s = bytes / 1e6 / ms:
 * <ul>
 * <li>{@code upsample_nearest_add_256_100x152_to_200x304}: FPN's top-down step onto P2, {@code lateral
 *     [1, 200, 304, 256] + upsample(top [1, 100, 152, 256])} into a separate output: reads 62.3 + 15.6
 *     MB, writes 62.3 MB, 140.1 MB in all (GB/s = 140.1 / ms);</li>
 * <li>{@code upsample_nearest_add_inplace_256_100x152_to_200x304}: the same added into the lateral
 *     (what the FPN does: the lateral is not needed afterwards), same 140.1 MB;</li>
 * <li>{@code max_pool2d_stem_64_400x608}: ResNet's stem pool (3x3, stride 2, pad 1) on [1, 400, 608,
 *     64] to [1, 200, 304, 64]: reads 62.3 MB, writes 15.6 MB, 77.8 MB in all (GB/s = 77.8 / ms).</li>
 * </ul>
 * benchmarks/run.sh prints the torchvision figure beside each when benchmarks/peer/torchvision_ops.py
 * has a case of the same name.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class SmallOpsBenchmark {
    private static final int C_FPN = 256;
    private static final int C_STEM = 64;

    private Scope scope;
    private Tensor top;
    private Tensor lateral;
    private Tensor sum;
    private Tensor stem;
    private Tensor pooled;
    private final MaxPool2d.Spec stemPool = MaxPool2d.Spec.of(3, 2, 1);

    @Setup(Level.Trial)
    public void setUp() {
        scope = Allocator.global().openScope("small-ops-bench");
        Random r = new Random(0);
        top = Tensor.fromFloats(scope, Device.CPU, random(r, 100 * 152 * C_FPN), 1, 100, 152, C_FPN);
        lateral = Tensor.fromFloats(scope, Device.CPU, random(r, 200 * 304 * C_FPN), 1, 200, 304, C_FPN);
        sum = UpsampleNearestAdd.run(scope, top, lateral);
        stem = Tensor.fromFloats(scope, Device.CPU, random(r, 400 * 608 * C_STEM), 1, 400, 608, C_STEM);
        pooled = MaxPool2d.run(scope, stem, stemPool);
    }

    private static float[] random(Random r, int n) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = r.nextFloat() * 2 - 1;
        }
        return a;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.release();
    }

    /** lateral + upsample(top) into a separate output: GB/s = 140.1 / ms. */
    @Benchmark
    public void upsample_nearest_add_256_100x152_to_200x304() {
        UpsampleNearestAdd.run(top, lateral, sum);
    }

    /**
     * The same added into the tensor in place. The values grow by top's at every call, which does
     * not change the cost (no denormals or NaN can arise from [-1, 1] inputs in a JMH run's calls).
     */
    @Benchmark
    public void upsample_nearest_add_inplace_256_100x152_to_200x304() {
        UpsampleNearestAdd.run(top, sum, sum);
    }

    /** 3x3 / stride 2 / pad 1 max pooling, 64 channels, 400x608 -> 200x304: GB/s = 77.8 / ms. */
    @Benchmark
    public void max_pool2d_stem_64_400x608() {
        MaxPool2d.run(stem, stemPool, pooled);
    }
}
