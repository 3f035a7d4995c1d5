"""Golden cases for conv2d: torch.nn.functional.conv2d (float32, NCHW) as the oracle.

Each case stores input (NCHW), weight (OIHW), optional bias and residual (NCHW), and
output = act(conv2d(input, weight, bias, stride, padding, dilation) + residual), all
computed by torch. Params: stride_h/w, pad_h/w, dil_h/w, relu, has_bias, has_residual.
Covers kernel sizes 1/3/7, strides 1/2, padding 0/1/3, dilation 1/2, batch 2, channel
counts not multiples of 16/32 (3, 5, 33, ...), ragged spatial sizes (17x23, ...).

Run: /usr/bin/python3 tools/goldens/gen_conv2d.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

# name, n, c_in, h, w, c_out, (kh, kw), (sh, sw), (ph, pw), (dh, dw), bias, residual, relu
CASES = [
    ("k1_s1_ragged_bias", 1, 3, 17, 23, 5, (1, 1), (1, 1), (0, 0), (1, 1), True, False, False),
    ("k1_s2_downsample_residual_relu", 2, 33, 13, 11, 40, (1, 1), (2, 2), (0, 0), (1, 1), False, True, True),
    ("k3_s1_p1_bias_relu", 1, 5, 17, 23, 33, (3, 3), (1, 1), (1, 1), (1, 1), True, False, True),
    ("k3_s1_p1_bias_residual_relu_batch2", 2, 33, 7, 11, 17, (3, 3), (1, 1), (1, 1), (1, 1), True, True, True),
    ("k3_s2_p1", 1, 16, 17, 23, 64, (3, 3), (2, 2), (1, 1), (1, 1), True, False, False),
    ("k3_s1_p0_nobias", 1, 7, 10, 31, 3, (3, 3), (1, 1), (0, 0), (1, 1), False, False, False),
    ("k3_d2_p2_residual", 1, 9, 11, 13, 35, (3, 3), (1, 1), (2, 2), (2, 2), True, True, False),
    ("k3_d2_s2_p1_relu_batch2", 2, 6, 14, 15, 12, (3, 3), (2, 2), (1, 1), (2, 2), False, False, True),
    ("k7_s2_p3_stem", 1, 3, 21, 27, 64, (7, 7), (2, 2), (3, 3), (1, 1), True, False, True),
    ("k7_s1_p3_residual", 1, 5, 11, 13, 33, (7, 7), (1, 1), (3, 3), (1, 1), False, True, False),
    ("k7_p0_d1_small", 1, 4, 8, 9, 7, (7, 7), (1, 1), (0, 0), (1, 1), True, False, True),
    ("k5x3_mixed_strides", 1, 11, 12, 29, 19, (5, 3), (2, 1), (2, 0), (1, 2), True, True, True),
    ("k3_s1_p1_wide_channels", 1, 40, 5, 9, 36, (3, 3), (1, 1), (1, 1), (1, 1), True, False, True),
    ("k1_s1_c256_to_33_relu", 1, 256, 3, 5, 33, (1, 1), (1, 1), (0, 0), (1, 1), True, True, True),
    ("k3_pad_exceeds_input", 1, 4, 2, 3, 5, (3, 3), (1, 1), (3, 3), (1, 1), True, True, False),
]


def main():
    torch.manual_seed(20240601)
    w = GoldenWriter("conv2d")
    for (name, n, c_in, h, wd, c_out, k, s, p, d, has_bias, has_res, relu) in CASES:
        x = torch.rand(n, c_in, h, wd) * 2 - 1
        weight = (torch.rand(c_out, c_in, *k) * 2 - 1) / (c_in * k[0] * k[1]) ** 0.5
        bias = torch.rand(c_out) * 2 - 1 if has_bias else None
        y = F.conv2d(x, weight, bias, stride=s, padding=p, dilation=d)
        res = torch.rand(y.shape) * 2 - 1 if has_res else None
        if res is not None:
            y = y + res
        if relu:
            y = torch.relu(y)
        arrays = {"input": x, "weight": weight}
        if bias is not None:
            arrays["bias"] = bias
        if res is not None:
            arrays["residual"] = res
        arrays["output"] = y
        w.case(name, params={"stride_h": s[0], "stride_w": s[1], "pad_h": p[0], "pad_w": p[1],
                             "dil_h": d[0], "dil_w": d[1], "relu": relu,
                             "has_bias": has_bias, "has_residual": has_res},
               arrays=arrays)
    w.save()


if __name__ == "__main__":
    main()
