"""Golden cases for add_relu: torch 1.13's a + b and torch.relu(a + b) (float32) as the oracle.

Each case stores a, b and output; params relu. Shapes are ragged (counts that are not
multiples of 4 or 16), one case is an NHWC activation-sized block, one has NaN, +-inf
(inf + -inf = NaN) and signed zeros (torch.relu keeps -0 and NaN), one is empty.

Run: /usr/bin/python3 tools/goldens/gen_add_relu.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

# name, shape, relu, special values
CASES = [
    ("add_ragged", (7, 13), False, False),
    ("add_relu_ragged", (3, 37), True, False),
    ("add_relu_nhwc_block", (2, 9, 11, 64), True, False),
    ("add_special_values", (301,), False, True),
    ("add_relu_special_values", (301,), True, True),
    ("one_element", (1,), True, False),
    ("empty", (0, 5), True, False),
]


def make(shape, special, g):
    x = torch.rand(shape, generator=g) * 4 - 2
    if special and x.numel():
        pick = torch.randint(0, 10, shape, generator=g)
        x[pick == 0] = float("nan")
        x[pick == 1] = float("inf")
        x[pick == 2] = float("-inf")
        x[pick == 3] = 0.0
        x[pick == 4] = -0.0
    return x


def main():
    g = torch.Generator().manual_seed(20240604)
    w = GoldenWriter("add_relu")
    for (name, shape, relu, special) in CASES:
        a = make(shape, special, g)
        b = make(shape, special, g)
        out = a + b
        if relu:
            out = torch.relu(out)
        w.case(name, params={"relu": relu}, arrays={"a": a, "b": b, "output": out})
    w.save()


if __name__ == "__main__":
    main()
