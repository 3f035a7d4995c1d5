"""Golden cases for box_filter: torchvision 0.14's box_ops.remove_small_boxes and the score
thresholds of the RPN (filter_proposals: remove_small_boxes, then `scores >= score_thresh`)
and RoIHeads (postprocess_detections: `scores > score_thresh`, then remove_small_boxes),
in torchvision's own order, as the oracle.

Each case stores boxes [N, 4], scores [N] and keep [K] (int64 indices into the input, in
order); params min_size, score_thresh (the Python floats torchvision uses; torch compares in
float32), strict (true: `>`), and has_scores (false: remove_small_boxes only). Covers boxes
and scores exactly at the thresholds (the float32 values of 1e-3, 1e-2, 0.05), zero and
negative widths, NaN coordinates and scores, and an empty input.

Run: /usr/bin/python3 tools/goldens/gen_box_filter.py
"""
import os
import sys

import torch
from torchvision.ops import boxes as box_ops

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402


def rpn_keep(boxes, scores, min_size, thresh):
    idx = torch.arange(boxes.shape[0])
    keep = box_ops.remove_small_boxes(boxes, min_size)
    boxes, scores, idx = boxes[keep], scores[keep], idx[keep]
    keep = torch.where(scores >= thresh)[0]
    return idx[keep]


def roi_heads_keep(boxes, scores, min_size, thresh):
    idx = torch.arange(boxes.shape[0])
    inds = torch.where(scores > thresh)[0]
    boxes, scores, idx = boxes[inds], scores[inds], idx[inds]
    keep = box_ops.remove_small_boxes(boxes, min_size=min_size)
    return idx[keep]


def make_boxes(g, n, min_size, thresh):
    x1 = torch.rand(n, generator=g) * 100
    y1 = torch.rand(n, generator=g) * 100
    w = torch.rand(n, generator=g) * 4 * min_size * 10
    h = torch.rand(n, generator=g) * 4 * min_size * 10
    pick = torch.randint(0, 12, (n,), generator=g)
    w[pick == 0] = 0.0
    h[pick == 1] = -1.0
    boxes = torch.stack([x1, y1, x1 + w, y1 + h], dim=1)
    # exactly at min_size after the subtraction: x1 = 0 makes x2 - x1 = x2
    at = (pick == 2).nonzero().flatten()
    boxes[at, 0] = 0.0
    boxes[at, 2] = torch.tensor(min_size, dtype=torch.float32)
    boxes[pick == 3, 3] = float("nan")
    scores = torch.sigmoid(torch.randn(n, generator=g) * 3)
    scores[pick == 4] = torch.tensor(thresh, dtype=torch.float32)
    scores[pick == 5] = float("nan")
    return boxes, scores


def main():
    g = torch.Generator().manual_seed(20240615)
    w = GoldenWriter("box_filter")

    def add(name, boxes, scores, min_size, thresh, strict, has_scores=True):
        if not has_scores:
            keep = box_ops.remove_small_boxes(boxes, min_size)
        elif strict:
            keep = roi_heads_keep(boxes, scores, min_size, thresh)
        else:
            keep = rpn_keep(boxes, scores, min_size, thresh)
        w.case(name, params={"min_size": min_size, "score_thresh": thresh, "strict": strict,
                             "has_scores": has_scores},
               arrays={"boxes": boxes, "scores": scores, "keep": keep.to(torch.int64)})

    b, s = make_boxes(g, 1500, 1e-3, 0.0)
    add("rpn_min_size_1e-3_score_ge_0", b, s, 1e-3, 0.0, False)
    b, s = make_boxes(g, 1000, 1e-3, 0.5)
    add("rpn_score_ge_0.5", b, s, 1e-3, 0.5, False)
    b, s = make_boxes(g, 1200, 1e-2, 0.05)
    add("roi_heads_min_size_1e-2_score_gt_0.05", b, s, 1e-2, 0.05, True)
    add("roi_heads_same_boxes_ge", b, s, 1e-2, 0.05, False)
    add("remove_small_boxes_only", b, s, 1e-2, 0.0, False, has_scores=False)
    add("empty", torch.zeros(0, 4), torch.zeros(0), 1e-3, 0.0, False)
    w.save()


if __name__ == "__main__":
    main()
