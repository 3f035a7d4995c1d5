"""Golden cases for softmax: torch.nn.functional.softmax(x, dim=-1) (torch 1.13, float32,
CPU) over the last dimension of [rows, cols] as the oracle.

Each case stores x and output. Covers the box head's class logits (rows x 91), row lengths
around the warp size (1, 2, 31, 32, 33), long rows with a wide range (exp underflow to 0
and subnormals), rows with NaN, -inf, all -inf and +inf entries, equal values, and empty
shapes (no rows, no columns).

Run: /usr/bin/python3 tools/goldens/gen_softmax.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402


def main():
    g = torch.Generator().manual_seed(20240606)
    w = GoldenWriter("softmax")
    inf = float("inf")
    cases = [
        ("class_logits_91", torch.rand(23, 91, generator=g) * 16 - 8),
        ("cols_1", torch.rand(5, 1, generator=g) * 4 - 2),
        ("cols_2", torch.rand(4, 2, generator=g) * 4 - 2),
        ("cols_31", torch.rand(3, 31, generator=g) * 20 - 10),
        ("cols_32", torch.rand(3, 32, generator=g) * 20 - 10),
        ("cols_33", torch.rand(3, 33, generator=g) * 20 - 10),
        ("wide_range_underflow", torch.rand(2, 300, generator=g) * 240 - 120),
        ("special_rows", torch.tensor([[1.0, float("nan"), 2.0, 3.0],
                                       [-inf, 0.0, -inf, 0.0],
                                       [-inf, -inf, -inf, -inf],
                                       [1.0, inf, 2.0, 3.0],
                                       [7.0, 7.0, 7.0, 7.0],
                                       [-0.0, 0.0, -0.0, 0.0]])),
        ("no_rows", torch.zeros(0, 91)),
        ("no_cols", torch.zeros(4, 0)),
    ]
    for name, x in cases:
        w.case(name, arrays={"x": x.float(), "output": F.softmax(x.float(), dim=-1)})
    w.save()


if __name__ == "__main__":
    main()
