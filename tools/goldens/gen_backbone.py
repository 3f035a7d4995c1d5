"""Golden cases for the ResNet-FPN backbone (dev.maskrcnn4j.model.Backbone): torchvision 0.14's
BackboneWithFPN over its own ResNet (BasicBlock / Bottleneck, FrozenBatchNorm2d) as the oracle,
returned layers 1..4, FPN over C2..C5 with LastLevelMaxPool, exactly as _resnet_fpn_extractor
builds it, but narrow enough to commit: the ResNet's widths are scaled from 64 to `width`
(stem and stage i: width * 2^i planes, x4 after Bottleneck blocks) by overriding only
ResNet._make_layer, and the FPN has `fpn` channels.

FrozenBatchNorm statistics are random (weight, bias, running_mean, running_var) so the fold is
exercised; eps is 0.0 (torchvision's COCO v1 weights) or 1e-5 (its default).

Each case stores params depth, width, fpn, eps, weight_count, fp32_error (torchvision's float32
outputs against the same model in float64: max over maps of max|diff| / max|fp64|); the input `images` (NCHW); every state-dict
entry under its torchvision 0.14 key ("backbone.body.conv1.weight", ...); and the outputs
`features_0`..`features_3`, `features_pool` (NCHW), torchvision's names "0".."3", "pool".

Cases keys_<arch> (no arrays) give key_count and list, as params "<key> <d0,d1,...>", every backbone state-dict key
and shape of the full-size models: torchvision's maskrcnn_resnet50_fpn and
resnet_fpn_backbone(resnet18..152), without the num_batches_tracked buffers inference ignores.

Run: /usr/bin/python3 tools/goldens/gen_backbone.py
"""
import copy
import os
import sys
from collections import OrderedDict
from functools import partial

import torch
from torch import nn
from torchvision.models import resnet
from torchvision.models.detection import maskrcnn_resnet50_fpn
from torchvision.models.detection.backbone_utils import BackboneWithFPN, resnet_fpn_backbone
from torchvision.ops.feature_pyramid_network import FeaturePyramidNetwork, LastLevelMaxPool
from torchvision.ops.misc import FrozenBatchNorm2d

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402

LAYERS = {18: (resnet.BasicBlock, [2, 2, 2, 2]), 34: (resnet.BasicBlock, [3, 4, 6, 3]),
          50: (resnet.Bottleneck, [3, 4, 6, 3]), 101: (resnet.Bottleneck, [3, 4, 23, 3]),
          152: (resnet.Bottleneck, [3, 8, 36, 3])}

# name, depth, width, fpn channels, eps, (n, h, w)
# 64x96 gives C5 2x3 and an odd LastLevelMaxPool (P6 1x2); width 3 gives channel counts that are
# not multiples of any vector width.
CASES = [
    ("r18_w4_fpn8_eps1e-5_batch2_64x64", 18, 4, 8, 1e-5, (2, 64, 64)),
    ("r50_w3_fpn8_eps0_64x96", 50, 3, 8, 0.0, (1, 64, 96)),
]


FULL_SIZE = [("maskrcnn_resnet50_fpn", lambda: maskrcnn_resnet50_fpn(weights=None, weights_backbone=None))] + [
    (f"resnet{d}_fpn", partial(resnet_fpn_backbone, backbone_name=f"resnet{d}", weights=None, trainable_layers=5))
    for d in (18, 34, 50, 101, 152)]


class NarrowResNet(resnet.ResNet):
    """torchvision's ResNet with every width scaled by width/64 (the stem is rebuilt before layer1)."""

    def __init__(self, block, layers, width, norm_layer):
        self.width = width
        super().__init__(block, layers, norm_layer=norm_layer)

    def _make_layer(self, block, planes, blocks, stride=1, dilate=False):
        if planes == 64:  # the first stage: the stem was built 64 wide, rebuild it `width` wide
            self.inplanes = self.width
            self.conv1 = nn.Conv2d(3, self.width, kernel_size=7, stride=2, padding=3, bias=False)
            self.bn1 = self._norm_layer(self.width)
        return super()._make_layer(block, planes * self.width // 64, blocks, stride, dilate)


def build(depth, width, fpn, eps, g, n, h, w):
    block, layers = LAYERS[depth]
    body = NarrowResNet(block, layers, width, partial(FrozenBatchNorm2d, eps=eps))
    c2 = width * block.expansion
    model = BackboneWithFPN(body, {"layer1": "0", "layer2": "1", "layer3": "2", "layer4": "3"},
                            [c2, 2 * c2, 4 * c2, 8 * c2], fpn, extra_blocks=LastLevelMaxPool())
    with torch.no_grad():
        for name, t in model.state_dict().items():
            if t.dim() == 4:  # convolutions: He-normal (fan in)
                fan_in = t.shape[1] * t.shape[2] * t.shape[3]
                t.copy_(torch.randn(t.shape, generator=g) * (2.0 / fan_in) ** 0.5)
            elif name.startswith("fpn."):  # FPN biases
                t.copy_(torch.rand(t.shape, generator=g) * 0.2 - 0.1)
        calibrate(model, g, n, h, w)
        if eps == 0.0:
            # conv1 * s with running_mean * s and running_var * s^2 computes the same function when eps
            # is 0, but running_var ~1e-7 makes eps matter: this case fails if eps 1e-5 were used.
            s = 1e-3
            model.body.conv1.weight.mul_(s)
            model.body.bn1.running_mean.mul_(s)
            model.body.bn1.running_var.mul_(s * s)
    return model.eval()


def calibrate(model, g, n, h, w):
    """Random FrozenBatchNorm statistics near the true ones of a calibration input, so that
    activations keep a trained network's scale through every block (random statistics alone
    compound to 1e6 by C5): running_mean/var are the input's per-channel mean/variance times
    random factors, weight in [0.5, 1.5), bias in [-0.2, 0.2). Each norm is set by a pre-hook just
    before it runs, so later layers see already normalized activations."""
    def set_stats(module, inputs):
        x = inputs[0]
        c = x.shape[1]
        mean = x.mean(dim=(0, 2, 3))
        var = x.var(dim=(0, 2, 3), unbiased=False)
        module.running_mean.copy_(mean + (torch.rand(c, generator=g) - 0.5) * 0.2 * var.sqrt())
        module.running_var.copy_(var * (torch.rand(c, generator=g) * 0.5 + 0.75))
        module.weight.copy_(torch.rand(c, generator=g) + 0.5)
        module.bias.copy_(torch.rand(c, generator=g) * 0.4 - 0.2)
    norms = [m for m in model.modules() if isinstance(m, FrozenBatchNorm2d)]
    hooks = [m.register_forward_pre_hook(set_stats) for m in norms]
    model(torch.rand(n, 3, h, w, generator=g) * 4 - 2)
    for hk in hooks:
        hk.remove()


def fpn_odd_sizes(w, g):
    """Case fpn_odd_sizes: torchvision's FeaturePyramidNetwork + LastLevelMaxPool alone on the odd
    C2..C5 sizes of an unpadded 100x134 image (25x34, 13x17, 7x9, 4x5): every top-down step
    upsamples to the lateral's exact size, which is not twice the top's. Arrays c_0..c_3 (NCHW
    inputs), the FPN weights under their backbone.fpn.* keys, and features_* as above."""
    in_channels, out_channels = [3, 5, 6, 7], 4
    fpn = FeaturePyramidNetwork(in_channels, out_channels, extra_blocks=LastLevelMaxPool()).eval()
    with torch.no_grad():
        for t in fpn.state_dict().values():
            t.copy_(torch.rand(t.shape, generator=g) - 0.5)
        feats = OrderedDict((str(i), torch.rand(2, c, h, wd, generator=g) * 2 - 1)
                            for i, (c, (h, wd)) in enumerate(zip(in_channels, [(25, 34), (13, 17), (7, 9), (4, 5)])))
        out = fpn(feats)
    arrays = {"c_" + k: t for k, t in feats.items()}
    arrays.update({"backbone.fpn." + k: t for k, t in fpn.state_dict().items()})
    arrays.update({"features_" + k: t for k, t in out.items()})
    w.case("fpn_odd_sizes", params={"in_channels": ",".join(map(str, in_channels)), "fpn": out_channels},
           arrays=arrays)


def frozen_bn(w, g):
    """Case frozen_bn: FrozenBatchNorm2d's scale and shift, torchvision's expressions in float32,
    for eps 0.0 and 1e-5, over variances from 0 (eps 1e-5 only) and subnormal-adjacent to large."""
    c = 64
    weight = torch.randn(c, generator=g)
    bias = torch.randn(c, generator=g)
    mean = torch.randn(c, generator=g) * 3
    var = torch.exp(torch.rand(c, generator=g) * 40 - 30)  # 1e-13 .. 2e4
    var[:4] = torch.tensor([1e-30, 1e-7, 1.0, 3.0])
    arrays = {"weight": weight, "bias": bias, "running_mean": mean, "running_var": var}
    for eps, name in ((0.0, "eps0"), (1e-5, "eps1e-5")):
        bn = FrozenBatchNorm2d(c, eps=eps)
        bn.weight.copy_(weight)
        bn.bias.copy_(bias)
        bn.running_mean.copy_(mean)
        bn.running_var.copy_(var)
        # the first lines of FrozenBatchNorm2d.forward
        scale = bn.weight.reshape(1, -1, 1, 1) * (bn.running_var.reshape(1, -1, 1, 1) + bn.eps).rsqrt()
        shift = bn.bias.reshape(1, -1, 1, 1) - bn.running_mean.reshape(1, -1, 1, 1) * scale
        arrays["scale_" + name] = scale.reshape(-1)
        arrays["shift_" + name] = shift.reshape(-1)
        x = torch.randn(1, c, 3, 2, generator=g)
        arrays["x_" + name] = x
        arrays["y_" + name] = bn(x)
    w.case("frozen_bn", arrays=arrays)


def main():
    g = torch.Generator().manual_seed(20261124)
    w = GoldenWriter("backbone")
    for name, depth, width, fpn, eps, (n, h, wd) in CASES:
        model = build(depth, width, fpn, eps, g, n, h, wd)
        images = torch.rand(n, 3, h, wd, generator=g) * 4 - 2  # about the range of normalized images
        with torch.no_grad():
            out = model(images)
            exact = copy.deepcopy(model).double()(images.double())
        # torchvision's own float32 error on this case: max over the maps of
        # max|fp32 - fp64| / max|fp64| (the scale of rounding this network amplifies)
        fp32_error = max(float((out[k].double() - exact[k]).abs().max() / exact[k].abs().max()) for k in out)
        arrays = {"images": images}
        for k, t in model.state_dict().items():
            arrays["backbone." + k] = t
        for k, t in out.items():
            arrays["features_" + k] = t
        w.case(name, params={"depth": depth, "width": width, "fpn": fpn, "eps": eps,
                             "weight_count": len(model.state_dict()), "fp32_error": fp32_error}, arrays=arrays)
    frozen_bn(w, g)
    fpn_odd_sizes(w, g)
    for arch, make in FULL_SIZE:
        keys = {"backbone." + k if not k.startswith("backbone.") else k: ",".join(str(d) for d in t.shape)
                for k, t in make().state_dict().items()
                if (k.startswith("backbone.") or not arch.startswith("maskrcnn")) and not k.endswith("num_batches_tracked")}
        w.case("keys_" + arch, params={"key_count": len(keys), **keys})
    w.save()


if __name__ == "__main__":
    main()
