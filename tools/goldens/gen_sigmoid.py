"""Golden cases for sigmoid: torch.sigmoid (torch 1.13, float32, CPU) as the oracle.

Each case stores x and output. Covers ragged counts (not multiples of 4/16), a mask-head
logits block [K, classes, 28, 28] (torchvision's maskrcnn_inference: x.sigmoid()), large
|x| where exp overflows or underflows (exact 0/1 and subnormal results), NaN / +-inf /
signed zeros, and an empty tensor.

Run: /usr/bin/python3 tools/goldens/gen_sigmoid.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402


def main():
    g = torch.Generator().manual_seed(20240605)
    w = GoldenWriter("sigmoid")
    cases = [
        ("ragged", torch.rand(7, 13, generator=g) * 24 - 12),
        ("mask_logits", torch.rand(2, 3, 28, 28, generator=g) * 16 - 8),
        ("large_magnitudes", torch.cat([torch.rand(50, generator=g) * 40 - 120, torch.rand(50, generator=g) * 40 + 80,
                                        torch.rand(51, generator=g) * 40 - 20])),
        ("special_values", torch.tensor([float("nan"), float("inf"), float("-inf"), 0.0, -0.0, 1e-30, -1e-30,
                                         88.0, -88.0, 103.0, -103.0, 17.0, -17.0])),
        ("one_element", torch.tensor([0.25])),
        ("empty", torch.zeros(0, 28)),
    ]
    for name, x in cases:
        w.case(name, arrays={"x": x.float(), "output": torch.sigmoid(x.float())})
    w.save()


if __name__ == "__main__":
    main()
