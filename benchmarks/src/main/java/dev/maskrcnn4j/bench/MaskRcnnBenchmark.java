package dev.maskrcnn4j.bench;

import dev.maskrcnn4j.Device;
import dev.maskrcnn4j.ImagePrediction;
import dev.maskrcnn4j.InputImage;
import dev.maskrcnn4j.MaskRcnn;
import dev.maskrcnn4j.MaskRcnnConfig;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import javax.imageio.ImageIO;
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
 * The whole Mask R-CNN forward on the CPU: one 800x1216 image (no resize: 800 is min_size) through
 * transform, ResNet-50-FPN, RPN (1000 proposals), box head, per-class NMS, mask head on the 100
 * detections, masks pasted at 800x1216 and run-length encoded: what {@link MaskRcnn#predict} returns.
 * The model and the image are torchvision's, written by benchmarks/peer/maskrcnn_forward.py (which
 * also times torchvision on them; benchmarks/run.sh runs it first): set
 * {@code -Dmaskrcnn4j.bench.dir=DIR} (default /tmp/maskrcnn4j-bench). Working memory is reused
 * across calls (MaskRcnn's pool), so page faults are paid in warm-up only. Threads: OMP_NUM_THREADS.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@State(org.openjdk.jmh.annotations.Scope.Benchmark)
@Fork(1)
@Warmup(iterations = 3, time = 4)
@Measurement(iterations = 5, time = 4)
public class MaskRcnnBenchmark {
    private MaskRcnn model;
    private InputImage image;

    @Setup(Level.Trial)
    public void setUp() throws IOException {
        Path dir = Path.of(System.getProperty("maskrcnn4j.bench.dir", "/tmp/maskrcnn4j-bench"));
        Path ckpt = dir.resolve("maskrcnn_r50_seed0.pth");
        Path png = dir.resolve("image_800x1216.png");
        if (!Files.exists(ckpt) || !Files.exists(png)) {
            throw new IllegalStateException("missing " + ckpt + " or " + png
                    + ": run /usr/bin/python3 benchmarks/peer/maskrcnn_forward.py --write " + dir + " first");
        }
        model = MaskRcnn.load(ckpt, MaskRcnnConfig.forArch("resnet50_fpn"), Device.CPU);
        image = InputImage.of(ImageIO.read(png.toFile()));
        ImagePrediction p = model.predict(image);
        System.out.println("# " + p.detections().size() + " detections");
    }

    @Benchmark
    public ImagePrediction forward_800x1216() {
        return model.predict(image);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        model.close();
    }
}
