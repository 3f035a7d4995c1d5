package dev.maskrcnn4j.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.InputImage;
import dev.maskrcnn4j.MaskRcnnConfig;
import dev.maskrcnn4j.checkpoint.Checkpoint;
import dev.maskrcnn4j.checkpoint.HostTensor;
import dev.maskrcnn4j.checkpoint.StateDict;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * The generated parity cases are consistent: every checkpoint file holds the same weights after
 * normalisation whatever its format and key spelling, the images read to their recorded sizes,
 * and each batch's stage file has the documented arrays and shapes.
 */
class ParityCaseFilesTest {
    static List<String> cases() {
        return ParityCase.NAMES;
    }

    @ParameterizedTest
    @MethodSource("cases")
    void checkpointsHoldTheSameWeightsInEveryFormatAndSpelling(String name) {
        ParityCase c = ParityCase.load(name);
        List<ParityCase.CheckpointFile> files = c.checkpoints();
        assertTrue(files.size() >= 2, "a case saves its weights at least twice");
        List<StateDict> dicts = new ArrayList<>();
        for (ParityCase.CheckpointFile f : files) {
            assertEquals(f.format().toUpperCase(Locale.ROOT), Checkpoint.detect(f.path()).name(), f.path() + " format");
            StateDict raw = Checkpoint.load(f.path());
            boolean legacyKeys = raw.keys().contains("rpn.head.conv.weight");
            assertEquals(f.spelling().equals("legacy"), legacyKeys, f.path() + " spelling " + f.spelling());
            dicts.add(raw.normalized());
        }
        StateDict first = dicts.get(0);
        assertTrue(first.contains("roi_heads.mask_head.0.0.weight") && first.contains("backbone.fpn.inner_blocks.0.0.weight"),
                "normalised keys are torchvision 0.14's");
        HostTensor cls = first.get("roi_heads.box_predictor.cls_score.weight");
        assertEquals(c.numClasses(), cls.size(0), "class count");
        for (int i = 1; i < dicts.size(); i++) {
            StateDict other = dicts.get(i);
            assertEquals(first.keys(), other.keys(), files.get(i).path() + " keys");
            for (Map.Entry<String, HostTensor> e : first.tensors().entrySet()) {
                HostTensor t = other.get(e.getKey());
                assertArrayEquals(e.getValue().shape(), t.shape(), e.getKey());
                assertArrayEquals(e.getValue().toFloatArray(), t.toFloatArray(), files.get(i).path() + " " + e.getKey());
            }
        }
        MaskRcnnConfig config = c.config();
        assertEquals(c.arch(), config.arch());
    }

    @ParameterizedTest
    @MethodSource("cases")
    void imagesReadToTheirRecordedSizes(String name) {
        ParityCase c = ParityCase.load(name);
        for (int i = 0; i < c.imageCount(); i++) {
            InputImage img = c.image(i);
            assertArrayEquals(c.imageSize(i), new int[] {img.height(), img.width()}, c.imagePath(i).toString());
        }
    }

    @ParameterizedTest
    @MethodSource("cases")
    void stageFilesHaveTheDocumentedArrays(String name) {
        ParityCase c = ParityCase.load(name);
        int classes = c.numClasses();
        for (String batch : c.batches()) {
            int[] idx = c.batchImages(batch);
            Golden.Case s = c.stages(batch);
            int n = idx.length;
            String where = name + "/" + batch + ": ";
            long[] images = s.array("images").shape();
            assertEquals(4, images.length);
            assertEquals(n, images[0]);
            assertEquals(3, images[1]);
            assertEquals(0, images[2] % 32, where + "padded to a multiple of 32");
            assertEquals(0, images[3] % 32, where + "padded to a multiple of 32");
            assertArrayEquals(new long[] {n, 2}, s.array("image_sizes").shape());
            long[] original = s.array("original_sizes").longs();
            long[] resized = s.array("image_sizes").longs();
            for (int i = 0; i < n; i++) {
                int[] size = c.imageSize(idx[i]);
                assertEquals(size[0], original[2 * i], where + "original height");
                assertEquals(size[1], original[2 * i + 1], where + "original width");
                assertTrue(resized[2 * i] <= images[2] && resized[2 * i + 1] <= images[3]);
            }
            int stride = 4;
            for (String level : new String[] {"features_0", "features_1", "features_2", "features_3", "features_pool"}) {
                long[] f = s.array(level).shape();
                assertArrayEquals(new long[] {n, c.config().fpnChannels(), (images[2] + stride - 1) / stride,
                    (images[3] + stride - 1) / stride}, f, where + level);
                stride *= 2;
            }
            long proposals = 0;
            for (int i = 0; i < n; i++) {
                long[] p = s.array("proposals_" + i).shape();
                assertEquals(2, p.length);
                assertEquals(4, p[1]);
                assertTrue(p[0] > 0 && p[0] <= c.config().rpnPostNmsTopN());
                proposals += p[0];
            }
            assertArrayEquals(new long[] {proposals, classes}, s.array("class_logits").shape(), where + "class_logits");
            assertArrayEquals(new long[] {proposals, 4L * classes}, s.array("box_regression").shape(), where + "box_regression");
            for (int i = 0; i < n; i++) {
                int d = s.array("scores_" + i).dim(0);
                assertTrue(d > 0, where + "image " + i + " has detections");
                assertArrayEquals(new long[] {d, 4}, s.array("boxes_" + i).shape());
                assertEquals("i64", s.array("labels_" + i).dtype());
                assertArrayEquals(new long[] {d, 1, 28, 28}, s.array("mask_probs_" + i).shape());
                int[] size = c.imageSize(idx[i]);
                assertArrayEquals(new long[] {d, 4}, s.array("final_boxes_" + i).shape());
                assertArrayEquals(new long[] {d}, s.array("final_scores_" + i).shape());
                assertArrayEquals(s.array("labels_" + i).longs(), s.array("final_labels_" + i).longs());
                assertArrayEquals(new long[] {d, size[0], size[1]}, s.array("final_masks_" + i).shape());
                for (long label : s.array("final_labels_" + i).longs()) {
                    assertTrue(label >= 1 && label < classes, where + "label " + label);
                }
                // The reference against itself passes the matcher (a sanity check of both).
                DetectionMatcher.Detections ref = DetectionMatcher.Detections.finalOf(s, i);
                new DetectionMatcher().add(ref, ref).assertParity();
            }
        }
        assertFalse(c.fitness().isEmpty());
        assertEquals(Boolean.TRUE, c.fitness().get("fit"), name + " was generated fit");
    }
}
