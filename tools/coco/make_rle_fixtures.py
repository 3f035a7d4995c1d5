"""Fixtures for dev.maskrcnn4j.coco.CocoRle: masks with their COCO RLE counts and compressed
strings, computed by an independent reference written here from the format's definition (not
from the Java code, and without pycocotools, which is not installable here).

Run with Debian's python: /usr/bin/python3 tools/coco/make_rle_fixtures.py [OUT_DIR]
Writes src/test/resources/coco/rle_fixtures.tsv; deterministic (fixed seed), so
tools/coco/check.sh can regenerate it and compare it byte for byte with the committed copy.

The format (COCO, cocoapi maskApi): a binary mask of h rows and w columns is read in column-major
(Fortran) order, pixel (row y, column x) at index x*h + y; counts are the lengths of the
alternating runs of that sequence, the first run counting zeros (so it is 0 when the first pixel
is set); an empty sequence has counts [0]. The compressed string writes each count, after
replacing count i by count[i] - count[i-2] for i >= 3, as a little-endian sequence of signed
(two's complement) 5-bit groups, the fewest that hold the value; each group is one character
chr(48 + g + 32*more), where more = 1 on every group but the last.

One line per case, tab-separated: name, h, w, mask, counts (comma-separated), string.
mask is either "bits:" + the row-major pixels packed 8 per byte, most significant bit first,
in hex, or "rects:" + ';'-separated y0,y1,x0,x1 rectangles (rows [y0,y1), columns [x0,x1)) whose
union is the mask; the string never contains a tab (its characters are 48..111).
"""
import os
import random
import sys

import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def runs_of(mask):
    """Counts of a 2-D 0/1 array, by locating the value changes of its Fortran-order sequence."""
    seq = np.asarray(mask, dtype=bool).ravel(order="F")
    n = seq.size
    if n == 0:
        return [0]
    edges = np.flatnonzero(seq[1:] != seq[:-1]) + 1
    bounds = np.concatenate(([0], edges, [n]))
    counts = [int(v) for v in np.diff(bounds)]
    if seq[0]:
        counts.insert(0, 0)
    return counts


def group_count(v):
    """Fewest signed 5-bit groups whose two's complement holds v."""
    k = 1
    while not (-(1 << (5 * k - 1)) <= v < (1 << (5 * k - 1))):
        k += 1
    return k


def to_string(counts):
    out = []
    for i, c in enumerate(counts):
        v = c - counts[i - 2] if i >= 3 else c
        k = group_count(v)
        bits = v & ((1 << (5 * k)) - 1)          # the k*5-bit two's complement of v
        for j in range(k):
            g = (bits >> (5 * j)) & 31
            out.append(chr(48 + g + (32 if j < k - 1 else 0)))
    return "".join(out)


def from_string(s):
    """Inverse of to_string (checks the fixtures are self-consistent)."""
    values, acc, k = [], 0, 0
    for ch in s:
        g = ord(ch) - 48
        assert 0 <= g < 64, ch
        acc |= (g & 31) << (5 * k)
        k += 1
        if not g & 32:
            if acc & (1 << (5 * k - 1)):
                acc -= 1 << (5 * k)
            values.append(acc)
            acc, k = 0, 0
    assert k == 0, "dangling group"
    counts = []
    for i, v in enumerate(values):
        counts.append(v + counts[i - 2] if i >= 3 else v)
    return counts


def naive_runs(mask):
    """A second, loop-based count computation to cross-check runs_of on small masks."""
    h, w = mask.shape
    counts, cur, run = [], 0, 0
    for x in range(w):
        for y in range(h):
            b = 1 if mask[y, x] else 0
            if b != cur:
                counts.append(run)
                run, cur = 0, b
            run += 1
    counts.append(run)
    return counts


def bits_spec(mask):
    packed = np.packbits(np.asarray(mask, dtype=np.uint8).ravel(order="C"), bitorder="big")
    return "bits:" + packed.tobytes().hex()


def rects_spec(h, w, rects):
    mask = np.zeros((h, w), dtype=np.uint8)
    for y0, y1, x0, x1 in rects:
        mask[y0:y1, x0:x1] = 1
    return mask, "rects:" + ";".join("%d,%d,%d,%d" % r for r in rects)


def main():
    out_dir = sys.argv[1] if len(sys.argv) > 1 else os.path.join(ROOT, "src/test/resources/coco")
    rng = random.Random(20240611)
    cases = []

    def add_bits(name, mask):
        cases.append((name, mask, bits_spec(mask)))

    def add_rects(name, h, w, rects):
        mask, spec = rects_spec(h, w, rects)
        cases.append((name, mask, spec))

    # Edge shapes.
    add_bits("empty_0x0", np.zeros((0, 0), np.uint8))
    add_bits("empty_0x5", np.zeros((0, 5), np.uint8))
    add_bits("empty_7x0", np.zeros((7, 0), np.uint8))
    add_bits("empty_1x1", np.zeros((1, 1), np.uint8))
    add_bits("full_1x1", np.ones((1, 1), np.uint8))
    add_bits("empty_13x17", np.zeros((13, 17), np.uint8))
    add_bits("full_13x17", np.ones((13, 17), np.uint8))
    for y, x in [(0, 0), (12, 16), (0, 16), (12, 0), (6, 9)]:
        m = np.zeros((13, 17), np.uint8)
        m[y, x] = 1
        add_bits("pixel_13x17_at_%d_%d" % (y, x), m)
    m = np.ones((13, 17), np.uint8)
    m[6, 9] = 0
    add_bits("hole_13x17_at_6_9", m)
    for n in (1, 2, 31, 64, 100):
        add_bits("row_1x%d_random" % n, (np.array([rng.random() < 0.5 for _ in range(n)], np.uint8)
                                         .reshape(1, n)))
        add_bits("col_%dx1_random" % n, (np.array([rng.random() < 0.5 for _ in range(n)], np.uint8)
                                         .reshape(n, 1)))
    add_bits("row_1x40_alternating", (np.arange(40) % 2).astype(np.uint8).reshape(1, 40))
    add_bits("col_40x1_alternating_from_1", (1 - np.arange(40) % 2).astype(np.uint8).reshape(40, 1))
    add_bits("checker_9x11", ((np.arange(9)[:, None] + np.arange(11)[None, :]) % 2).astype(np.uint8))
    add_bits("stripes_rows_10x12", (np.arange(10)[:, None] % 2 * np.ones((1, 12))).astype(np.uint8))
    add_bits("stripes_cols_10x12", (np.ones((10, 1)) * (np.arange(12)[None, :] % 2)).astype(np.uint8))

    # Random masks of ragged sizes: independent pixels at several densities, and blobs.
    for i in range(24):
        h, w = rng.randint(1, 61), rng.randint(1, 61)
        p = rng.choice([0.02, 0.2, 0.5, 0.8, 0.98])
        m = np.array([[1 if rng.random() < p else 0 for _ in range(w)] for _ in range(h)], np.uint8)
        add_bits("random_%02d_%dx%d_p%g" % (i, h, w, p), m)
    for i in range(16):
        h, w = rng.randint(1, 90), rng.randint(1, 90)
        m = np.zeros((h, w), np.uint8)
        for _ in range(rng.randint(1, 6)):
            y0, x0 = rng.randrange(h), rng.randrange(w)
            y1, x1 = rng.randint(y0 + 1, h), rng.randint(x0 + 1, w)
            m[y0:y1, x0:x1] = rng.randint(0, 1) if rng.random() < 0.3 else 1
        add_bits("blobs_%02d_%dx%d" % (i, h, w), m)

    # Large runs (> 2**20, multi-group values, large negative deltas).
    add_rects("large_empty_1500x1500", 1500, 1500, [])
    add_rects("large_full_1500x1500", 1500, 1500, [(0, 1500, 0, 1500)])
    add_rects("large_negative_delta", 1500, 1500, [(0, 1500, 0, 800), (5, 8, 800, 801)])
    add_rects("large_box_in_800x1216", 800, 1216, [(100, 700, 300, 1100)])
    add_rects("large_last_pixel_1100x1000", 1100, 1000, [(1099, 1100, 999, 1000)])
    add_rects("large_first_pixel_1100x1000", 1100, 1000, [(0, 1, 0, 1)])
    add_rects("large_two_boxes_1200x1100", 1200, 1100,
              [(0, 1200, 0, 700), (3, 9, 700, 703), (0, 1200, 1090, 1100)])
    add_rects("large_column_2100000x1", 2100000, 1, [(1, 2099999, 0, 1)])
    add_rects("large_row_1x2100000", 1, 2100000, [(0, 1, 5, 2099000)])

    lines = []
    for name, mask, spec in cases:
        h, w = mask.shape
        counts = runs_of(mask)
        if h * w <= 10000:
            assert counts == naive_runs(mask), name
        assert sum(counts) == h * w, name
        s = to_string(counts)
        assert from_string(s) == counts, name
        assert "\t" not in s and all(48 <= ord(c) <= 111 for c in s), name
        lines.append("\t".join([name, str(h), str(w), spec, ",".join(map(str, counts)), s]))

    # Published examples, checked by hand against the definition above.
    assert to_string([5, 2, 2, 2, 5]) == "52203"
    m25 = np.zeros((25, 25), np.uint8)
    m25[0:5, 0:5] = 1
    assert to_string(runs_of(m25)) == "05d00000000d?"

    os.makedirs(out_dir, exist_ok=True)
    path = os.path.join(out_dir, "rle_fixtures.tsv")
    with open(path, "w", encoding="ascii", newline="\n") as f:
        f.write("# generated by tools/coco/make_rle_fixtures.py (see its docstring for the format)\n")
        for line in lines:
            f.write(line + "\n")
    print("wrote %s (%d cases)" % (path, len(lines)))


if __name__ == "__main__":
    main()
