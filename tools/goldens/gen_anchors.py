"""Golden cases for anchors: torchvision 0.14's AnchorGenerator (float32) as the oracle.

Two kinds of case:
- cell_*: AnchorGenerator.generate_anchors(scales, aspect_ratios) (the zero-centred, rounded
  cell anchors; Java computes these itself and must match bit for bit). Arrays scales (f32),
  ratios (f32: torch converts the Python floats to float32 first), output [R*S, 4].
- grid_*: AnchorGenerator(sizes, aspect_ratios).forward on one image of a padded batch of
  size image_h x image_w (params) with feature maps of the given grid sizes: strides are
  image_size // grid_size. Arrays grid_sizes i32 [L, 2], sizes f32 [L, S], ratios f32 [L, R],
  output = the concatenated anchors [sum, 4]. Includes the Mask R-CNN FPN configuration on
  maps whose sizes do not divide the image (strides 3, 7, 15, ...) and a multi-scale level.

Run: /usr/bin/python3 tools/goldens/gen_anchors.py
"""
import os
import sys

import torch
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

FPN_SIZES = ((32,), (64,), (128,), (256,), (512,))
FPN_RATIOS = ((0.5, 1.0, 2.0),) * 5

CELLS = [
    ("cell_fpn_32", (32,), (0.5, 1.0, 2.0)),
    ("cell_fpn_512", (512,), (0.5, 1.0, 2.0)),
    ("cell_odd_scales_ratios", (16, 24, 100, 333, 1000), (0.25, 0.5, 1.0, 1.7, 3.0, 0.1)),
    ("cell_half_way_rounding", (1, 3, 5, 7, 9, 45), (1.0, 4.0, 0.25, 2.25)),
    ("cell_fractional_scales", (2.5, 31.7), (0.3, 0.7, 1.3)),
]

# name, image (h, w) of the padded batch, grid sizes per level, sizes, ratios
GRIDS = [
    ("grid_fpn_divisible", (96, 128), [(24, 32), (12, 16), (6, 8), (3, 4), (2, 2)], FPN_SIZES, FPN_RATIOS),
    ("grid_fpn_ragged", (100, 150), [(25, 38), (13, 19), (7, 10), (4, 5), (2, 3)], FPN_SIZES, FPN_RATIOS),
    ("grid_two_levels_three_scales", (64, 96), [(8, 12), (1, 2)], ((16, 32, 48), (64, 96, 128)),
     ((0.5, 1.0, 2.0), (1.0, 2.0, 3.0))),
]


def main():
    w = GoldenWriter("anchors")
    gen = AnchorGenerator()
    for name, scales, ratios in CELLS:
        out = gen.generate_anchors(list(scales), list(ratios))
        w.case(name, arrays={"scales": torch.tensor(scales, dtype=torch.float32),
                             "ratios": torch.tensor(ratios, dtype=torch.float32), "output": out})
    for name, (h, wd), grids, sizes, ratios in GRIDS:
        ag = AnchorGenerator(sizes, ratios)
        images = ImageList(torch.zeros(1, 3, h, wd), [(h - 3, wd - 5)])
        feats = [torch.zeros(1, 4, gh, gw) for gh, gw in grids]
        out = ag(images, feats)[0]
        w.case(name, params={"image_h": h, "image_w": wd},
               arrays={"grid_sizes": torch.tensor(grids, dtype=torch.int32),
                       "sizes": torch.tensor(sizes, dtype=torch.float32),
                       "ratios": torch.tensor(ratios, dtype=torch.float32), "output": out})
    w.save()


if __name__ == "__main__":
    main()
