"""Golden cases for box_decode: torchvision 0.14's BoxCoder.decode (float32), optionally
followed by box_ops.clip_boxes_to_image, as the oracle.

Each case stores deltas [N, K*4], boxes [N, 4] and output [N, K, 4]; params wx, wy, ww, wh
(the BoxCoder weights), clip (bool), image_h, image_w. bbox_xform_clip is torchvision's
default log(1000/16). Covers the RPN (K = 1, weights 1) on real AnchorGenerator anchors, the
box head (K = num_classes, weights 10/10/5/5) with 91 and 5 classes, deltas beyond the dw/dh
clip, NaN and infinite deltas, zero-width and inverted reference boxes, clipped and unclipped.

Run: /usr/bin/python3 tools/goldens/gen_box_decode.py
"""
import math
import os
import sys

import torch
from torchvision.models.detection import _utils as det_utils
from torchvision.models.detection.anchor_utils import AnchorGenerator
from torchvision.models.detection.image_list import ImageList
from torchvision.ops import boxes as box_ops

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

RPN_WEIGHTS = (1.0, 1.0, 1.0, 1.0)
BOX_HEAD_WEIGHTS = (10.0, 10.0, 5.0, 5.0)


def decode(deltas, boxes, weights, clip_to):
    coder = det_utils.BoxCoder(weights)  # bbox_xform_clip = log(1000. / 16)
    assert coder.bbox_xform_clip == math.log(1000.0 / 16)
    out = coder.decode(deltas, [boxes])  # [N, K, 4]
    if clip_to is not None:
        out = box_ops.clip_boxes_to_image(out, clip_to)
    return out


def rpn_anchors(g, count):
    """A sample of the anchors torchvision's RPN decodes against (one 64x96 image, stride 4)."""
    gen = AnchorGenerator(((32,),), ((0.5, 1.0, 2.0),))
    images = ImageList(torch.zeros(1, 3, 64, 96), [(64, 96)])
    anchors = gen(images, [torch.zeros(1, 8, 16, 24)])[0]
    pick = torch.randperm(anchors.shape[0], generator=g)[:count]
    return anchors[pick].contiguous()


def proposals(g, n, h, w):
    x1 = torch.rand(n, generator=g) * w * 0.8
    y1 = torch.rand(n, generator=g) * h * 0.8
    bw = torch.rand(n, generator=g) * w * 0.5 + 1
    bh = torch.rand(n, generator=g) * h * 0.5 + 1
    return torch.stack([x1, y1, x1 + bw, y1 + bh], dim=1)


def main():
    g = torch.Generator().manual_seed(20240611)
    w = GoldenWriter("box_decode")

    def add(name, deltas, boxes, weights, clip_to):
        out = decode(deltas, boxes, weights, clip_to)
        k = deltas.shape[1] // 4
        assert out.shape == (boxes.shape[0], k, 4), name
        h, wd = clip_to if clip_to is not None else (0, 0)
        w.case(name, params={"wx": weights[0], "wy": weights[1], "ww": weights[2], "wh": weights[3],
                             "clip": clip_to is not None, "image_h": h, "image_w": wd},
               arrays={"deltas": deltas, "boxes": boxes, "output": out})

    anchors = rpn_anchors(g, 157)
    d = torch.randn(157, 4, generator=g) * 0.7
    d[:6, 2:] = torch.tensor([[4.0, 4.2], [4.2, 4.0], [6.0, -6.0], [30.0, 0.5], [-30.0, 1.0], [4.135, 4.136]])
    add("rpn_k1", d, anchors, RPN_WEIGHTS, None)
    add("rpn_k1_clipped", d, anchors, RPN_WEIGHTS, (61, 90))

    boxes = proposals(g, 9, 480, 640)
    add("box_head_k91_clipped", torch.randn(9, 91 * 4, generator=g) * 2, boxes, BOX_HEAD_WEIGHTS, (480, 640))
    boxes = proposals(g, 23, 100, 150)
    add("box_head_k5", torch.randn(23, 5 * 4, generator=g) * 3, boxes, BOX_HEAD_WEIGHTS, None)
    add("box_head_k5_clipped_odd_size", torch.randn(23, 5 * 4, generator=g) * 3, boxes, BOX_HEAD_WEIGHTS, (37, 53))

    # Special values: NaN and infinite deltas, dw/dh above the clip, degenerate reference boxes.
    boxes = proposals(g, 12, 60, 80)
    boxes[3, 2] = boxes[3, 0]          # zero width
    boxes[4, 3] = boxes[4, 1] - 5.0    # inverted (negative height)
    boxes[5] = torch.tensor([-10.0, -20.0, 5.0, 7.0])  # partly outside the image
    d = torch.randn(12, 3 * 4, generator=g)
    d[0, 0] = float("nan")
    d[1, 2] = float("inf")
    d[1, 7] = float("-inf")
    d[2, 3] = float("nan")
    d[6, 0] = 1e3
    d[7, 5] = -1e3
    d[8, 2:4] = 50.0
    add("special_values", d, boxes, BOX_HEAD_WEIGHTS, None)
    add("special_values_clipped", d, boxes, BOX_HEAD_WEIGHTS, (60, 80))
    w.save()


if __name__ == "__main__":
    main()
