package dev.maskrcnn4j;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.testing.DetectionMatcher;
import dev.maskrcnn4j.testing.Golden;
import dev.maskrcnn4j.testing.NoLeaks;
import dev.maskrcnn4j.testing.ParityCase;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The whole model against torchvision: each parity case's checkpoint files (both torch formats,
 * safetensors, both key spellings) loaded through the public API, every batch predicted (a single
 * odd-sized image, a two-image batch of different sizes), and the detections matched with
 * torchvision's final outputs: same label, box IoU >= 0.99, |score difference| <= 1e-3, mask IoU
 * >= 0.98, for at least 98% of torchvision's detections with at most 2% extra.
 */
@ExtendWith(NoLeaks.class)
class MaskRcnnParityTest {
    static Stream<Arguments> checkpoints() {
        return ParityCase.NAMES.stream().flatMap(name -> {
            ParityCase c = ParityCase.load(name);
            return c.checkpoints().stream().map(f -> Arguments.of(name, f.path().getFileName().toString()));
        });
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("checkpoints")
    void detectionsMatchTorchvision(String caseName, String file) {
        ParityCase c = ParityCase.load(caseName);
        try (MaskRcnn model = MaskRcnn.load(c.dir().resolve(file), c.config(), Device.CPU)) {
            assertEquals(c.numClasses(), model.numClasses());
            DetectionMatcher matcher = new DetectionMatcher();
            for (String batch : c.batches()) {
                Golden.Case stages = c.stages(batch);
                int[] images = c.batchImages(batch);
                List<ImagePrediction> predictions = model.predict(c.batchInputs(batch));
                for (int i = 0; i < images.length; i++) {
                    ImagePrediction p = predictions.get(i);
                    int[] size = c.imageSize(images[i]);
                    assertEquals(size[0], p.height());
                    assertEquals(size[1], p.width());
                    matcher.add(DetectionMatcher.Detections.finalOf(stages, i), ours(p));
                }
            }
            assertTrue(matcher.referenceCount() > 0, "the case has detections");
            System.out.println("parity " + caseName + " " + file + ": " + matcher);
            matcher.assertParity();
        }
    }

    private static DetectionMatcher.Detections ours(ImagePrediction p) {
        int n = p.detections().size();
        float[] boxes = new float[4 * n];
        float[] scores = new float[n];
        long[] labels = new long[n];
        byte[][] masks = new byte[n][];
        for (int i = 0; i < n; i++) {
            Detection d = p.detections().get(i);
            System.arraycopy(d.box().xyxy(), 0, boxes, 4 * i, 4);
            scores[i] = d.score();
            labels[i] = d.label();
            masks[i] = d.binaryMask();
        }
        return DetectionMatcher.Detections.of(boxes, scores, labels, masks);
    }
}
