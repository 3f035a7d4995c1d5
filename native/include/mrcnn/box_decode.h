/* Box decoding with torchvision 0.14 semantics: BoxCoder.decode_single, optionally followed by
 * clip_boxes_to_image, in one pass.
 *   deltas [n][k][4] (dx, dy, dw, dh for each of k classes; the RPN has k = 1, the box head
 *   k = num_classes), boxes [n][4] reference boxes (x1, y1, x2, y2), out [n][k][4].
 * Per row i and class j, in float32 and in torchvision's operation order:
 *   w = x2 - x1, h = y2 - y1, cx = x1 + 0.5*w, cy = y1 + 0.5*h
 *   dx = deltas/wx, dy = .../wy, dw = min(.../ww, dwh_clip), dh = min(.../wh, dwh_clip)
 *   px = dx*w + cx, py = dy*h + cy         (product rounded before the add: no FMA)
 *   pw = exp(dw)*w, ph = exp(dh)*h
 *   out = (px - 0.5*pw, py - 0.5*ph, px + 0.5*pw, py + 0.5*ph)
 *   clip != 0: x coordinates clamped to [0, image_w], y to [0, image_h] (torch.clamp: NaN
 *   stays NaN).
 * torchvision's weights: RPN (1, 1, 1, 1), box head (10, 10, 5, 5); dwh_clip is its
 * bbox_xform_clip log(1000/16) as float32. NaN or infinite inputs propagate as in torch
 * (dw = +inf is clamped to dwh_clip). exp is libm's expf on the CPU and CUDA's expf on the
 * GPU; torch uses Sleef's expf (1 ulp), so backends agree with torch to a few ulps.
 * Weights must be finite and > 0, image sizes >= 0 when clipping. out must not overlap the
 * inputs. n = 0 is a no-op. */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, box_decode,
    (const float* deltas, const float* boxes, int n, int k,
     float wx, float wy, float ww, float wh, float dwh_clip,
     int clip, int image_h, int image_w, float* out, void* stream))
