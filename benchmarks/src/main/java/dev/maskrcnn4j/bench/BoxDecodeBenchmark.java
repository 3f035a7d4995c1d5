package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.BoxDecode;
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
 * Box decoding on the CPU at the Mask R-CNN sizes (800x1216 input), clipped to the image:
 * <ul>
 * <li>{@code rpn_decode_242991}: the RPN's deltas against all 242,991 anchors of the 5 FPN levels
 *     (K = 1, weights 1); reads 7.78 MB, writes 3.89 MB: GB/s = 11.66 / ms;</li>
 * <li>{@code box_head_decode_1000x91}: the box head's 1000 proposals x 91 classes (weights
 *     10/10/5/5); reads 1.47 MB, writes 1.46 MB: GB/s = 2.93 / ms.</li>
 * </ul>
 * Deltas N(0, 0.5); two exp per box make it more than a copy. Output preallocated (the op's
 * out-variant). OpenMP over rows: OMP_NUM_THREADS applies.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class BoxDecodeBenchmark {
    static final int ANCHORS = 242991;
    private Scope scope;
    private Tensor anchors;
    private Tensor rpnDeltas;
    private Tensor rpnOut;
    private Tensor proposals;
    private Tensor headDeltas;
    private Tensor headOut;

    static float[] gaussian(Random r, int n, double sigma) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (sigma * r.nextGaussian());
        }
        return a;
    }

    @Setup(Level.Trial)
    public void setUp() {
        scope = Allocator.global().openScope("box_decode-bench");
        Random r = new Random(0);
        anchors = AnchorsBenchmark.fpnAnchors(scope);
        rpnDeltas = Tensor.fromFloats(scope, Device.CPU, gaussian(r, ANCHORS * 4, 0.5), ANCHORS, 4);
        rpnOut = Tensor.allocate(scope, Device.CPU, dev.maskrcnn4j.tensor.DType.FLOAT32, ANCHORS, 1, 4);
        float[] p = new float[1000 * 4];
        for (int i = 0; i < 1000; i++) {
            float x = r.nextFloat() * 1000;
            float y = r.nextFloat() * 600;
            p[4 * i] = x;
            p[4 * i + 1] = y;
            p[4 * i + 2] = x + 16 + r.nextFloat() * 200;
            p[4 * i + 3] = y + 16 + r.nextFloat() * 200;
        }
        proposals = Tensor.fromFloats(scope, Device.CPU, p, 1000, 4);
        headDeltas = Tensor.fromFloats(scope, Device.CPU, gaussian(r, 1000 * 91 * 4, 0.5), 1000, 91 * 4);
        headOut = Tensor.allocate(scope, Device.CPU, dev.maskrcnn4j.tensor.DType.FLOAT32, 1000, 91, 4);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.release();
    }

    /** GB/s = 11.66 / ms. */
    @Benchmark
    public Tensor rpn_decode_242991() {
        BoxDecode.run(rpnDeltas, anchors, BoxDecode.Coder.RPN, true, 800, 1216, rpnOut);
        return rpnOut;
    }

    /** GB/s = 2.93 / ms. */
    @Benchmark
    public Tensor box_head_decode_1000x91() {
        BoxDecode.run(headDeltas, proposals, BoxDecode.Coder.BOX_HEAD, true, 800, 1216, headOut);
        return headOut;
    }
}
