"""Golden cases for image_preprocess: torchvision 0.14's GeneralizedRCNNTransform (eval mode:
normalize, resize, batch_images) as the oracle.

Batch cases (`batch_*`): params min_size, max_size, size_divisible, images (count); arrays
image0, image1, ... (each [3, H, W] float32 in [0, 1], torch's CHW layout), mean and std
(float32 [3]), output = ImageList.tensors [N, 3, Hp, Wp], image_sizes int32 [N, 2]. Small
min/max sizes keep the file small; the cases cover up- and downsampling, a size bound by
max_size, an image already at its target size (scale 1), odd sizes, and a two-image batch of
different sizes (padding to the common size rounded up to size_divisible).

Size cases (`sizes_*`): the Mask R-CNN configuration (800, 1333) on typical and extreme image
sizes: params min_size, max_size; arrays input_sizes int32 [K, 2] and resized int32 [K, 2], as
GeneralizedRCNNTransform.resize produces them (run on single-channel zero images).

Run: /usr/bin/python3 tools/goldens/gen_image_preprocess.py
"""
import os
import sys

import torch
from torchvision.models.detection.transform import GeneralizedRCNNTransform

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

MEAN = [0.485, 0.456, 0.406]
STD = [0.229, 0.224, 0.225]

# name, min_size, max_size, [(H, W), ...]
BATCHES = [
    ("batch_upsample", 48, 80, [(37, 53)]),
    ("batch_downsample_max_size_bound", 48, 80, [(120, 45)]),
    ("batch_scale_one", 40, 100, [(40, 70)]),
    ("batch_odd_sizes", 33, 61, [(17, 29)]),
    ("batch_two_images", 36, 60, [(30, 44), (41, 25)]),
]

SIZES = [(480, 640), (427, 640), (640, 480), (375, 500), (333, 500), (612, 612), (640, 427),
         (1, 1), (7, 2000), (2000, 7), (800, 1333), (801, 1334), (1024, 768), (300, 2000)]


def main():
    g = torch.Generator().manual_seed(20240616)
    w = GoldenWriter("image_preprocess")
    for name, min_size, max_size, shapes in BATCHES:
        t = GeneralizedRCNNTransform(min_size, max_size, MEAN, STD).eval()
        images = [torch.rand(3, h, wd, generator=g) for h, wd in shapes]
        with torch.no_grad():
            image_list, _ = t(images)
        arrays = {f"image{i}": img for i, img in enumerate(images)}
        arrays.update({"mean": torch.tensor(MEAN, dtype=torch.float32),
                       "std": torch.tensor(STD, dtype=torch.float32),
                       "output": image_list.tensors,
                       "image_sizes": torch.tensor(image_list.image_sizes, dtype=torch.int32)})
        w.case(name, params={"min_size": min_size, "max_size": max_size,
                             "size_divisible": t.size_divisible, "images": len(images)}, arrays=arrays)
    t = GeneralizedRCNNTransform(800, 1333, MEAN, STD).eval()
    resized = []
    with torch.no_grad():
        for h, wd in SIZES:
            out, _ = t.resize(torch.zeros(1, h, wd))
            resized.append(list(out.shape[-2:]))
    w.case("sizes_mask_rcnn_800_1333", params={"min_size": 800, "max_size": 1333},
           arrays={"input_sizes": torch.tensor(SIZES, dtype=torch.int32),
                   "resized": torch.tensor(resized, dtype=torch.int32)})
    w.save()


if __name__ == "__main__":
    main()
