package dev.maskrcnn4j.testing;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;

/**
 * Matches our detections to torchvision's under the parity criteria: a reference detection is
 * matched by one of ours with the same label, box IoU &gt;= 0.99, |score difference| &lt;= 1e-3 and
 * (when masks are given) mask IoU &gt;= 0.98. Matching is one-to-one and greedy in the reference's
 * score order: each reference detection takes the unused detection of its label with the highest
 * box IoU among those meeting every criterion. A case passes when at least 98% of the reference
 * detections are matched and at most 2% (of the reference count) of ours are left over.
 *
 * <p>Inputs are plain arrays so that the matcher does not depend on the model's classes. The same
 * logic is tools/parity/parity_match.py, which the generator uses to check its cases are fit
 * (keep the two in step). Add images one by one with {@link #add}; the report aggregates them.
 */
public final class DetectionMatcher {
    public static final double MIN_BOX_IOU = 0.99;
    public static final double MAX_SCORE_DIFF = 1e-3;
    public static final double MIN_MASK_IOU = 0.98;
    public static final double MIN_MATCHED_FRACTION = 0.98;
    public static final double MAX_EXTRA_FRACTION = 0.02;

    /**
     * The detections of one image: boxes {@code [D*4]} as (x1, y1, x2, y2), scores {@code [D]},
     * labels {@code [D]}, and binary masks (one {@code byte[height*width]} per detection, nonzero =
     * inside) or null to compare boxes only.
     */
    public record Detections(float[] boxes, float[] scores, long[] labels, byte[][] masks) {
        public Detections {
            if (boxes.length != 4 * scores.length || labels.length != scores.length
                    || (masks != null && masks.length != scores.length)) {
                throw new IllegalArgumentException("detections: " + boxes.length + " box values, " + scores.length + " scores, "
                        + labels.length + " labels" + (masks == null ? "" : ", " + masks.length + " masks")
                        + " do not describe the same detections");
            }
        }

        public static Detections of(float[] boxes, float[] scores, long[] labels, byte[][] masks) {
            return new Detections(boxes, scores, labels, masks);
        }

        /** With masks given as one {@code u8 [D, H, W]} array (as the stage goldens hold them). */
        public static Detections of(float[] boxes, float[] scores, long[] labels, byte[] masks, int height, int width) {
            int n = scores.length;
            if (masks.length != (long) n * height * width) {
                throw new IllegalArgumentException("masks: " + masks.length + " bytes for " + n + " masks of " + height + "x" + width);
            }
            byte[][] split = new byte[n][];
            for (int i = 0; i < n; i++) {
                split[i] = Arrays.copyOfRange(masks, i * height * width, (i + 1) * height * width);
            }
            return new Detections(boxes, scores, labels, split);
        }

        /** torchvision's final detections of image i of a stage golden ({@code final_*_<i>} arrays). */
        public static Detections finalOf(Golden.Case stages, int i) {
            Golden.Array m = stages.array("final_masks_" + i);
            return of(stages.array("final_boxes_" + i).floats(), stages.array("final_scores_" + i).floats(),
                    stages.array("final_labels_" + i).longs(), m.bytes(), m.dim(1), m.dim(2));
        }

        public int size() {
            return scores.length;
        }
    }

    private int reference;
    private int matched;
    private int extra;
    private double worstBoxIou = 1;
    private double worstScoreDiff;
    private double worstMaskIou = 1;
    private final List<String> unmatched = new ArrayList<>();
    private final List<String> extras = new ArrayList<>();
    private int images;

    /** Matches one image's detections (ours against torchvision's) and adds them to the report. */
    public DetectionMatcher add(Detections reference, Detections ours) {
        int image = images++;
        if ((reference.masks() == null) != (ours.masks() == null)) {
            throw new IllegalArgumentException("image " + image + ": masks given for only one side");
        }
        int n = reference.size();
        this.reference += n;
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Float.compare(reference.scores()[b], reference.scores()[a])); // stable
        boolean[] used = new boolean[ours.size()];
        for (int i : order) {
            int best = -1;
            double bestIou = -1;
            int near = -1;
            double nearIou = -1;
            for (int j = 0; j < ours.size(); j++) {
                if (used[j] || ours.labels()[j] != reference.labels()[i]) {
                    continue;
                }
                double iou = boxIou(reference.boxes(), i, ours.boxes(), j);
                if (iou > nearIou) {
                    near = j;
                    nearIou = iou;
                }
                if (iou < MIN_BOX_IOU || scoreDiff(reference, i, ours, j) > MAX_SCORE_DIFF) {
                    continue;
                }
                if (reference.masks() != null && maskIou(reference.masks()[i], ours.masks()[j]) < MIN_MASK_IOU) {
                    continue;
                }
                if (iou > bestIou) {
                    best = j;
                    bestIou = iou;
                }
            }
            if (best < 0) {
                String why;
                if (near < 0) {
                    why = "no unused detection with that label";
                } else {
                    why = String.format(Locale.ROOT, "nearest of that label (ours #%d) has box IoU %.4f, score diff %.2e", near,
                            nearIou, scoreDiff(reference, i, ours, near));
                    if (reference.masks() != null) {
                        why += String.format(Locale.ROOT, ", mask IoU %.4f", maskIou(reference.masks()[i], ours.masks()[near]));
                    }
                }
                unmatched.add(String.format(Locale.ROOT, "image %d ref #%d label %d score %.4f box %s: %s", image, i,
                        reference.labels()[i], reference.scores()[i], box(reference.boxes(), i), why));
                continue;
            }
            used[best] = true;
            matched++;
            worstBoxIou = Math.min(worstBoxIou, bestIou);
            worstScoreDiff = Math.max(worstScoreDiff, scoreDiff(reference, i, ours, best));
            if (reference.masks() != null) {
                worstMaskIou = Math.min(worstMaskIou, maskIou(reference.masks()[i], ours.masks()[best]));
            }
        }
        for (int j = 0; j < used.length; j++) {
            if (!used[j]) {
                extra++;
                extras.add(String.format(Locale.ROOT, "image %d ours #%d label %d score %.4f box %s", image, j,
                        ours.labels()[j], ours.scores()[j], box(ours.boxes(), j)));
            }
        }
        return this;
    }

    public int referenceCount() {
        return reference;
    }

    public int matchedCount() {
        return matched;
    }

    public int extraCount() {
        return extra;
    }

    /** Descriptions of the reference detections left unmatched, with why. */
    public List<String> unmatched() {
        return List.copyOf(unmatched);
    }

    /** Descriptions of our detections no reference detection took. */
    public List<String> extras() {
        return List.copyOf(extras);
    }

    /** Smallest box IoU among the matched pairs (1 when none). */
    public double worstBoxIou() {
        return worstBoxIou;
    }

    /** Largest |score difference| among the matched pairs. */
    public double worstScoreDiff() {
        return worstScoreDiff;
    }

    /** Smallest mask IoU among the matched pairs (1 when none or no masks). */
    public double worstMaskIou() {
        return worstMaskIou;
    }

    /** Matched / reference (1 for no reference detections). */
    public double matchedFraction() {
        return reference == 0 ? 1 : (double) matched / reference;
    }

    public boolean passes() {
        return matched >= MIN_MATCHED_FRACTION * reference - 1e-9 && extra <= MAX_EXTRA_FRACTION * reference + 1e-9;
    }

    /** Throws an AssertionError with the full report unless the criteria hold. */
    public void assertParity() {
        if (!passes()) {
            throw new AssertionError("detections do not match torchvision's: " + this);
        }
    }

    @Override
    public String toString() {
        StringBuilder b = new StringBuilder(String.format(Locale.ROOT,
                "%d of %d reference detections matched (%.2f%%, need %.0f%%), %d extra (allowed %d) over %d images; "
                        + "worst box IoU %.5f, score diff %.2e, mask IoU %.5f",
                matched, reference, 100 * matchedFraction(), 100 * MIN_MATCHED_FRACTION, extra,
                (int) Math.floor(MAX_EXTRA_FRACTION * reference + 1e-9), images, worstBoxIou, worstScoreDiff, worstMaskIou));
        appendList(b, "unmatched", unmatched);
        appendList(b, "extra", extras);
        return b.toString();
    }

    private static void appendList(StringBuilder b, String what, List<String> items) {
        int shown = Math.min(items.size(), 20);
        for (int i = 0; i < shown; i++) {
            b.append("\n  ").append(what).append(": ").append(items.get(i));
        }
        if (items.size() > shown) {
            b.append("\n  ... ").append(items.size() - shown).append(" more ").append(what);
        }
    }

    private static double scoreDiff(Detections a, int i, Detections b, int j) {
        return Math.abs((double) a.scores()[i] - (double) b.scores()[j]);
    }

    /** torchvision's box_iou (areas without +1), in double. */
    static double boxIou(float[] a, int i, float[] b, int j) {
        double ax1 = a[4 * i], ay1 = a[4 * i + 1], ax2 = a[4 * i + 2], ay2 = a[4 * i + 3];
        double bx1 = b[4 * j], by1 = b[4 * j + 1], bx2 = b[4 * j + 2], by2 = b[4 * j + 3];
        double inter = Math.max(0, Math.min(ax2, bx2) - Math.max(ax1, bx1)) * Math.max(0, Math.min(ay2, by2) - Math.max(ay1, by1));
        double union = (ax2 - ax1) * (ay2 - ay1) + (bx2 - bx1) * (by2 - by1) - inter;
        return union > 0 ? inter / union : 0;
    }

    /** |A and B| / |A or B| of two binary masks (nonzero = inside); 1 when both are empty. */
    static double maskIou(byte[] a, byte[] b) {
        if (a.length != b.length) {
            throw new IllegalArgumentException("masks of " + a.length + " and " + b.length + " pixels");
        }
        long inter = 0;
        long union = 0;
        for (int k = 0; k < a.length; k++) {
            boolean x = a[k] != 0;
            boolean y = b[k] != 0;
            inter += x && y ? 1 : 0;
            union += x || y ? 1 : 0;
        }
        return union == 0 ? 1 : (double) inter / union;
    }

    private static String box(float[] boxes, int i) {
        return String.format(Locale.ROOT, "[%.1f, %.1f, %.1f, %.1f]", boxes[4 * i], boxes[4 * i + 1], boxes[4 * i + 2],
                boxes[4 * i + 3]);
    }
}
