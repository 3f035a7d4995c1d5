"""Goldens for the mask paste (paste_masks), from torchvision 0.14.1 / torch 1.13.1.

Run with Debian's python: /usr/bin/python3 tools/goldens/gen_paste_masks.py

The oracle is torchvision.models.detection.roi_heads.paste_masks_in_image. For boxes that
lie wholly outside the image torchvision itself often raises (its Python slices get
negative ends, and the shapes then disagree); maskrcnn4j defines those masks as all zero.
So each case is computed per mask with `reference_paste` below (torchvision's own
expand_masks / expand_boxes / F.interpolate, the clipping written with explicit bounds),
and wherever torchvision's paste_mask_in_image succeeds it must give the identical tensor
(checked here, bit for bit); where it raises, the clipped region must be empty.

Arrays per case: masks [K, mask_h, mask_w] f32, boxes [K, 4] f32 (x0, y0, x1, y1),
soft [K, img_h, img_w] f32 (torch's values), binary [K, img_h, img_w] u8 (soft > threshold).
Params: img_h, img_w, padding, threshold.
"""
import os
import sys

import torch
import torch.nn.functional as F
from torchvision.models.detection import roi_heads

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

THRESHOLD = 0.5


def reference_paste(masks, boxes, img_h, img_w, padding):
    """[K,h,w] masks, [K,4] boxes -> [K,img_h,img_w] soft masks (see the module doc)."""
    padded, scale = roi_heads.expand_masks(masks[:, None], padding=padding)
    ibox = roi_heads.expand_boxes(boxes, scale).to(dtype=torch.int64)
    out = torch.zeros((masks.shape[0], img_h, img_w), dtype=torch.float32)
    raised = 0
    for i in range(masks.shape[0]):
        x0, y0, x1, y1 = (int(v) for v in ibox[i])
        w, h = max(x1 - x0 + 1, 1), max(y1 - y0 + 1, 1)
        resized = F.interpolate(padded[i, 0].expand((1, 1, -1, -1)), size=(h, w), mode="bilinear",
                                align_corners=False)[0, 0]
        cx0, cx1 = max(x0, 0), min(x1 + 1, img_w)
        cy0, cy1 = max(y0, 0), min(y1 + 1, img_h)
        if cx1 > cx0 and cy1 > cy0:
            out[i, cy0:cy1, cx0:cx1] = resized[cy0 - y0:cy1 - y0, cx0 - x0:cx1 - x0]
        try:
            tv = roi_heads.paste_mask_in_image(padded[i, 0], ibox[i], img_h, img_w)
        except RuntimeError:
            raised += 1
            assert not (cx1 > cx0 and cy1 > cy0), f"torchvision raised on a box that overlaps the image: {boxes[i]}"
            continue
        assert torch.equal(tv, out[i]), f"reference differs from torchvision for box {boxes[i].tolist()}"
    # And the whole batch through the public function when torchvision can do it.
    if raised == 0:
        tv = roi_heads.paste_masks_in_image(masks[:, None], boxes, (img_h, img_w), padding)
        assert torch.equal(tv[:, 0], out)
    return out, raised


def near_half_masks(g, k, h, w):
    m = torch.rand(k, h, w, generator=g)
    # Some exact and near-0.5 values so the threshold's strict '>' is exercised.
    sel = torch.rand(k, h, w, generator=g) < 0.15
    near = 0.5 + (torch.randint(-3, 4, (k, h, w), generator=g).float() * 6e-8)
    m = torch.where(sel, near, m)
    return m.float()


def edge_boxes(img_h, img_w):
    H, W = float(img_h), float(img_w)
    return [
        [5.3, 4.1, 30.7, 25.2],                 # normal, inside
        [-8.4, 10.2, 12.6, 30.9],               # partly left
        [W - 15.2, -6.7, W + 9.1, 14.4],        # partly right and top
        [3.0, H - 9.5, 20.0, H + 12.0],         # partly bottom
        [-30.0, -20.0, -10.0, -5.0],            # wholly outside, negative coordinates
        [W + 7.0, 5.0, W + 27.0, 20.0],         # wholly right
        [10.0, H + 3.0, 20.0, H + 23.0],        # wholly below
        [12.2, 13.3, 12.4, 13.5],               # tiny, sub-pixel
        [7.0, 9.0, 7.0, 9.0],                   # zero area
        [20.0, 20.0, 14.0, 16.0],               # inverted (x1 < x0)
        [-3.0, 3.0, -0.9, 9.0],                 # negative x that truncates to 0 after expanding
        [-0.6, -0.4, 6.3, 5.7],                 # negative fractional corner (truncation toward 0)
        [-500.0, -400.0, W + 600.0, H + 700.0], # huge, covers the image
        [W - 1.2, H - 1.3, W - 0.4, H - 0.2],   # last pixel
    ]


def main():
    g = torch.Generator().manual_seed(20240601)
    torch.manual_seed(0)
    w = GoldenWriter("paste_masks")
    total_raised = 0

    def case(name, masks, boxes, img_h, img_w, padding=1):
        nonlocal total_raised
        masks = masks.float().contiguous()
        boxes = torch.as_tensor(boxes, dtype=torch.float32).reshape(-1, 4).contiguous()
        soft, raised = reference_paste(masks, boxes, img_h, img_w, padding)
        total_raised += raised
        w.case(name, params={"img_h": img_h, "img_w": img_w, "padding": padding, "threshold": THRESHOLD},
               arrays={"masks": masks, "boxes": boxes, "soft": soft, "binary": (soft > THRESHOLD).to(torch.uint8)})

    b = edge_boxes(37, 53)
    case("edge_boxes_37x53", near_half_masks(g, len(b), 28, 28), b, 37, 53)
    b = edge_boxes(40, 29)
    case("mask14_edge_boxes_40x29", near_half_masks(g, len(b), 14, 14), b, 40, 29)
    case("k1_20x31", near_half_masks(g, 1, 28, 28), [[2.5, 1.5, 17.25, 12.75]], 20, 31)
    case("empty_k0", torch.zeros(0, 28, 28), torch.zeros(0, 4), 10, 12)
    case("nonsquare_mask_12x20", near_half_masks(g, 3, 12, 20),
         [[1.0, 2.0, 25.0, 14.0], [-4.0, 6.0, 9.5, 30.0], [10.5, -2.5, 33.0, 8.0]], 27, 34)
    case("padding0_23x19", near_half_masks(g, 3, 28, 28),
         [[1.0, 2.0, 15.0, 14.0], [-4.0, 6.0, 9.5, 30.0], [3.3, 3.3, 4.1, 4.4]], 23, 19, padding=0)
    case("padding2_23x19", near_half_masks(g, 3, 28, 28),
         [[1.0, 2.0, 15.0, 14.0], [-4.0, 6.0, 9.5, 30.0], [3.3, 3.3, 4.1, 4.4]], 23, 19, padding=2)
    case("image_1x1", near_half_masks(g, 3, 28, 28),
         [[0.0, 0.0, 0.5, 0.5], [-2.0, -2.0, 3.0, 3.0], [0.9, 0.9, 0.9, 0.9]], 1, 1)
    # Random boxes of all sizes in a larger image (few masks to keep the file small).
    H, W = 96, 136
    xy = torch.rand(3, 2, generator=g) * torch.tensor([W * 1.1, H * 1.1]) - 10
    wh = torch.exp(torch.rand(3, 2, generator=g) * 4.8)
    case("random_96x136", near_half_masks(g, 3, 28, 28), torch.cat([xy, xy + wh], 1), H, W)
    path = w.save()
    print(f"{path}: torchvision raised on {total_raised} wholly-outside masks (defined as zero)", file=sys.stderr)


if __name__ == "__main__":
    main()
