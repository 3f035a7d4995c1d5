"""Golden cases for max_pool2d: torch.nn.functional.max_pool2d (float32, NCHW, dilation 1,
ceil_mode False) as the oracle.

Each case stores input (NCHW) and output (NCHW); params kernel_h/w, stride_h/w, pad_h/w.
Covers the ResNet stem pool (3x3, stride 2, pad 1) and FPN's LastLevelMaxPool
(F.max_pool2d(x, 1, 2, 0)) on odd and even ragged maps, channel counts that are not
multiples of 4/16, asymmetric kernels and strides, inputs with NaN, +-inf and signed
zeros, all-negative inputs next to the padding, and an empty batch.

Run: /usr/bin/python3 tools/goldens/gen_max_pool2d.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

# name, n, c, h, w, (kh, kw), (sh, sw), (ph, pw), input kind
CASES = [
    ("stem_3x3_s2_p1_ragged", 2, 37, 13, 17, (3, 3), (2, 2), (1, 1), "uniform"),
    ("stem_3x3_s2_p1_even_c64", 1, 64, 12, 16, (3, 3), (2, 2), (1, 1), "uniform"),
    ("stem_3x3_s2_p1_all_negative", 1, 5, 7, 6, (3, 3), (2, 2), (1, 1), "negative"),
    ("fpn_last_level_1x1_s2_odd", 2, 20, 13, 19, (1, 1), (2, 2), (0, 0), "uniform"),
    ("fpn_last_level_1x1_s2_even", 1, 16, 8, 10, (1, 1), (2, 2), (0, 0), "uniform"),
    ("fpn_last_level_1x1_s2_one_pixel", 1, 3, 1, 1, (1, 1), (2, 2), (0, 0), "uniform"),
    ("k2_s2_p1", 1, 6, 9, 8, (2, 2), (2, 2), (1, 1), "uniform"),
    ("k3_s1_p1_c1", 1, 1, 6, 7, (3, 3), (1, 1), (1, 1), "uniform"),
    ("k5x3_s3x2_p2x1", 2, 12, 11, 10, (5, 3), (3, 2), (2, 1), "uniform"),
    ("special_values", 1, 9, 7, 9, (3, 3), (2, 2), (1, 1), "special"),
    ("empty_batch", 0, 4, 5, 5, (3, 3), (2, 2), (1, 1), "uniform"),
]


def make_input(kind, shape, g):
    if kind == "negative":
        return -1 - torch.rand(shape, generator=g)
    x = torch.rand(shape, generator=g) * 4 - 2
    if kind == "special":
        pick = torch.randint(0, 12, shape, generator=g)
        x[pick == 0] = float("nan")
        x[pick == 1] = float("-inf")
        x[pick == 2] = float("inf")
        x[pick == 3] = 0.0
        x[pick == 4] = -0.0
    return x


def main():
    g = torch.Generator().manual_seed(20240602)
    w = GoldenWriter("max_pool2d")
    for (name, n, c, h, wd, k, s, p, kind) in CASES:
        x = make_input(kind, (n, c, h, wd), g)
        y = F.max_pool2d(x, kernel_size=k, stride=s, padding=p)
        # torch's channels-last kernel must agree (ours is NHWC).
        y_cl = F.max_pool2d(x.contiguous(memory_format=torch.channels_last), kernel_size=k, stride=s, padding=p)
        assert torch.equal(torch.nan_to_num(y), torch.nan_to_num(y_cl.contiguous())), name
        w.case(name, params={"kernel_h": k[0], "kernel_w": k[1], "stride_h": s[0], "stride_w": s[1],
                             "pad_h": p[0], "pad_w": p[1]},
               arrays={"input": x, "output": y})
    w.save()


if __name__ == "__main__":
    main()
