"""Goldens for RoIAlign (roi_align), from torchvision 0.14.1 / torch 1.13.1.

Run with Debian's python: /usr/bin/python3 tools/goldens/gen_roi_align.py

Two kinds of case (param `kind`):

single  torchvision.ops.roi_align(input, rois, (pooled_h, pooled_w), spatial_scale,
        sampling_ratio, aligned).
        arrays: input [N, C, H, W] f32 (NCHW, as torchvision), rois [K, 5] f32
                (batch index, x1, y1, x2, y2), output [K, C, pooled_h, pooled_w] f32
        params: pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned, max_samples

multi   torchvision.ops.MultiScaleRoIAlign(levels, (pooled_h, pooled_w), sampling_ratio)
        (canonical_scale 224, canonical_level 4, its LevelMapper eps 1e-6, aligned=False)
        called with one box list per image and the images' sizes.
        arrays: level0 .. level{L-1} [N, C, Hl, Wl] f32, rois [K, 5] f32 (the box lists
                concatenated with their image index, torchvision's own roi format and order),
                output [K, C, pooled_h, pooled_w] f32
        params: num_levels, pooled_h, pooled_w, sampling_ratio, image_h, image_w (the largest
                image height and width, from which torchvision infers the scales), and what it
                inferred: scale0 .. scale{L-1}, k_min, k_max; max_samples

max_samples is the largest sampling grid (grid_h * grid_w) over the case's rois; the Java
test derives its float32 summation-order tolerance from it.
"""
import math
import os
import sys
from collections import OrderedDict

import numpy as np
import torch
from torchvision.ops import MultiScaleRoIAlign, roi_align

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

g = torch.Generator().manual_seed(20240611)


def rnd(*shape):
    return torch.rand(*shape, generator=g) * 2 - 1


def max_samples(rois, scale, ph, pw, sr, aligned):
    """Largest grid_h * grid_w over rois, as torchvision's kernel computes it (float32)."""
    if sr > 0:
        return sr * sr
    best = 1
    s = np.float32(scale)
    off = np.float32(0.5 if aligned else 0.0)
    for r in rois.numpy().astype(np.float32):
        rw = (r[3] * s - off) - (r[1] * s - off)
        rh = (r[4] * s - off) - (r[2] * s - off)
        if not aligned:
            rw, rh = max(rw, np.float32(1)), max(rh, np.float32(1))
        gh, gw = math.ceil(rh / np.float32(ph)), math.ceil(rw / np.float32(pw))
        best = max(best, max(gh, 0) * max(gw, 0))
    return int(best)


def random_boxes(k, n, img_w, img_h, lo=-0.2, hi=1.2):
    """k boxes spread over [lo, hi] of the image (some partly outside), x1 <= x2, y1 <= y2."""
    p = torch.rand(k, 4, generator=g) * (hi - lo) + lo
    p = p * torch.tensor([img_w, img_h, img_w, img_h])
    x1, x2 = torch.minimum(p[:, 0], p[:, 2]), torch.maximum(p[:, 0], p[:, 2])
    y1, y2 = torch.minimum(p[:, 1], p[:, 3]), torch.maximum(p[:, 1], p[:, 3])
    b = torch.randint(0, n, (k,), generator=g).float()
    return torch.stack([b, x1, y1, x2, y2], 1)


def edge_boxes(n, img_w, img_h):
    """Boxes partly/wholly outside, negative, zero-area, exactly on the borders."""
    W, H = float(img_w), float(img_h)
    rows = [
        [0, 0, 0, W, H],                              # whole image
        [0, -0.3 * W, -0.2 * H, 0.4 * W, 0.5 * H],    # partly outside, negative coordinates
        [0, 1.2 * W, 1.1 * H, 1.5 * W, 1.6 * H],      # wholly outside (beyond the far edges)
        [0, -2 * W, -H, -1.2 * W, -0.5 * H],          # wholly outside (negative)
        [0, 0.5 * W, 0.5 * H, 0.5 * W, 0.5 * H],      # zero area (a point)
        [0, 0.2 * W, 0.3 * H, 0.2 * W, 0.8 * H],      # zero width
        [0, 0.8 * W, 0.7 * H, 1.3 * W, 1.2 * H],      # straddles the far corner
        [0, -0.5, -0.5, W - 0.5, H - 0.5],            # the aligned-pixel frame
        [0, 0, 0, W, H - 1],                          # integer border corners
        [0, 0.1 * W, 0.1 * H, 3 * W, 4 * H],          # huge (large adaptive grids)
    ]
    r = torch.tensor(rows, dtype=torch.float32)
    r[:, 0] = torch.arange(len(rows)) % n
    return r


def exact_edge_boxes(img_w, img_h):
    """With pooled 1x1 and sampling_ratio 1 (scale 1, not aligned) the single sample sits at
    the box centre: these put it exactly on -1, 0, H-1, H and just beyond (the rules'
    discontinuities)."""
    W, H = float(img_w), float(img_h)
    rows = []
    for cy in (-1.0, -1.0001, 0.0, H - 1, H, H + 0.001, 0.5 * H):
        for cx in (-1.0, 0.0, W, W + 0.0001, 0.5 * W):
            rows.append([0, cx - 1, cy - 1, cx + 1, cy + 1])
    return torch.tensor(rows, dtype=torch.float32)


w = GoldenWriter("roi_align")


def single(name, x, rois, ph, pw, scale, sr, aligned):
    out = roi_align(x, rois, (ph, pw), spatial_scale=scale, sampling_ratio=sr, aligned=aligned)
    w.case(name, params={"kind": "single", "pooled_h": ph, "pooled_w": pw, "spatial_scale": float(scale),
                         "sampling_ratio": sr, "aligned": aligned,
                         "max_samples": max_samples(rois, scale, ph, pw, sr, aligned)},
           arrays={"input": x, "rois": rois, "output": out})


# Every spatial scale x sampling ratio x aligned, on ragged maps with random boxes.
for scale in (1.0, 0.5, 0.25, 1 / 32):
    for sr in (0, 1, 2):
        for aligned in (False, True):
            h, wd = int(torch.randint(5, 14, (1,), generator=g)), int(torch.randint(5, 14, (1,), generator=g))
            c = int(torch.randint(1, 6, (1,), generator=g))
            x = rnd(1, c, h, wd)
            rois = random_boxes(9, 1, wd / scale, h / scale)
            ph, pw = int(torch.randint(1, 8, (1,), generator=g)), int(torch.randint(1, 8, (1,), generator=g))
            single(f"s{scale:g}_sr{sr}_{'aligned' if aligned else 'legacy'}", x, rois, ph, pw, scale, sr, aligned)

# Edge boxes, each sampling mode and alignment, two images.
for sr in (0, 1, 2):
    for aligned in (False, True):
        x = rnd(2, 3, 7, 10)
        single(f"edge_boxes_sr{sr}_{'aligned' if aligned else 'legacy'}", x, edge_boxes(2, 10 / 0.5, 7 / 0.5),
               5, 4, 0.5, sr, aligned)

x = rnd(1, 2, 6, 9)
single("exact_edges", x, exact_edge_boxes(9, 6), 1, 1, 1.0, 1, False)
single("exact_edges_2x2_sr2", x, exact_edge_boxes(9, 6), 2, 2, 1.0, 2, False)
single("empty_k0", rnd(1, 4, 5, 6), torch.zeros(0, 5), 7, 7, 0.25, 2, False)
single("single_box", rnd(1, 7, 8, 9), torch.tensor([[0, 3.5, 2.25, 20.0, 28.5]]), 7, 7, 0.25, 2, False)
single("batch2_indices", rnd(2, 5, 9, 11), random_boxes(12, 2, 11 / 0.5, 9 / 0.5), 3, 5, 0.5, 0, True)
single("ragged_c37_14x14", rnd(2, 37, 7, 9), random_boxes(4, 2, 9 * 4.0, 7 * 4.0), 14, 14, 0.25, 2, False)
single("one_pixel_map", rnd(1, 3, 1, 1), random_boxes(6, 1, 1.0, 1.0, lo=-1.5, hi=2.5), 2, 3, 1.0, 0, False)
inv = torch.tensor([[0, 30.0, 25.0, 5.0, 3.0], [0, 12.0, 2.0, 3.0, 20.0]])  # inverted boxes
single("inverted_legacy_adaptive", rnd(1, 2, 8, 10), inv, 3, 3, 0.5, 0, False)
single("inverted_aligned_sr2", rnd(1, 2, 8, 10), inv, 3, 3, 0.5, 2, True)
# (inverted + aligned + adaptive makes torchvision allocate a negative-size vector and raise)


def pyramid(n, c, image_h, image_w):
    sizes = [(-(-image_h // 2 ** k), -(-image_w // 2 ** k)) for k in (2, 3, 4, 5)]
    return OrderedDict((f"p{k}", rnd(n, c, h, wd)) for k, (h, wd) in zip((2, 3, 4, 5), sizes))


def sized_boxes(k, img_w, img_h, sides):
    """Boxes of the given side lengths (so they map to every level), anywhere in the image."""
    rows = []
    for i in range(k):
        s = sides[i % len(sides)] * float(torch.empty(1).uniform_(0.85, 1.2, generator=g))
        aspect = float(torch.empty(1).uniform_(0.5, 2.0, generator=g))
        bw, bh = s * math.sqrt(aspect), s / math.sqrt(aspect)
        x1 = float(torch.empty(1).uniform_(-0.1 * img_w, img_w, generator=g))
        y1 = float(torch.empty(1).uniform_(-0.1 * img_h, img_h, generator=g))
        rows.append([x1, y1, x1 + bw, y1 + bh])
    return torch.tensor(rows, dtype=torch.float32)


SIDES = (6.0, 20.0, 60.0, 112.0, 160.0, 224.0, 300.0, 448.0, 600.0, 900.0)


def multi(name, feats, boxes_per_image, image_sizes, pooled, sr):
    m = MultiScaleRoIAlign(list(feats.keys()), pooled, sr)
    out = m(feats, boxes_per_image, image_sizes)
    rois = torch.cat([torch.cat([torch.full((len(b), 1), float(i)), b], 1)
                      for i, b in enumerate(boxes_per_image)], 0)
    ph, pw = (pooled, pooled) if isinstance(pooled, int) else pooled
    levels = list(feats.values())
    params = {"kind": "multi", "num_levels": len(levels), "pooled_h": ph, "pooled_w": pw,
              "sampling_ratio": sr, "image_h": max(s[0] for s in image_sizes),
              "image_w": max(s[1] for s in image_sizes)}
    for i, s in enumerate(m.scales):
        params[f"scale{i}"] = float(s)
    params["k_min"] = m.map_levels.k_min
    params["k_max"] = m.map_levels.k_max
    levels_of = m.map_levels(boxes_per_image) if len(rois) else torch.zeros(0, dtype=torch.int64)
    params["max_samples"] = max([1] + [max_samples(rois[i:i + 1], m.scales[int(lv)], ph, pw, sr, False)
                                       for i, lv in enumerate(levels_of) if 0 <= int(lv) < len(m.scales)])
    if name.startswith("pyramid_75x93"):  # the brief: every level is used
        assert sorted(set(int(v) for v in levels_of if 0 <= v < 4)) == [0, 1, 2, 3], levels_of
    arrays = {f"level{i}": t for i, t in enumerate(levels)}
    arrays.update({"rois": rois, "output": out})
    w.case(name, params=params, arrays=arrays)


# P2..P5 of a 75x93 image (ragged 19x24, 10x12, 5x6, 3x3; every level inferred and used).
feats = pyramid(1, 6, 75, 93)
boxes = sized_boxes(30, 93, 75, SIDES)
boxes = torch.cat([boxes, torch.tensor([[40.0, 30.0, 40.0, 30.0],      # zero area -> k_min
                                        [50.0, 10.0, 20.0, 30.0],      # negative area -> zeros
                                        [-30.0, -20.0, 10.0, 5.0],     # negative coordinates
                                        [100.0, 80.0, 130.0, 120.0]])])  # wholly outside
multi("pyramid_75x93_7x7_sr2", feats, [boxes], [(75, 93)], 7, 2)
multi("pyramid_75x93_14x14_sr2", feats, [boxes], [(75, 93)], 14, 2)
multi("pyramid_75x93_7x7_adaptive", feats, [boxes], [(75, 93)], 7, 0)
multi("pyramid_75x93_5x3_sr1", feats, [boxes], [(75, 93)], (5, 3), 1)
# Two images of different sizes in one batch (scales inferred from the largest).
feats2 = pyramid(2, 4, 75, 93)
multi("pyramid_batch2_7x7_sr2", feats2, [sized_boxes(12, 93, 75, SIDES), sized_boxes(9, 80, 60, SIDES)],
      [(75, 93), (60, 80)], 7, 2)
# The issue's 67x93 image: torchvision infers P5's scale as 1/16 (round(log2(3/67)) = -4),
# so k_max = 4 and P5 is never sampled; the op must reproduce exactly that.
feats3 = pyramid(1, 3, 67, 93)
multi("pyramid_67x93_inferred_k_max4", feats3, [sized_boxes(20, 93, 67, SIDES)], [(67, 93)], 7, 2)
# Empty box list.
multi("pyramid_empty", feats, [torch.zeros(0, 4)], [(75, 93)], 7, 2)

w.save()
