"""Golden cases for topk: torch.topk(input, k, dim=1, largest=True, sorted=True) on float32
CPU tensors as the oracle.

Each case stores input [rows, ld], values [rows, k], indices [rows, k] (int64); params n (the
columns used, starting at column `offset`), k, offset, and ties (true: the row has equal
values). torch's CPU topk orders equal values as std::partial_sort / std::nth_element leave
them (unspecified); maskrcnn4j lists them lower index first. So every case without `ties`
has pairwise distinct values in each row (asserted here), and the tie cases are checked by
value only (the value sequence is the same whatever the tie order). Covers both of torch's
paths (k*64 <= n: partial_sort; else nth_element + sort), an RPN-like level slice of a wider
objectness row (objectness.split(...) as in rpn.py: a strided view), NaN (greater than
everything), +-inf, k = n, k = 1 and ties with signed zeros.

Run: /usr/bin/python3 tools/goldens/gen_topk.py
"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402


def distinct_rows(x):
    for row in x:
        keys = set()
        for v in row.tolist():
            k = "nan" if v != v else (0.0 if v == 0 else v)
            if k in keys:
                return False
            keys.add(k)
    return True


def main():
    g = torch.Generator().manual_seed(20240614)
    w = GoldenWriter("topk")

    def add(name, x, n, k, offset=0, ties=False):
        view = x[:, offset:offset + n]  # a strided slice when offset or n differ from the width
        if not ties:
            assert distinct_rows(view), name
        values, indices = view.topk(k, dim=1)
        w.case(name, params={"n": n, "k": k, "offset": offset, "ties": ties},
               arrays={"input": x, "values": values, "indices": indices})

    x = torch.randn(3, 1000, generator=g)
    add("random_3x1000_k50_partial_sort", x, 1000, 10)
    add("random_3x1000_k200_nth_element", x, 1000, 200)
    x = torch.randn(1, 4000, generator=g) * 4
    add("rpn_like_4000_k1000", x, 4000, 1000)
    # One FPN level of a [2, 300] objectness matrix: columns 100..219.
    x = torch.randn(2, 300, generator=g)
    add("level_slice_of_wider_rows", x, 120, 60, offset=100)
    x = torch.randn(2, 500, generator=g)
    x[0, 17] = float("nan")
    x[0, 300] = float("inf")
    x[1, 2] = float("-inf")
    x[1, 400] = float("inf")
    add("nan_and_infinities", x, 500, 100)
    add("k_equals_n", torch.randn(2, 37, generator=g), 37, 37)
    add("k1", torch.randn(4, 333, generator=g), 333, 1)
    # Ties: a few distinct values (and both zeros); checked by value only.
    x = torch.randint(-3, 4, (2, 2000), generator=g).float()
    x[x == 0] = torch.where(torch.rand(int((x == 0).sum()), generator=g) < 0.5, 0.0, -0.0)
    add("ties_few_values", x, 2000, 900, ties=True)
    add("ties_few_values_partial_sort", x, 2000, 25, ties=True)
    w.save()


if __name__ == "__main__":
    main()
