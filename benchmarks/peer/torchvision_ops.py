"""The peer: torchvision 0.14 / torch 1.13.1 on the same sizes as our JMH benchmarks.

Run through benchmarks/run.sh (which gives torch OpenBLAS + jemalloc, its best setup here), or:
    /usr/bin/python3 benchmarks/peer/torchvision_ops.py [--threads 2] [--only SUBSTRING]
Prints one line per case: "peer <case> <median ms>". Case names match the JMH benchmark
methods so run.sh can print ratios.
"""
import argparse
import statistics
import time

import torch
from torchvision.models.detection.roi_heads import paste_masks_in_image
from torchvision.ops import MultiScaleRoIAlign, batched_nms, nms

IMG = (800, 1216)
LEVELS = {"0": (200, 304), "1": (100, 152), "2": (50, 76), "3": (25, 38)}


def boxes_log_uniform(n, g, min_side=16.0, max_side=600.0):
    """Boxes inside IMG with log-uniform sides, so they spread over the FPN levels."""
    lo, hi = torch.log(torch.tensor(min_side)), torch.log(torch.tensor(max_side))
    side = torch.exp(torch.empty(n, 2).uniform_(float(lo), float(hi), generator=g))
    wh = torch.minimum(side, torch.tensor([IMG[1] - 1.0, IMG[0] - 1.0]))
    x0 = torch.rand(n, generator=g) * (IMG[1] - wh[:, 0])
    y0 = torch.rand(n, generator=g) * (IMG[0] - wh[:, 1])
    return torch.stack([x0, y0, x0 + wh[:, 0], y0 + wh[:, 1]], 1)


def boxes_clustered(n, g, per_cluster=8):
    """Jittered copies of random boxes: the overlap NMS sees after the RPN."""
    centers = boxes_log_uniform((n + per_cluster - 1) // per_cluster, g)
    b = centers.repeat_interleave(per_cluster, 0)[:n]
    wh = (b[:, 2:] - b[:, :2]).repeat(1, 2)
    b = b + 0.15 * wh * torch.randn(n, 4, generator=g)
    b[:, 2:] = torch.maximum(b[:, 2:], b[:, :2] + 1)
    return b, torch.rand(n, generator=g)


def cases(g):
    for h, w in ((200, 304),):
        x = torch.rand(1, 256, h, w, generator=g)
        conv = torch.nn.Conv2d(256, 256, 3, padding=1)
        yield "conv3x3_256_200x304", lambda c=conv, x=x: c(x), 2 * 256 * 256 * 9 * h * w
    x = torch.rand(1, 2048, 25, 38, generator=g)
    conv1 = torch.nn.Conv2d(2048, 256, 1)
    yield "conv1x1_2048_25x38", lambda: conv1(x), 2 * 2048 * 256 * 25 * 38
    feats = {k: torch.rand(1, 256, h, w, generator=g) for k, (h, w) in LEVELS.items()}
    msra7 = MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2)
    msra14 = MultiScaleRoIAlign(["0", "1", "2", "3"], 14, 2)
    b1000, b100 = boxes_log_uniform(1000, g), boxes_log_uniform(100, g)
    yield "roialign_1000_7x7", lambda: msra7(feats, [b1000], [IMG]), None
    yield "roialign_100_14x14", lambda: msra14(feats, [b100], [IMG]), None
    for n in (1000, 4000, 12000):
        b, s = boxes_clustered(n, g)
        yield f"nms_{n}", lambda b=b, s=s: nms(b, s, 0.7), None
    b, s = boxes_clustered(4000, g)
    lvl = torch.randint(0, 5, (4000,), generator=g)
    yield "batched_nms_4000_5idx", lambda: batched_nms(b, s, lvl, 0.7), None
    masks = torch.rand(100, 1, 28, 28, generator=g)
    # torchvision pastes soft masks only: the like-for-like case of ours is paste_..._soft.
    yield "paste_100_800x1216_soft", lambda: paste_masks_in_image(masks, b100, IMG, 1), None
    top = torch.rand(1, 256, 100, 152, generator=g)
    lateral = torch.rand(1, 256, 200, 304, generator=g)
    yield ("upsample_nearest_add_256_100x152_to_200x304",
           lambda: lateral + torch.nn.functional.interpolate(top, size=(200, 304), mode="nearest"), None)
    stem = torch.rand(1, 64, 400, 608, generator=g)
    yield "max_pool2d_stem_64_400x608", lambda: torch.nn.functional.max_pool2d(stem, 3, 2, 1), None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=7)
    ap.add_argument("--only", default="")
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(a.threads)
    g = torch.Generator().manual_seed(0)
    for name, fn, flop in cases(g):
        if a.only not in name:
            continue
        for _ in range(2):
            fn()
        samples = []
        for _ in range(a.repeat):
            t0 = time.perf_counter()
            fn()
            samples.append(time.perf_counter() - t0)
        ms = statistics.median(samples) * 1e3
        extra = f" {flop / ms / 1e6:.1f} GFLOP/s" if flop else ""
        print(f"peer {name} {ms:.3f} ms{extra}", flush=True)


if __name__ == "__main__":
    main()
