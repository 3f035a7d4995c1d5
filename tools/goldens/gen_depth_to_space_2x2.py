"""Golden cases for depth_to_space_2x2: torch.nn.ConvTranspose2d(c_in, c_out, kernel_size=2,
stride=2) (+ torch.relu), torchvision's MaskRCNNPredictor.conv5_mask, as the oracle.

Each case stores input (NCHW), weight (ConvTranspose2d's [c_in][c_out][2][2]), bias (when
has_bias), output = [relu](conv_transpose2d(input, weight, bias, stride=2)) (NCHW), and
the op's own input/output as torch computes them, so the scatter is checked alone too:
depth = conv2d(input, W', b') (NCHW, 1x1, W'[(dy*2+dx)*c_out + co][ci] = weight[ci][co][dy][dx],
bias repeated 4 times) and scattered = [relu](depth rearranged: out[n][co][2y+dy][2x+dx] =
depth[n][(dy*2+dx)*c_out + co][y][x]). Params relu, has_bias.
Covers the mask head's shape at a reduced width (c_in 64 -> 91 classes, 7x7), ragged channel
counts, batch 2, a 1x1 map, with and without bias and ReLU.

Run: /usr/bin/python3 tools/goldens/gen_depth_to_space_2x2.py
"""
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

# name, n, c_in, c_out, h, w, has_bias, relu
CASES = [
    ("mask_head_64_to_91_relu", 1, 64, 91, 7, 7, True, True),
    ("ragged_batch2_relu", 2, 7, 3, 5, 6, True, True),
    ("no_relu", 1, 9, 8, 4, 3, True, False),
    ("no_bias_relu", 1, 12, 5, 3, 4, False, True),
    ("one_pixel", 1, 5, 2, 1, 1, True, True),
]


def main():
    g = torch.Generator().manual_seed(20240607)
    w = GoldenWriter("depth_to_space_2x2")
    for (name, n, c_in, c_out, h, wd, has_bias, relu) in CASES:
        x = torch.rand(n, c_in, h, wd, generator=g) * 2 - 1
        deconv = torch.nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2, padding=0, bias=has_bias)
        with torch.no_grad():
            deconv.weight.copy_((torch.rand(c_in, c_out, 2, 2, generator=g) * 2 - 1) / c_in ** 0.5)
            if has_bias:
                deconv.bias.copy_(torch.rand(c_out, generator=g) * 2 - 1)
            out = deconv(x)
            weight = deconv.weight.detach().clone()
            bias = deconv.bias.detach().clone() if has_bias else None
            # The 1x1 convolution the op follows: W'[(dy*2+dx)*c_out + co][ci] = weight[ci][co][dy][dx].
            w1 = weight.permute(2, 3, 1, 0).reshape(4 * c_out, c_in, 1, 1).contiguous()
            b1 = bias.repeat(4) if has_bias else None
            depth = F.conv2d(x, w1, b1)
            scattered = depth.view(n, 2, 2, c_out, h, wd).permute(0, 3, 4, 1, 5, 2).reshape(n, c_out, 2 * h, 2 * wd)
            if relu:
                out = torch.relu(out)
                scattered = torch.relu(scattered)
        arrays = {"input": x, "weight": weight}
        if has_bias:
            arrays["bias"] = bias
        arrays.update({"output": out, "depth": depth, "scattered": scattered})
        w.case(name, params={"relu": relu, "has_bias": has_bias}, arrays=arrays)
    w.save()


if __name__ == "__main__":
    main()
