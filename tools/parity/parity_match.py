"""Detection matching under the parity criteria; the same logic as
src/test/java/dev/maskrcnn4j/testing/DetectionMatcher.java (keep them in step)."""
from dataclasses import dataclass

import numpy as np

MIN_BOX_IOU = 0.99
MAX_SCORE_DIFF = 1e-3
MIN_MASK_IOU = 0.98
MIN_MATCHED_FRACTION = 0.98
MAX_EXTRA_FRACTION = 0.02


@dataclass
class Detections:
    boxes: np.ndarray   # [D, 4] x1 y1 x2 y2
    scores: np.ndarray  # [D]
    labels: np.ndarray  # [D]
    masks: np.ndarray   # [D, H, W] bool, or None


def box_iou(a, b):
    a = [float(v) for v in a]
    b = [float(v) for v in b]
    area_a = (a[2] - a[0]) * (a[3] - a[1])
    area_b = (b[2] - b[0]) * (b[3] - b[1])
    w = min(a[2], b[2]) - max(a[0], b[0])
    h = min(a[3], b[3]) - max(a[1], b[1])
    inter = max(w, 0.0) * max(h, 0.0)
    union = area_a + area_b - inter
    return float(inter / union) if union > 0 else 0.0


def mask_iou(a, b):
    union = np.count_nonzero(a | b)
    return float(np.count_nonzero(a & b) / union) if union else 1.0


class Report:
    def __init__(self):
        self.reference = 0
        self.matched = 0
        self.extra = 0
        self.worst_box_iou = 1.0
        self.worst_score_diff = 0.0
        self.worst_mask_iou = 1.0
        self.unmatched = []
        self.pairs = []  # (reference index, our index) per match

    def add(self, other):
        self.reference += other.reference
        self.matched += other.matched
        self.extra += other.extra
        self.worst_box_iou = min(self.worst_box_iou, other.worst_box_iou)
        self.worst_score_diff = max(self.worst_score_diff, other.worst_score_diff)
        self.worst_mask_iou = min(self.worst_mask_iou, other.worst_mask_iou)
        self.unmatched += other.unmatched
        self.pairs += other.pairs

    def passes(self):
        return (self.matched >= MIN_MATCHED_FRACTION * self.reference - 1e-9
                and self.extra <= MAX_EXTRA_FRACTION * self.reference + 1e-9)

    def summary(self):
        return {"reference": self.reference, "matched": self.matched, "extra": self.extra,
                "matched_fraction": self.matched / self.reference if self.reference else 1.0,
                "worst_box_iou": self.worst_box_iou, "worst_score_diff": self.worst_score_diff,
                "worst_mask_iou": self.worst_mask_iou, "unmatched": self.unmatched[:10]}


def match(ref, ours):
    """One-to-one greedy matching in the reference's score order: each reference detection takes
    the unused detection of the same label with the highest box IoU among those meeting every
    criterion."""
    r = Report()
    r.reference = len(ref.scores)
    used = np.zeros(len(ours.scores), dtype=bool)
    for i in sorted(range(r.reference), key=lambda k: -float(ref.scores[k])):
        best, best_iou, near, near_iou = -1, -1.0, -1, -1.0
        for j in range(len(ours.scores)):
            if used[j] or int(ours.labels[j]) != int(ref.labels[i]):
                continue
            iou = box_iou(ref.boxes[i], ours.boxes[j])
            if iou > near_iou:
                near, near_iou = j, iou
            if iou < MIN_BOX_IOU or abs(float(ref.scores[i]) - float(ours.scores[j])) > MAX_SCORE_DIFF:
                continue
            if ref.masks is not None and mask_iou(ref.masks[i], ours.masks[j]) < MIN_MASK_IOU:
                continue
            if iou > best_iou:
                best, best_iou = j, iou
        if best < 0:
            why = "no unused detection of that label" if near < 0 else (
                f"nearest box IoU {near_iou:.4f}, score diff {abs(float(ref.scores[i]) - float(ours.scores[near])):.2e}"
                + ("" if ref.masks is None else f", mask IoU {mask_iou(ref.masks[i], ours.masks[near]):.4f}"))
            r.unmatched.append(f"label {int(ref.labels[i])} score {float(ref.scores[i]):.4f}: {why}")
            continue
        used[best] = True
        r.pairs.append((i, best))
        r.matched += 1
        r.worst_box_iou = min(r.worst_box_iou, best_iou)
        r.worst_score_diff = max(r.worst_score_diff, abs(float(ref.scores[i]) - float(ours.scores[best])))
        if ref.masks is not None:
            r.worst_mask_iou = min(r.worst_mask_iou, mask_iou(ref.masks[i], ours.masks[best]))
    r.extra = int((~used).sum())
    return r
