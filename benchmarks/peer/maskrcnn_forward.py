"""The peer for the whole-model benchmark: torchvision's maskrcnn_resnet50_fpn forward on one
synthetic 800x1216 image, and the files our JMH benchmark (MaskRcnnBenchmark) loads to run the
same model on the same input.

    /usr/bin/python3 benchmarks/peer/maskrcnn_forward.py --write DIR [--threads 2] [--repeat 5]

The model: maskrcnn_resnet50_fpn(weights=None, weights_backbone=None) after torch.manual_seed(0),
eval (as ../shared/peers/tv_model.py builds it). With weights=None torchvision uses nn.BatchNorm2d
(eps 1e-5; identity statistics), so ours runs it with the resnet50_fpn config (eps 1e-5). Its random
classifier already gives the full 100 detections on this input, so the mask head and the paste run
at full size. DIR gets maskrcnn_r50_seed0.pth (torch.save zip) and image_800x1216.png; our side reads
the PNG (8-bit, as any user image) and torchvision gets the same pixels / 255.
Prints "peer forward_800x1216 <median ms>" (run.sh's ratio format) and the detection count.
"""
import argparse
import os
import statistics
import time

import numpy as np
import torch
from PIL import Image
from torchvision.models.detection import maskrcnn_resnet50_fpn

H, W = 800, 1216


def synthetic_image(seed=0):
    """Smooth colour gradients, a dozen flat rectangles and a little noise, as 8-bit RGB."""
    g = torch.Generator().manual_seed(seed)
    y = torch.linspace(0, 1, H).view(H, 1)
    x = torch.linspace(0, 1, W).view(1, W)
    img = torch.stack([0.5 + 0.4 * torch.sin(6 * x + 3 * y), 0.5 + 0.4 * torch.cos(5 * y - 2 * x), (x + y) / 2])
    for _ in range(12):
        r = torch.rand(7, generator=g)
        y0, x0 = int(r[0] * (H - 200)), int(r[1] * (W - 200))
        h, w = 40 + int(r[2] * 300), 40 + int(r[3] * 300)
        img[:, y0:y0 + h, x0:x0 + w] = r[4:7].view(3, 1, 1)
    img += 0.05 * torch.rand(3, H, W, generator=g)
    return (img.clamp_(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).contiguous().numpy()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--write", required=True, help="folder for the checkpoint and the image")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=5)
    a = ap.parse_args()
    torch.set_grad_enabled(False)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    model = maskrcnn_resnet50_fpn(weights=None, weights_backbone=None).eval()
    os.makedirs(a.write, exist_ok=True)
    ckpt = os.path.join(a.write, "maskrcnn_r50_seed0.pth")
    png = os.path.join(a.write, "image_800x1216.png")
    if not os.path.exists(ckpt):
        torch.save(model.state_dict(), ckpt + ".tmp")
        os.replace(ckpt + ".tmp", ckpt)
    pixels = synthetic_image()
    if not os.path.exists(png):
        Image.fromarray(pixels).save(png + ".tmp.png")
        os.replace(png + ".tmp.png", png)
    x = torch.from_numpy(np.array(Image.open(png).convert("RGB"))).permute(2, 0, 1).float().div(255)
    for _ in range(a.warmup):
        out = model([x])
    samples = []
    for _ in range(a.repeat):
        t0 = time.perf_counter()
        out = model([x])
        samples.append(time.perf_counter() - t0)
    print(f"peer forward_800x1216 {statistics.median(samples) * 1e3:.1f} ms "
          f"({len(out[0]['boxes'])} detections, {a.threads} threads)", flush=True)


if __name__ == "__main__":
    main()
