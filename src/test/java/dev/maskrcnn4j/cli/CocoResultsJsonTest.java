package dev.maskrcnn4j.cli;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.Box;
import dev.maskrcnn4j.Detection;
import dev.maskrcnn4j.ImagePrediction;
import dev.maskrcnn4j.InvalidArgumentException;
import dev.maskrcnn4j.coco.CocoRle;
import java.io.IOException;
import java.io.StringWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class CocoResultsJsonTest {

    private static String write(List<String> ids, List<ImagePrediction> predictions) throws IOException {
        StringWriter sw = new StringWriter();
        CocoResultsJson json = new CocoResultsJson(sw);
        for (int i = 0; i < ids.size(); i++) {
            json.add(ids.get(i), predictions.get(i));
        }
        json.finish();
        return sw.toString();
    }

    @Test
    void everyDetectionOfEveryImageIsOneObjectInTheCocoResultsFormat() throws IOException {
        int h = 37;
        int w = 53;
        Detection a = Synthetic.rectDetection(1, "person", 0.875f, h, w, 3, 4, 20, 30);
        Detection b = Synthetic.detection(18, "dog", 0.1f, new Box(0.5f, 1.25f, 52.75f, 36.5f),
                Synthetic.rectMask(h, w, 0, 0, 53, 37), h, w);
        Detection c = Synthetic.rectDetection(3, "car", 0.6f, 20, 10, 0, 0, 1, 1);
        List<ImagePrediction> predictions = List.of(new ImagePrediction(h, w, List.of(a, b)),
                new ImagePrediction(5, 5, List.of()), new ImagePrediction(20, 10, List.of(c)));
        String text = write(List.of("one.jpg", "empty.png", "three.jpeg"), predictions);

        List<?> array = (List<?>) TestJson.parse(text);
        assertEquals(3, array.size());
        String[] ids = {"one.jpg", "one.jpg", "three.jpeg"};
        Detection[] ds = {a, b, c};
        int[][] sizes = {{h, w}, {h, w}, {20, 10}};
        for (int i = 0; i < 3; i++) {
            Map<?, ?> o = (Map<?, ?>) array.get(i);
            assertEquals(List.of("image_id", "category_id", "bbox", "score", "segmentation"), new ArrayList<>(o.keySet()));
            assertEquals(ids[i], o.get("image_id"));
            assertEquals((long) ds[i].label(), o.get("category_id"));
            List<?> bbox = (List<?>) o.get("bbox");
            float[] xywh = ds[i].box().xywh();
            assertEquals(4, bbox.size());
            for (int k = 0; k < 4; k++) {
                assertEquals(xywh[k], ((Number) bbox.get(k)).floatValue(), 0f, "bbox[" + k + "]");
            }
            assertEquals(ds[i].score(), ((Number) o.get("score")).floatValue(), 0f);
            Map<?, ?> seg = (Map<?, ?>) o.get("segmentation");
            assertEquals(List.of((long) sizes[i][0], (long) sizes[i][1]), seg.get("size"));
            String counts = (String) seg.get("counts");
            assertEquals(CocoRle.encode(ds[i].binaryMask(), sizes[i][0], sizes[i][1]).countsString(), counts);
            assertArrayEquals(ds[i].binaryMask(), CocoRle.fromString(sizes[i][0], sizes[i][1], counts).decode());
        }
        // COCO's bbox is [x, y, width, height]: b's box 0.5..52.75 x 1.25..36.5
        List<?> bboxB = (List<?>) ((Map<?, ?>) array.get(1)).get("bbox");
        assertEquals(List.of(0.5, 1.25, 52.25, 35.25), bboxB);
        assertTrue(text.startsWith("[\n{\"image_id\": \"one.jpg\", \"category_id\": 1, \"bbox\": [3.0, 4.0, 17.0, 26.0], "
                + "\"score\": 0.875, \"segmentation\": {\"size\": [37, 53], \"counts\": \""), text);
        assertTrue(text.endsWith("}}\n]\n"), text);
    }

    @Test
    void noDetectionsIsAnEmptyArray() throws IOException {
        String text = write(List.of("a.png"), List.of(new ImagePrediction(4, 4, List.of())));
        assertEquals("[]\n", text);
        assertEquals(List.of(), TestJson.parse(text));
        assertEquals("[]\n", write(List.of(), List.of()));
    }

    @Test
    void floatsReadBackAsTheSameFloat32() throws IOException {
        float[] awkward = {0.1f, 1f / 3, 1e-7f, 123456.79f, 0.99999994f, Float.MIN_VALUE, 1.1e38f, 0f, 0.05f};
        List<ImagePrediction> predictions = new ArrayList<>();
        List<String> ids = new ArrayList<>();
        for (float v : awkward) {
            Detection d = Synthetic.detection(2, "bicycle", v, new Box(v, v, v * 2, v * 3), new byte[16], 4, 4);
            predictions.add(new ImagePrediction(4, 4, List.of(d)));
            ids.add("x.jpg");
        }
        List<?> array = (List<?>) TestJson.parse(write(ids, predictions));
        for (int i = 0; i < awkward.length; i++) {
            Map<?, ?> o = (Map<?, ?>) array.get(i);
            assertEquals(awkward[i], ((Number) o.get("score")).floatValue(), 0f);
            float[] xywh = predictions.get(i).detections().get(0).box().xywh();
            List<?> bbox = (List<?>) o.get("bbox");
            for (int k = 0; k < 4; k++) {
                assertEquals(Float.floatToIntBits(xywh[k]), Float.floatToIntBits(((Number) bbox.get(k)).floatValue()));
            }
        }
    }

    @Test
    void fileNamesAndCountsAreEscaped() throws IOException {
        String id = "odd \"name\" \\ tab\t ü 猫 \u0001.jpg";
        // find a mask whose compressed counts contain a backslash (character 92), which JSON must escape
        Random rng = new Random(3);
        CocoRle rle;
        byte[] mask;
        do {
            mask = new byte[30 * 30];
            int x0 = rng.nextInt(30);
            int y0 = rng.nextInt(30);
            mask = Synthetic.rectMask(30, 30, x0, y0, x0 + rng.nextInt(30 - x0) + 1, y0 + rng.nextInt(30 - y0) + 1);
            rle = CocoRle.encode(mask, 30, 30);
        } while (!rle.countsString().contains("\\"));
        Detection d = Synthetic.detection(5, "airplane", 0.5f, new Box(0, 0, 1, 1), mask, 30, 30);
        String text = write(List.of(id), List.of(new ImagePrediction(30, 30, List.of(d))));
        Map<?, ?> o = (Map<?, ?>) ((List<?>) TestJson.parse(text)).get(0);
        assertEquals(id, o.get("image_id"));
        assertEquals(rle.countsString(), ((Map<?, ?>) o.get("segmentation")).get("counts"));
    }

    @Test
    void aMaskOfAnotherSizeThanItsImageIsRefused() {
        Detection d = Synthetic.rectDetection(1, "person", 0.9f, 10, 12, 0, 0, 2, 2);
        assertThrows(InvalidArgumentException.class,
                () -> write(List.of("a.jpg"), List.of(new ImagePrediction(12, 10, List.of(d)))));
    }

    @Test
    void nonFiniteNumbersAreRefused() {
        Detection d = Synthetic.detection(1, "person", Float.NaN, new Box(0, 0, 1, 1), new byte[4], 2, 2);
        assertThrows(InvalidArgumentException.class,
                () -> write(List.of("a.jpg"), List.of(new ImagePrediction(2, 2, List.of(d)))));
    }
}
