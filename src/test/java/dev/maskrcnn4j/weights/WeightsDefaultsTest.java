package dev.maskrcnn4j.weights;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.maskrcnn4j.InvalidArgumentException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

class WeightsDefaultsTest {
    @Test
    void sameUrlsAsTorchvision() throws IOException {
        // Written by tools/weights/dump_default_weights.py from torchvision 0.14 (nothing is downloaded).
        Map<String, String> expected = new TreeMap<>();
        try (InputStream in = getClass().getResourceAsStream("/weights/torchvision_default_weights.txt")) {
            if (in == null) {
                throw new IOException("missing resource /weights/torchvision_default_weights.txt");
            }
            new String(in.readAllBytes(), StandardCharsets.UTF_8).lines()
                    .filter(l -> !l.startsWith("#") && !l.isBlank())
                    .forEach(l -> expected.put(l.split(" ")[0], l.split(" ")[1]));
        }
        assertEquals(expected, DefaultWeights.all());
        assertEquals(DefaultWeights.MASKRCNN_RESNET50_FPN_COCO_V1, DefaultWeights.forConfig("maskrcnn_resnet50_fpn"));
        assertEquals("https://download.pytorch.org/models/maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth",
                DefaultWeights.MASKRCNN_RESNET50_FPN_COCO_V1);
        assertEquals(Optional.of("bf2d0c1e"), WeightsCache.expectedHashPrefix("maskrcnn_resnet50_fpn_coco-bf2d0c1e.pth"));
    }

    @Test
    void unknownConfig() {
        InvalidArgumentException e = assertThrows(InvalidArgumentException.class, () -> DefaultWeights.forConfig("yolo"));
        assertEquals("no default weights for config yolo; known: maskrcnn_resnet50_fpn", e.getMessage());
    }
}
