"""Goldens for NMS, batched NMS and Soft-NMS (nms), from torchvision 0.14.1 / torch 1.13.1.

Run with Debian's python: /usr/bin/python3 tools/goldens/gen_nms.py

Oracle facts this file relies on (checked below where they can be):
- Rank = score descending, ties broken by the lower index first. torchvision.ops.nms on
  the CPU agrees: its C++ sort of the scores is stable (checked by every tie case here,
  up to 100000 tied scores while writing this file). Python's Tensor.sort(descending=True)
  in torch 1.13 is NOT stable above 16 elements, and batched_nms's per-class path
  (n > 1000) merges the classes with it, so there torchvision orders tied kept boxes in an
  implementation-defined way. Batched goldens therefore come from torchvision's
  batched_nms run on the scores replaced by their rank under our rule (distinct values,
  same boxes and classes: the suppression, IoU and threshold are still torchvision's);
  param tv_raw_equal records whether the raw call happened to agree.
- IoU is float32 ((x2-x1)*(y2-y1) areas, no +1), compared as a double with the double
  threshold: suppressed when iou > threshold. Params hold the threshold as a double; the
  Java op passes the largest float <= it to the native code, which compares the same way.
- batched_nms uses the coordinate-offset trick when boxes.numel() <= 4000 (n <= 1000) and
  one nms per class above; the shifted coordinates round differently, and case
  batched_trick_rounding pins a pair where the two disagree (we return what torchvision
  returns: the trick).
- torchvision has no top-k cap and no Soft-NMS: the capped golden is torchvision's result
  truncated; Soft-NMS is checked against soft_nms_reference below (Bodla et al. 2017, as
  defined in native/include/mrcnn/nms.h), a straightforward numpy loop in float32 whose
  selection order is also required to be the same in float64 (so no case sits on a tie
  that rounding could flip).

Case arrays: boxes [n,4] f32, scores [n] f32, (idxs [n] i64 for batched), keep_<k> [m] i64
for the thresholds iou_<k> (params), or for soft: keep [m] i64 and kept_scores [m] f32.
Params: kind (nms | batched | soft), num_thresholds, iou_<k>, max_keep (0 = no cap),
tv_raw_equal; soft: method (1 linear, 2 gaussian), iou_threshold, sigma, score_threshold.
"""
import os
import sys

import numpy as np
import torch
from torchvision.ops import batched_nms, nms
from torchvision.ops import boxes as box_ops

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

IMG_H, IMG_W = 800, 1216
THRESHOLDS = (0.0, 0.3, 0.5, 0.7, 1.0)


# ---- inputs (the same idea as shared/peers/micro_ops.py) -------------------------------------
def rand_boxes(n, g, min_side=16.0, max_side=600.0):
    """Boxes inside the image with log-uniform sides."""
    lo, hi = np.log(min_side), np.log(max_side)
    side = torch.exp(torch.empty(n, 2).uniform_(lo, hi, generator=g))
    wh = torch.minimum(side, torch.tensor([IMG_W - 1.0, IMG_H - 1.0]))
    x0 = torch.rand(n, generator=g) * (IMG_W - wh[:, 0])
    y0 = torch.rand(n, generator=g) * (IMG_H - wh[:, 1])
    return torch.stack([x0, y0, x0 + wh[:, 0], y0 + wh[:, 1]], 1).float()


def clustered_boxes(n, g, per_cluster=8, jitter=0.15):
    """n boxes in clusters of ~per_cluster jittered copies: realistic overlap."""
    centers = rand_boxes((n + per_cluster - 1) // per_cluster, g)
    b = centers.repeat_interleave(per_cluster, 0)[:n]
    wh = (b[:, 2:] - b[:, :2]).repeat(1, 2)
    b = b + jitter * wh * torch.randn(n, 4, generator=g)
    b[:, 2:] = torch.maximum(b[:, 2:], b[:, :2] + 1)
    return b.float()


# ---- references ----------------------------------------------------------------------------
def stable_rank_scores(scores):
    """Distinct float scores with the same order as (score desc, index asc)."""
    n = scores.numel()
    order = np.lexsort((np.arange(n), -scores.numpy().astype(np.float64)))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n)
    return torch.from_numpy((n - rank).astype(np.float32))


def iou_f32(box, others):
    """IoU of one box against many in float32, torchvision's formula and evaluation order."""
    area_a = (box[2] - box[0]) * (box[3] - box[1])
    area_b = (others[:, 2] - others[:, 0]) * (others[:, 3] - others[:, 1])
    w = np.maximum(np.float32(0), np.minimum(box[2], others[:, 2]) - np.maximum(box[0], others[:, 0]))
    h = np.maximum(np.float32(0), np.minimum(box[3], others[:, 3]) - np.maximum(box[1], others[:, 1]))
    inter = w * h
    with np.errstate(invalid="ignore", divide="ignore"):
        return inter / (area_a + area_b - inter)


def nms_reference(boxes, scores, thr):
    """Plain greedy NMS in numpy (rank: score desc, index asc); a cross-check only."""
    b = boxes.numpy().astype(np.float32)
    n = b.shape[0]
    order = np.lexsort((np.arange(n), -scores.numpy().astype(np.float64)))
    alive = np.ones(n, dtype=bool)
    keep = []
    for pos, i in enumerate(order):
        if not alive[i]:
            continue
        keep.append(i)
        rest = order[pos + 1:]
        o = iou_f32(b[i], b[rest]).astype(np.float64)
        alive[rest[o > thr]] = False
    return np.array(keep, dtype=np.int64)


def soft_nms_reference(boxes, scores, method, iou_thr, sigma, score_thr, max_keep, dtype):
    """Soft-NMS as defined in native/include/mrcnn/nms.h, in `dtype` arithmetic."""
    b = boxes.numpy().astype(dtype)
    s = scores.numpy().astype(dtype).copy()
    sigma, score_thr = dtype(sigma), dtype(score_thr)
    alive = s >= score_thr
    keep, kept = [], []
    while alive.any() and (max_keep <= 0 or len(keep) < max_keep):
        cand = np.nonzero(alive)[0]
        best = cand[np.lexsort((cand, -s[cand].astype(np.float64)))[0]]
        keep.append(best)
        kept.append(s[best])
        alive[best] = False
        rest = np.nonzero(alive)[0]
        if rest.size == 0:
            break
        area_a = (b[best, 2] - b[best, 0]) * (b[best, 3] - b[best, 1])
        area_b = (b[rest, 2] - b[rest, 0]) * (b[rest, 3] - b[rest, 1])
        w = np.maximum(dtype(0), np.minimum(b[best, 2], b[rest, 2]) - np.maximum(b[best, 0], b[rest, 0]))
        h = np.maximum(dtype(0), np.minimum(b[best, 3], b[rest, 3]) - np.maximum(b[best, 1], b[rest, 1]))
        inter = w * h
        with np.errstate(invalid="ignore", divide="ignore"):
            o = inter / (area_a + area_b - inter)
        o = np.where(o > 0, o, dtype(0))  # NaN (two zero-area boxes) counts as no overlap
        if method == 1:
            wgt = np.where(o.astype(np.float64) > iou_thr, dtype(1) - o, dtype(1))
        else:
            wgt = np.exp(-(o * o) / sigma)
        s[rest] = s[rest] * wgt.astype(dtype)
        alive[rest] = s[rest] >= score_thr
    return np.array(keep, dtype=np.int64), np.array(kept, dtype=np.float32)


# ---- cases ---------------------------------------------------------------------------------
class Cases:
    def __init__(self):
        self.w = GoldenWriter("nms")
        self.raw_disagreements = 0

    def _rank_input(self, scores):
        ties = torch.unique(scores).numel() != scores.numel()
        return (stable_rank_scores(scores) if ties else scores), ties

    def nms(self, name, boxes, scores, thresholds=THRESHOLDS, max_keep=0):
        """torchvision.ops.nms itself; it must equal the rank-score run and the numpy loop."""
        boxes, scores = boxes.float().contiguous(), scores.float().contiguous()
        ranked, ties = self._rank_input(scores)
        params = {"kind": "nms", "num_thresholds": len(thresholds), "max_keep": max_keep}
        arrays = {"boxes": boxes, "scores": scores}
        for k, t in enumerate(thresholds):
            keep = nms(boxes, scores, t)
            assert torch.equal(keep, nms(boxes, ranked, t)), f"{name}: torchvision's nms is not stable on ties"
            assert np.array_equal(nms_reference(boxes, scores, t), keep.numpy()), f"{name}: numpy reference differs"
            if max_keep > 0:
                keep = keep[:max_keep]
            params[f"iou_{k}"] = float(t)
            arrays[f"keep_{k}"] = keep
        params["tv_raw_equal"] = True
        self.w.case(name, params=params, arrays=arrays)

    def batched(self, name, boxes, scores, idxs, thresholds=(0.5, 0.7), max_keep=0, expect_path=None):
        boxes, scores, idxs = boxes.float().contiguous(), scores.float().contiguous(), idxs.long().contiguous()
        ranked, ties = self._rank_input(scores)
        params = {"kind": "batched", "num_thresholds": len(thresholds), "max_keep": max_keep}
        arrays = {"boxes": boxes, "scores": scores, "idxs": idxs}
        raw_equal = True
        for k, t in enumerate(thresholds):
            keep = batched_nms(boxes, ranked, idxs, t)
            raw = batched_nms(boxes, scores, idxs, t)
            raw_equal = raw_equal and torch.equal(raw, keep)
            if not ties:
                assert torch.equal(raw, keep)
            if expect_path is not None:
                assert (boxes.numel() <= 4000) == (expect_path == "trick")
            if max_keep > 0:
                keep = keep[:max_keep]
            params[f"iou_{k}"] = float(t)
            arrays[f"keep_{k}"] = keep
        params["tv_raw_equal"] = raw_equal
        self.raw_disagreements += 0 if raw_equal else 1
        self.w.case(name, params=params, arrays=arrays)
        return raw_equal

    def soft(self, name, boxes, scores, method, iou_thr=0.3, sigma=0.5, score_thr=0.001, max_keep=0):
        boxes, scores = boxes.float().contiguous(), scores.float().contiguous()
        sigma, score_thr = float(np.float32(sigma)), float(np.float32(score_thr))
        keep, kept = soft_nms_reference(boxes, scores, method, iou_thr, sigma, score_thr, max_keep, np.float32)
        keep64, kept64 = soft_nms_reference(boxes, scores, method, iou_thr, sigma, score_thr, max_keep, np.float64)
        assert np.array_equal(keep, keep64), f"{name}: float32 and float64 selections differ (a near tie)"
        assert np.allclose(kept, kept64, rtol=1e-5, atol=1e-7), f"{name}: float32 scores drift"
        self.w.case(name, params={"kind": "soft", "method": method, "iou_threshold": float(iou_thr), "sigma": sigma,
                                  "score_threshold": score_thr, "max_keep": max_keep},
                    arrays={"boxes": boxes, "scores": scores, "keep": keep, "kept_scores": kept})


def exact_iou_boxes():
    """Pairs whose float IoU is exactly 0.5, fl(0.3) (> 0.3 as a double) and fl(0.7) (< 0.7)."""
    b = [[0, 0, 2, 1], [0, 0, 1, 1],            # 1/2
         [10, 0, 20, 1], [10, 0, 13, 1],        # 3/10 -> 0.300000012
         [30, 0, 40, 1], [30, 0, 37, 1],        # 7/10 -> 0.699999988
         [50, 0, 51, 1], [50, 0, 51, 1]]        # identical: 1
    s = [0.9, 0.8, 0.7, 0.6, 0.5, 0.4, 0.3, 0.2]
    return torch.tensor(b, dtype=torch.float32), torch.tensor(s, dtype=torch.float32)


def zero_area_boxes(g):
    base = rand_boxes(20, g)
    zw = base.clone(); zw[:, 2] = zw[:, 0]           # zero width
    zh = base.clone(); zh[:, 3] = zh[:, 1]           # zero height
    pt = base.clone(); pt[:, 2:] = pt[:, :2]         # points
    dup = pt[:5].clone()                             # identical zero-area boxes (0/0 IoU)
    b = torch.cat([base[:10], zw[:10], zh[:10], pt[:10], dup])
    perm = torch.randperm(b.shape[0], generator=g)
    return b[perm], torch.rand(b.shape[0], generator=g)


def main():
    g = torch.Generator().manual_seed(20241124)
    c = Cases()

    # Random boxes (no ties) at the sizes, every threshold.
    for n in (1, 5, 100, 1000):
        c.nms(f"random_{n}", rand_boxes(n, g), torch.rand(n, generator=g))
    c.nms("empty", torch.zeros(0, 4), torch.zeros(0))
    # Heavy overlap: realistic clusters, and very tight clusters of 30.
    c.nms("clustered_1000", clustered_boxes(1000, g), torch.rand(1000, generator=g))
    c.nms("tight_clusters_300", clustered_boxes(300, g, per_cluster=30, jitter=0.04), torch.rand(300, generator=g))
    # Ties: few distinct scores over overlapping boxes; exact duplicate boxes with equal
    # scores; a small tie case (n <= 16) where torchvision's raw sort is stable.
    b = clustered_boxes(400, g, per_cluster=10, jitter=0.08)
    s = torch.randint(0, 4, (400,), generator=g).float() * 0.25
    c.nms("tied_scores_400", b, s)
    base = clustered_boxes(60, g, per_cluster=4, jitter=0.1)
    bs = torch.rand(60, generator=g)
    dup = torch.cat([base, base, base])[torch.randperm(180, generator=g)]
    # scores follow the box: exact duplicates of (box, score); plus a few equal scores across boxes
    keyed = {tuple(r.tolist()): float(v) for r, v in zip(base, (bs * 8).floor() / 8)}
    ds = torch.tensor([keyed[tuple(r.tolist())] for r in dup], dtype=torch.float32)
    c.nms("duplicate_boxes_and_scores_180", dup, ds)
    small = clustered_boxes(12, g, per_cluster=6, jitter=0.05)
    c.nms("tied_scores_small_12", small, torch.tensor([0.5, 0.5, 0.9, 0.5, 0.9, 0.1] * 2))
    # Zero-area boxes and exact-IoU pairs at the thresholds.
    zb, zs = zero_area_boxes(g)
    c.nms("zero_area_45", zb, zs)
    eb, es = exact_iou_boxes()
    c.nms("exact_iou_pairs", eb, es, thresholds=(0.3, 0.5, 0.7, 1.0, 0.29999998, 0.30000001192092896))
    # Top-k cap (torchvision has none: its result truncated).
    c.nms("clustered_1000_top100", clustered_boxes(1000, g), torch.rand(1000, generator=g), thresholds=(0.5, 0.7),
          max_keep=100)
    c.nms("clustered_200_top1", clustered_boxes(200, g), torch.rand(200, generator=g), thresholds=(0.7,), max_keep=1)

    # Batched: 3 and 91 classes, both of torchvision's paths (trick for n <= 1000).
    for n, k, path in ((300, 3, "trick"), (1050, 3, "per_class"), (800, 91, "trick"), (1100, 91, "per_class")):
        bb = clustered_boxes(n, g)
        c.batched(f"batched_{k}cls_{n}", bb, torch.rand(n, generator=g), torch.randint(0, k, (n,), generator=g),
                  expect_path=path)
    bb = clustered_boxes(500, g, per_cluster=10, jitter=0.08)
    c.batched("batched_tied_scores_500", bb, torch.randint(0, 3, (500,), generator=g).float() / 2,
              torch.randint(0, 3, (500,), generator=g), expect_path="trick")
    bb = clustered_boxes(1100, g, per_cluster=10, jitter=0.08)
    raw_eq = c.batched("batched_tied_scores_1100", bb, torch.randint(0, 3, (1100,), generator=g).float() / 2,
                       torch.randint(0, 5, (1100,), generator=g), expect_path="per_class")
    c.batched("batched_3cls_1050_top50", clustered_boxes(1050, g), torch.rand(1050, generator=g),
              torch.randint(0, 3, (1050,), generator=g), thresholds=(0.7,), max_keep=50)
    c.batched("batched_empty", torch.zeros(0, 4), torch.zeros(0), torch.zeros(0, dtype=torch.int64))
    trick_case(c, g)

    # Soft-NMS vs the numpy reference.
    sb = clustered_boxes(200, g)
    ss = torch.rand(200, generator=g)
    c.soft("soft_linear_200", sb, ss, method=1, iou_thr=0.3)
    c.soft("soft_gaussian_200", sb, ss, method=2, sigma=0.5)
    c.soft("soft_gaussian_200_thr0.1_top20", sb, ss, method=2, sigma=0.5, score_thr=0.1, max_keep=20)
    c.soft("soft_linear_tight_150", clustered_boxes(150, g, per_cluster=30, jitter=0.04),
           torch.rand(150, generator=g), method=1, iou_thr=0.5, score_thr=0.05)
    zb, zs = zero_area_boxes(g)
    c.soft("soft_gaussian_zero_area_45", zb, zs, method=2, sigma=0.3)
    db = torch.cat([sb[:20], sb[:20]])
    c.soft("soft_linear_duplicates_40", db, torch.cat([ss[:20], ss[:20]]), method=1, iou_thr=0.5)
    c.soft("soft_empty", torch.zeros(0, 4), torch.zeros(0), method=2)

    c.w.save()
    print(f"batched ties: torchvision's raw order agreed with 'lower index first' on batched_tied_scores_1100: "
          f"{raw_eq}; batched cases where it did not: {c.raw_disagreements}", file=sys.stderr)


def trick_case(c, g):
    """A batched case where torchvision's coordinate trick (what it runs for n <= 1000) and
    per-class NMS disagree. With max coordinate 100 and class 1000 the offset is 101000,
    where floats are 1/128 apart: box B = [0, 0, 10, 5.003] inside A = [0, 0, 10, 10] has
    IoU 0.5003 > 0.5 (per class: suppressed), but shifted, 5.003 rounds to 5 and the IoU
    is exactly 0.5 (not > 0.5: kept). torchvision returns the trick's answer, and so do we."""
    b = clustered_boxes(40, g) * (100.0 / IMG_W)
    b[0] = torch.tensor([0.0, 0.0, 100.0, 100.0])
    special = torch.tensor([[0, 0, 10, 10], [0, 0, 10, 5.003], [20, 20, 30, 30], [20, 20, 30, 25.002]])
    b = torch.cat([b, special]).float()
    s = torch.rand(b.shape[0], generator=g)
    s[-4:] = torch.tensor([0.99, 0.98, 0.97, 0.96])
    idxs = torch.randint(995, 1001, (b.shape[0],), generator=g)
    idxs[-4:] = torch.tensor([1000, 1000, 999, 999])
    trick = batched_nms(b, s, idxs, 0.5)
    vanilla = box_ops._batched_nms_vanilla(b, s, idxs, 0.5)
    assert not torch.equal(trick, vanilla), "the coordinate trick should change this result"
    c.batched("batched_trick_rounding", b, s, idxs, thresholds=(0.5,), expect_path="trick")


if __name__ == "__main__":
    main()
