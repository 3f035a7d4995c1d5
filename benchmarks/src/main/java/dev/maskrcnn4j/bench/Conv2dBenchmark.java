package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Conv2d;
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
 * conv2d on the CPU at the Mask R-CNN sizes (threads: OMP_NUM_THREADS, as the callers set it).
 * GFLOP/s = 2*N*OH*OW*Cout*Cin*KH*KW / time:
 * <ul>
 * <li>{@code conv3x3_256_200x304}: 3x3 256->256, pad 1, input 1x200x304x256 (FPN level P2):
 *     71.72 GFLOP per call, so GFLOP/s = 71723 / ms;</li>
 * <li>{@code conv1x1_2048_25x38}: 1x1 2048->256, input 1x25x38x2048 (FPN lateral of C5):
 *     0.996 GFLOP per call, so GFLOP/s = 996.1 / ms.</li>
 * </ul>
 * Both with bias, as in the model. benchmarks/run.sh prints the torchvision figure beside each.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class Conv2dBenchmark {
    private Scope scope;
    private Conv2d conv3x3;
    private Tensor in3x3;
    private Tensor out3x3;
    private Conv2d conv1x1;
    private Tensor in1x1;
    private Tensor out1x1;

    @Setup(Level.Trial)
    public void setUp() {
        scope = Allocator.global().openScope("conv2d-bench");
        Random r = new Random(0);
        conv3x3 = layer(r, 256, 256, 3, Conv2d.Spec.of(1, 1, 1, false));
        in3x3 = Tensor.fromFloats(scope, Device.CPU, uniform(r, 200 * 304 * 256, 1f), 1, 200, 304, 256);
        out3x3 = conv3x3.allocateOutput(scope, in3x3);
        conv1x1 = layer(r, 256, 2048, 1, Conv2d.Spec.of(1, 0, 1, false));
        in1x1 = Tensor.fromFloats(scope, Device.CPU, uniform(r, 25 * 38 * 2048, 1f), 1, 25, 38, 2048);
        out1x1 = conv1x1.allocateOutput(scope, in1x1);
    }

    private Conv2d layer(Random r, int cOut, int cIn, int k, Conv2d.Spec spec) {
        float scale = (float) (1.0 / Math.sqrt(cIn * k * k));
        return new Conv2d(scope, Device.CPU, uniform(r, cOut * cIn * k * k, scale), cOut, cIn, k, k,
                uniform(r, cOut, 0.1f), spec);
    }

    private static float[] uniform(Random r, int n, float range) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (r.nextFloat() * 2 - 1) * range;
        }
        return a;
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.release();
    }

    /** 3x3 256->256 at 200x304: GFLOP/s = 71723 / ms. */
    @Benchmark
    public void conv3x3_256_200x304() {
        conv3x3.run(in3x3, out3x3);
    }

    /** 1x1 2048->256 at 25x38: GFLOP/s = 996.1 / ms. */
    @Benchmark
    public void conv1x1_2048_25x38() {
        conv1x1.run(in1x1, out1x1);
    }
}
