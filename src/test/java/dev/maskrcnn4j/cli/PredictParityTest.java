package dev.maskrcnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.coco.CocoRle;
import dev.maskrcnn4j.testing.DetectionMatcher;
import dev.maskrcnn4j.testing.NoLeaks;
import dev.maskrcnn4j.testing.ParityCase;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtendWith;
import org.junit.jupiter.api.io.TempDir;

/**
 * The predict command end to end on a real checkpoint: the R50 parity case's official-format file
 * (legacy pickle, pre-0.13 keys) and its single-image batches through the CLI (which predicts
 * images one at a time: an image of a padded batch has other border features); the COCO results
 * JSON, read back (RLE decoded, xywh boxes), must match torchvision's detections of the same images.
 */
@ExtendWith(NoLeaks.class)
class PredictParityTest {
    @TempDir
    Path dir;

    @Test
    void resultsJsonMatchesTorchvision() throws Exception {
        ParityCase c = ParityCase.load("r50_v1");
        Path weights = c.dir().resolve("legacy_oldkeys.pth");
        Path results = dir.resolve("results.json");
        Path overlays = dir.resolve("overlays");
        List<String> args = new ArrayList<>(List.of("predict", "--weights", weights.toString(), "--output",
                results.toString(), "--overlay", overlays.toString()));
        List<String> singles = new ArrayList<>();
        for (String batch : c.batches()) {
            if (c.batchImages(batch).length == 1) {
                singles.add(batch);
                args.add(c.imagePath(c.batchImages(batch)[0]).toString());
            }
        }
        assertTrue(!singles.isEmpty());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        ByteArrayOutputStream err = new ByteArrayOutputStream();
        int code = PredictCommand.run(args.subList(1, args.size()).toArray(new String[0]),
                new PrintStream(out, true, StandardCharsets.UTF_8), new PrintStream(err, true, StandardCharsets.UTF_8));
        assertEquals(0, code, err.toString(StandardCharsets.UTF_8));
        List<?> json = (List<?>) TestJson.parse(Files.readString(results));
        DetectionMatcher matcher = new DetectionMatcher();
        for (String batch : singles) {
            int[] images = c.batchImages(batch);
            for (int i = 0; i < images.length; i++) {
                String name = c.imagePath(images[i]).getFileName().toString();
                assertTrue(Files.isRegularFile(overlays.resolve(name.replaceAll("\\.[^.]*$", "") + ".png")), name);
                matcher.add(DetectionMatcher.Detections.finalOf(c.stages(batch), i), fromJson(json, name));
            }
        }
        System.out.println("predict parity: " + matcher);
        matcher.assertParity();
    }

    private static DetectionMatcher.Detections fromJson(List<?> json, String imageId) {
        List<Map<?, ?>> mine = new ArrayList<>();
        for (Object o : json) {
            Map<?, ?> m = (Map<?, ?>) o;
            if (imageId.equals(m.get("image_id"))) {
                mine.add(m);
            }
        }
        int n = mine.size();
        float[] boxes = new float[4 * n];
        float[] scores = new float[n];
        long[] labels = new long[n];
        byte[][] masks = new byte[n][];
        for (int i = 0; i < n; i++) {
            Map<?, ?> m = mine.get(i);
            List<?> b = (List<?>) m.get("bbox");
            float x = num(b.get(0));
            float y = num(b.get(1));
            boxes[4 * i] = x;
            boxes[4 * i + 1] = y;
            boxes[4 * i + 2] = x + num(b.get(2));
            boxes[4 * i + 3] = y + num(b.get(3));
            scores[i] = num(m.get("score"));
            labels[i] = ((Number) m.get("category_id")).longValue();
            Map<?, ?> seg = (Map<?, ?>) m.get("segmentation");
            List<?> size = (List<?>) seg.get("size");
            masks[i] = CocoRle.fromString(((Number) size.get(0)).intValue(), ((Number) size.get(1)).intValue(),
                    (String) seg.get("counts")).decode();
        }
        return DetectionMatcher.Detections.of(boxes, scores, labels, masks);
    }

    private static float num(Object o) {
        return ((Number) o).floatValue();
    }
}
