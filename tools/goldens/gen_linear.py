"""Golden cases for the Linear helper (src/main/java/dev/maskrcnn4j/ops/Linear.java, a 1x1
conv2d over a [1, rows, 1, in] NHWC image): torch.nn.Linear (+ torch.relu) as the oracle.

Each case stores x [rows, in], weight [out, in], bias [out] (when has_bias) and output
[rows, out]; params relu, has_bias. Covers rows 1, 7 and 100 with in 300 -> out 17, the
box predictor's shape at reduced rows (1024 -> 91, rows 3), without bias, and a case whose
input comes from an NCHW [rows, c, h, w] flatten (param chw = "c,h,w") to check the
column reordering for NHWC inputs (x is stored in NCHW-flattened order).

Run: /usr/bin/python3 tools/goldens/gen_linear.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

# name, rows, in, out, has_bias, relu, chw
CASES = [
    ("rows1_300_to_17_relu", 1, 300, 17, True, True, None),
    ("rows7_300_to_17", 7, 300, 17, True, False, None),
    ("rows100_300_to_17_relu", 100, 300, 17, True, True, None),
    ("box_predictor_1024_to_91", 3, 1024, 91, True, False, None),
    ("no_bias", 5, 33, 9, False, False, None),
    ("flattened_chw_5x3x4", 4, 60, 11, True, True, (5, 3, 4)),
]


def main():
    g = torch.Generator().manual_seed(20240608)
    w = GoldenWriter("linear")
    for (name, rows, fin, fout, has_bias, relu, chw) in CASES:
        lin = torch.nn.Linear(fin, fout, bias=has_bias)
        with torch.no_grad():
            lin.weight.copy_((torch.rand(fout, fin, generator=g) * 2 - 1) / fin ** 0.5)
            if has_bias:
                lin.bias.copy_(torch.rand(fout, generator=g) * 2 - 1)
            x = torch.rand(rows, fin, generator=g) * 2 - 1
            y = lin(x)
            if relu:
                y = torch.relu(y)
        arrays = {"x": x, "weight": lin.weight.detach()}
        if has_bias:
            arrays["bias"] = lin.bias.detach()
        arrays["output"] = y
        params = {"relu": relu, "has_bias": has_bias}
        if chw:
            params["chw"] = ",".join(str(d) for d in chw)
        w.case(name, params=params, arrays=arrays)
    w.save()


if __name__ == "__main__":
    main()
