package dev.maskrcnn4j.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.maskrcnn4j.testing.DetectionMatcher.Detections;
import org.junit.jupiter.api.Test;

/** The parity matcher on hand-made detections: 10x10 masks, boxes in pixel units. */
class DetectionMatcherTest {
    private static final int H = 10;
    private static final int W = 10;

    /** A mask filled inside [x1, x2) x [y1, y2). */
    private static byte[] rect(int x1, int y1, int x2, int y2) {
        byte[] m = new byte[H * W];
        for (int y = y1; y < y2; y++) {
            for (int x = x1; x < x2; x++) {
                m[y * W + x] = 1;
            }
        }
        return m;
    }

    /** Five well separated detections of labels 1..5, scores 0.9 down to 0.5. */
    private static Detections five() {
        float[] boxes = new float[5 * 4];
        float[] scores = new float[5];
        long[] labels = new long[5];
        byte[][] masks = new byte[5][];
        for (int i = 0; i < 5; i++) {
            boxes[4 * i] = 100 * i;
            boxes[4 * i + 1] = 10;
            boxes[4 * i + 2] = 100 * i + 50;
            boxes[4 * i + 3] = 60;
            scores[i] = 0.9f - 0.1f * i;
            labels[i] = i + 1;
            masks[i] = rect(i, 0, i + 5, 8);
        }
        return Detections.of(boxes, scores, labels, masks);
    }

    private static Detections copy(Detections d) {
        byte[][] m = new byte[d.size()][];
        for (int i = 0; i < m.length; i++) {
            m[i] = d.masks()[i].clone();
        }
        return Detections.of(d.boxes().clone(), d.scores().clone(), d.labels().clone(), m);
    }

    @Test
    void identicalDetectionsMatchExactly() {
        DetectionMatcher m = new DetectionMatcher().add(five(), five());
        assertEquals(5, m.matchedCount());
        assertEquals(0, m.extraCount());
        assertEquals(1.0, m.worstBoxIou());
        assertEquals(0.0, m.worstScoreDiff());
        assertEquals(1.0, m.worstMaskIou());
        assertTrue(m.passes(), m::toString);
        m.assertParity();
    }

    @Test
    void orderOfOurDetectionsDoesNotMatter() {
        Detections ref = five();
        Detections ours = five();
        int[] perm = {3, 0, 4, 2, 1};
        float[] b = new float[20];
        float[] s = new float[5];
        long[] l = new long[5];
        byte[][] k = new byte[5][];
        for (int i = 0; i < 5; i++) {
            System.arraycopy(ours.boxes(), 4 * perm[i], b, 4 * i, 4);
            s[i] = ours.scores()[perm[i]];
            l[i] = ours.labels()[perm[i]];
            k[i] = ours.masks()[perm[i]];
        }
        assertEquals(5, new DetectionMatcher().add(ref, Detections.of(b, s, l, k)).matchedCount());
    }

    @Test
    void smallDifferencesWithinTolerancesMatch() {
        Detections ours = copy(five());
        ours.boxes()[2] += 0.2f; // IoU 50x50 vs 50.2x50: 0.996
        ours.scores()[1] += 9e-4f;
        DetectionMatcher m = new DetectionMatcher().add(five(), ours);
        assertEquals(5, m.matchedCount(), m::toString);
        assertTrue(m.worstBoxIou() < 1 && m.worstBoxIou() > 0.99);
        assertEquals(9e-4, m.worstScoreDiff(), 1e-6);
    }

    @Test
    void shiftedBoxIsUnmatchedAndExtra() {
        Detections ours = copy(five());
        ours.boxes()[4] += 2; // image 0 detection 1 shifted right by 2 of 50: IoU 48/52 = 0.923
        ours.boxes()[6] += 2;
        DetectionMatcher m = new DetectionMatcher().add(five(), ours);
        assertEquals(4, m.matchedCount());
        assertEquals(1, m.extraCount());
        assertFalse(m.passes());
        assertTrue(m.unmatched().get(0).contains("box IoU 0.92"), m::toString);
        AssertionError e = assertThrows(AssertionError.class, m::assertParity);
        assertTrue(e.getMessage().contains("4 of 5"), e.getMessage());
    }

    @Test
    void swappedLabelIsUnmatched() {
        Detections ours = copy(five());
        ours.labels()[2] = 7;
        DetectionMatcher m = new DetectionMatcher().add(five(), ours);
        assertEquals(4, m.matchedCount());
        assertEquals(1, m.extraCount());
        assertTrue(m.unmatched().get(0).contains("no unused detection with that label"), m::toString);
        assertTrue(m.extras().get(0).contains("label 7"), m::toString);
    }

    @Test
    void scoreOrMaskOutsideToleranceIsUnmatched() {
        Detections ours = copy(five());
        ours.scores()[0] -= 2e-3f;
        ours.masks()[4] = rect(4, 0, 9, 7); // 35/40 = 0.875
        DetectionMatcher m = new DetectionMatcher().add(five(), ours);
        assertEquals(3, m.matchedCount());
        String report = m.toString();
        assertTrue(report.contains("score diff 2.00e-03"), report);
        assertTrue(report.contains("mask IoU 0.8750"), report);
    }

    @Test
    void duplicateOfOursCountsAsExtra() {
        Detections ref = five();
        Detections ours = five();
        float[] b = java.util.Arrays.copyOf(ours.boxes(), 24);
        System.arraycopy(ours.boxes(), 0, b, 20, 4);
        float[] s = java.util.Arrays.copyOf(ours.scores(), 6);
        s[5] = ours.scores()[0];
        long[] l = java.util.Arrays.copyOf(ours.labels(), 6);
        l[5] = ours.labels()[0];
        byte[][] k = java.util.Arrays.copyOf(ours.masks(), 6);
        k[5] = ours.masks()[0];
        DetectionMatcher m = new DetectionMatcher().add(ref, Detections.of(b, s, l, k));
        assertEquals(5, m.matchedCount());
        assertEquals(1, m.extraCount(), m::toString);
        assertFalse(m.passes(), "1 extra of 5 is more than 2%");
    }

    @Test
    void fractionsAggregateOverImages() {
        // 50 reference detections over 10 images: one unmatched (98%) and one extra (2%) still pass.
        DetectionMatcher m = new DetectionMatcher();
        for (int img = 0; img < 10; img++) {
            Detections ours = copy(five());
            if (img == 3) {
                ours.labels()[4] = 9; // unmatched reference label 5 and an extra label 9
            }
            m.add(five(), ours);
        }
        assertEquals(50, m.referenceCount());
        assertEquals(49, m.matchedCount());
        assertEquals(1, m.extraCount());
        assertEquals(0.98, m.matchedFraction(), 1e-12);
        assertTrue(m.passes(), m::toString);
        m.assertParity();
    }

    @Test
    void emptySets() {
        Detections none = Detections.of(new float[0], new float[0], new long[0], new byte[0][]);
        DetectionMatcher both = new DetectionMatcher().add(none, none);
        assertTrue(both.passes());
        assertEquals(1.0, both.matchedFraction());
        DetectionMatcher oursEmpty = new DetectionMatcher().add(five(), none);
        assertEquals(0, oursEmpty.matchedCount());
        assertEquals(5, oursEmpty.unmatched().size());
        assertFalse(oursEmpty.passes());
        DetectionMatcher refEmpty = new DetectionMatcher().add(none, five());
        assertEquals(5, refEmpty.extraCount());
        assertFalse(refEmpty.passes());
    }

    @Test
    void greedyInReferenceScoreOrderTakesTheBestBox() {
        // Two reference boxes of one label; ours holds both. The higher-scored reference takes its
        // own box (IoU 1), not the other one that also passes the IoU criterion.
        float[] ref = {0, 0, 100, 100, 0, 0, 100.3f, 100};
        float[] ours = {0, 0, 100.3f, 100, 0, 0, 100, 100};
        Detections r = Detections.of(ref, new float[] {0.8f, 0.8f}, new long[] {1, 1}, null);
        Detections o = Detections.of(ours, new float[] {0.8f, 0.8f}, new long[] {1, 1}, null);
        DetectionMatcher m = new DetectionMatcher().add(r, o);
        assertEquals(2, m.matchedCount());
        assertEquals(1.0, DetectionMatcher.boxIou(ref, 0, ours, 1));
    }

    @Test
    void masksAsOneArray() {
        byte[] all = new byte[2 * H * W];
        System.arraycopy(rect(0, 0, 5, 5), 0, all, 0, H * W);
        System.arraycopy(rect(5, 5, 10, 10), 0, all, H * W, H * W);
        Detections d = Detections.of(new float[8], new float[2], new long[2], all, H, W);
        assertEquals(1.0, DetectionMatcher.maskIou(d.masks()[1], rect(5, 5, 10, 10)));
        assertEquals(0.0, DetectionMatcher.maskIou(d.masks()[0], d.masks()[1]));
        assertThrows(IllegalArgumentException.class, () -> Detections.of(new float[4], new float[2], new long[2], null));
    }
}
