"""Golden cases for upsample_nearest_add: torchvision's FPN top-down step as the oracle,
    output = lateral + F.interpolate(top, size=lateral.shape[-2:], mode="nearest")
(torch 1.13, float32, NCHW), and the plain F.interpolate when has_lateral is false.

Each case stores top (NCHW), lateral (NCHW, when has_lateral) and output (NCHW); params
has_lateral. Covers FPN's exact 2x steps, the odd sizes of images that are not multiples
of 32 (e.g. an unpadded 800x1066 input gives 25x34 -> 50x67 -> 100x134 -> 200x267, and 7 -> 13,
13 -> 25), identity and shrinking sizes, one pixel to many, batch 2, channel counts that
are not multiples of 4, and an empty batch.

Run: /usr/bin/python3 tools/goldens/gen_upsample_nearest_add.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

# name, n, c, (in_h, in_w), (out_h, out_w), has_lateral
CASES = [
    ("fpn_2x_ragged_c37", 2, 37, (5, 7), (10, 14), True),
    ("fpn_odd_25x34_to_50x67", 1, 3, (25, 34), (50, 67), True),
    ("fpn_odd_7x9_to_13x17", 1, 8, (7, 9), (13, 17), True),
    ("fpn_odd_13x17_to_25x34", 1, 5, (13, 17), (25, 34), True),
    ("fpn_odd_4x134_to_8x267", 1, 1, (4, 134), (8, 267), True),
    ("plain_upsample_odd", 2, 6, (7, 13), (13, 25), False),
    ("plain_upsample_3x", 1, 4, (3, 4), (9, 12), False),
    ("identity_size", 1, 9, (6, 5), (6, 5), True),
    ("shrink", 1, 16, (9, 11), (4, 5), True),
    ("one_pixel_to_many", 1, 2, (1, 1), (7, 3), True),
    ("empty_batch", 0, 4, (3, 3), (6, 6), True),
]


def main():
    g = torch.Generator().manual_seed(20240603)
    w = GoldenWriter("upsample_nearest_add")
    for (name, n, c, (ih, iw), (oh, ow), has_lateral) in CASES:
        top = torch.rand(n, c, ih, iw, generator=g) * 4 - 2
        up = F.interpolate(top, size=(oh, ow), mode="nearest")
        arrays = {"top": top}
        if has_lateral:
            lateral = torch.rand(n, c, oh, ow, generator=g) * 4 - 2
            out = lateral + up  # torchvision: last_inner = inner_lateral + inner_top_down
            arrays["lateral"] = lateral
        else:
            out = up
        arrays["output"] = out
        w.case(name, params={"has_lateral": has_lateral}, arrays=arrays)
    w.save()


if __name__ == "__main__":
    main()
