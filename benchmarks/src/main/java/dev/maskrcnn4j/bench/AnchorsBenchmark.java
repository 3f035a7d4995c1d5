package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.memory.Allocator;
import dev.maskrcnn4j.memory.Scope;
import dev.maskrcnn4j.ops.Anchors;
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
 * {@code fpn_anchors_800x1216}: torchvision's AnchorGenerator for Mask R-CNN on an 800x1216 batch
 * (feature maps 200x304 ... 13x19, 3 anchors per location, 242,991 anchors), CPU: the cell anchors
 * (Java) plus one native call per level into a new tensor. Writes 3.89 MB: GB/s = 3.89 / ms.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 2)
@Measurement(iterations = 5, time = 2)
public class AnchorsBenchmark {
    static final int[][] FPN_GRIDS = {{200, 304}, {100, 152}, {50, 76}, {25, 38}, {13, 19}};
    private Scope scope;

    /** All FPN anchors of an 800x1216 batch, owned by {@code scope}. */
    static Tensor fpnAnchors(Scope scope) {
        return Anchors.generate(scope, Device.CPU, Anchors.fpnCellAnchors(), 800, 1216, FPN_GRIDS);
    }

    @Setup(Level.Trial)
    public void setUp() {
        scope = Allocator.global().openScope("anchors-bench");
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        scope.release();
    }

    /** GB/s = 3.89 / ms. */
    @Benchmark
    public long fpn_anchors_800x1216() {
        try (Tensor t = fpnAnchors(scope)) {
            return t.numel();
        }
    }
}
