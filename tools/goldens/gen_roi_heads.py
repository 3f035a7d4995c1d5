"""Golden cases for the model block dev.maskrcnn4j.model.RoiHeads: torchvision 0.14's RoIHeads
of Mask R-CNN in eval mode (MultiScaleRoIAlign 7x7 / 14x14 over featmap_names '0'..'3',
sampling 2; TwoMLPHead; FastRCNNPredictor; postprocess_detections; MaskRCNNHeads with dilation
1; MaskRCNNPredictor; maskrcnn_inference), built at a tiny width with random weights, as the
oracle of the whole block: box-head outputs and the final detections and masks.

Each case stores params (num_classes, fpn_channels, representation_size, mask_head_channels,
score_thresh, nms_thresh, detections_per_img, images), the weights as arrays 'w.<state-dict
key>' (torchvision 0.14 spelling, prefix roi_heads.), features_0..4 (NCHW, the padded batch; the
5th, 'pool', is passed to torchvision too and must be ignored), image_sizes [N, 2] (h, w of the
resized images), proposals_<i> [K_i, 4], class_logits [sum K_i, C], box_regression
[sum K_i, 4C], and per image boxes_<i> [D_i, 4], scores_<i> [D_i], labels_<i> [D_i] (int64),
mask_probs_<i> [D_i, 28, 28].

The proposals cover all four pooled levels (sqrt(area) from ~10 to ~600 px: LevelMapper levels
2..5), boxes partly outside the image (the decoded boxes are clipped), zero-width proposals
(whose decoded boxes remove_small_boxes drops), and enough overlap per class for NMS to
suppress; one case caps the detections per image below the survivors.

Run: /usr/bin/python3 tools/goldens/gen_roi_heads.py
"""
import os
import sys
from collections import OrderedDict

import torch
from torchvision.models.detection.faster_rcnn import FastRCNNPredictor, TwoMLPHead
from torchvision.models.detection.mask_rcnn import MaskRCNNHeads, MaskRCNNPredictor
from torchvision.models.detection.roi_heads import RoIHeads
from torchvision.ops import MultiScaleRoIAlign

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from golden_io import GoldenWriter  # noqa: E402


class Holder(torch.nn.Module):
    """Gives the heads the 'roi_heads.' prefix of a Mask R-CNN state dict."""

    def __init__(self, heads):
        super().__init__()
        self.roi_heads = heads


def build(g, channels, rep, mask_channels, num_classes, score_thresh, nms_thresh, detections):
    heads = RoIHeads(
        MultiScaleRoIAlign(["0", "1", "2", "3"], 7, 2), TwoMLPHead(channels * 49, rep),
        FastRCNNPredictor(rep, num_classes), 0.5, 0.5, 512, 0.25, (10.0, 10.0, 5.0, 5.0),
        score_thresh, nms_thresh, detections,
        mask_roi_pool=MultiScaleRoIAlign(["0", "1", "2", "3"], 14, 2),
        mask_head=MaskRCNNHeads(channels, [mask_channels] * 4, 1),
        mask_predictor=MaskRCNNPredictor(mask_channels, mask_channels, num_classes))
    holder = Holder(heads).eval()
    with torch.no_grad():
        for name, p in holder.named_parameters():
            fan_in = p[0].numel() if p.dim() > 1 else 1
            if "conv5_mask" in name and p.dim() > 1:
                fan_in = p.shape[0]  # ConvTranspose2d weight [in, out, 2, 2]: each output sums `in` terms
            scale = (2.0 / fan_in) ** 0.5 if p.dim() > 1 else 0.1
            p.copy_(torch.randn(p.shape, generator=g) * scale)
        # Spread class scores and box deltas so that several classes pass the threshold and the
        # decoded boxes of one class overlap (NMS has work to do).
        heads.box_predictor.cls_score.weight.mul_(1.5)
        heads.box_predictor.bbox_pred.weight.mul_(2.0)
    return holder


def proposals_for(g, h, w, k):
    cx = torch.rand(k, generator=g) * w
    cy = torch.rand(k, generator=g) * h
    side = torch.exp(torch.rand(k, generator=g) * (torch.log(torch.tensor(600.0)) - torch.log(torch.tensor(10.0)))
                     + torch.log(torch.tensor(10.0)))
    aspect = torch.exp((torch.rand(k, generator=g) - 0.5) * 1.5)
    bw = side * aspect.sqrt()
    bh = side / aspect.sqrt()
    boxes = torch.stack([cx - bw / 2, cy - bh / 2, cx + bw / 2, cy + bh / 2], dim=1)
    # clipped like the RPN's proposals, except a few left partly outside the image
    clipped = boxes.clone()
    clipped[:, 0::2] = clipped[:, 0::2].clamp(0, w)
    clipped[:, 1::2] = clipped[:, 1::2].clamp(0, h)
    outside = torch.rand(k, generator=g) < 0.1
    boxes = torch.where(outside[:, None], boxes, clipped)
    # near-duplicates of earlier proposals: overlapping detections of one class
    dup = torch.arange(k) % 5 == 4
    boxes[dup] = boxes[torch.arange(k)[dup] - 1] + torch.randn(int(dup.sum()), 4, generator=g) * 2
    boxes[:, 2:] = torch.maximum(boxes[:, 2:], boxes[:, :2])
    boxes[k // 2, 2] = boxes[k // 2, 0]  # zero width
    return boxes


def case(writer, name, g, image_sizes, ks, num_classes, score_thresh, nms_thresh, detections,
         channels=8, rep=16, mask_channels=8):
    holder = build(g, channels, rep, mask_channels, num_classes, score_thresh, nms_thresh, detections)
    heads = holder.roi_heads
    n = len(image_sizes)
    stride = 32
    ph = -(-max(s[0] for s in image_sizes) // stride) * stride
    pw = -(-max(s[1] for s in image_sizes) // stride) * stride
    features = OrderedDict()
    for level, key in enumerate(["0", "1", "2", "3", "pool"]):
        f = 2 ** (level + 2)
        features[key] = torch.randn(n, channels, ph // f, pw // f, generator=g)
    proposals = [proposals_for(g, h, w, k) for (h, w), k in zip(image_sizes, ks)]
    captured = {}
    heads.box_predictor.register_forward_hook(lambda m, i, o: captured.update(logits=o[0], regression=o[1]))
    with torch.no_grad():
        result, _ = heads(features, proposals, [tuple(s) for s in image_sizes])
    params = {"num_classes": num_classes, "fpn_channels": channels, "representation_size": rep,
              "mask_head_channels": mask_channels, "score_thresh": score_thresh, "nms_thresh": nms_thresh,
              "detections_per_img": detections, "images": n}
    arrays = OrderedDict()
    for key, p in holder.state_dict().items():
        arrays["w." + key] = p
    for level, key in enumerate(features):
        arrays[f"features_{level}"] = features[key]
    arrays["image_sizes"] = torch.tensor(image_sizes, dtype=torch.int64)
    for i, p in enumerate(proposals):
        arrays[f"proposals_{i}"] = p
    arrays["class_logits"] = captured["logits"]
    arrays["box_regression"] = captured["regression"]
    for i, r in enumerate(result):
        arrays[f"boxes_{i}"] = r["boxes"]
        arrays[f"scores_{i}"] = r["scores"]
        arrays[f"labels_{i}"] = r["labels"]
        arrays[f"mask_probs_{i}"] = r["masks"][:, 0]
        print(f"{name} image {i}: {len(proposals[i])} proposals -> {len(r['boxes'])} detections, labels "
              f"{torch.bincount(r['labels'], minlength=num_classes).tolist()}", file=sys.stderr)
    writer.case(name, params, arrays)


def main():
    g = torch.Generator().manual_seed(20260114)
    w = GoldenWriter("roi_heads")
    case(w, "batch2", g, [[224, 256], [200, 240]], [32, 24], num_classes=4, score_thresh=0.05,
         nms_thresh=0.5, detections=100)
    case(w, "single_capped", g, [[128, 160]], [40], num_classes=6, score_thresh=0.1, nms_thresh=0.4,
         detections=12)
    w.save()


if __name__ == "__main__":
    main()
