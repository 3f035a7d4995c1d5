/* box_decode math, written once for native/cpu/box_decode.cpp and cuda/box_decode.cu:
 * torchvision's BoxCoder.decode_single and clip_boxes_to_image for one (box, class) pair,
 * in float32 and in torch's operation order (every tensor op of torch rounds to float32;
 * products that feed an add go through fp::mul_rn so no compiler fuses them). */
#pragma once
#include <math.h>
#include "mrcnn/api.h"
#include "mrcnn/hd.h"
#include "mrcnn/math/fp.h"

namespace mrcnn {
namespace box_decode_math {

struct Params {
  float wx, wy, ww, wh;  // BoxCoder weights
  float dwh_clip;        // bbox_xform_clip
  int clip;              // clip_boxes_to_image?
  float image_h, image_w;
};

struct Box { float x1, y1, x2, y2; };

// Decodes delta (dx, dy, dw, dh) against the reference box ref (x1, y1, x2, y2).
MRCNN_HD Box decode(Box ref, float ddx, float ddy, float ddw, float ddh, const Params& p) {
  const float w = ref.x2 - ref.x1;
  const float h = ref.y2 - ref.y1;
  const float cx = ref.x1 + fp::mul_rn(0.5f, w);
  const float cy = ref.y1 + fp::mul_rn(0.5f, h);
  const float dx = ddx / p.wx;
  const float dy = ddy / p.wy;
  const float dw = fp::min_first(ddw / p.ww, p.dwh_clip);  // torch.clamp(max=): NaN stays
  const float dh = fp::min_first(ddh / p.wh, p.dwh_clip);
  const float px = fp::mul_rn(dx, w) + cx;
  const float py = fp::mul_rn(dy, h) + cy;
  const float half_w = fp::mul_rn(0.5f, fp::mul_rn(expf(dw), w));
  const float half_h = fp::mul_rn(0.5f, fp::mul_rn(expf(dh), h));
  Box b{px - half_w, py - half_h, px + half_w, py + half_h};
  if (p.clip) {
    b.x1 = fp::clamp_torch(b.x1, 0.0f, p.image_w);
    b.y1 = fp::clamp_torch(b.y1, 0.0f, p.image_h);
    b.x2 = fp::clamp_torch(b.x2, 0.0f, p.image_w);
    b.y2 = fp::clamp_torch(b.y2, 0.0f, p.image_h);
  }
  return b;
}

// Argument checks shared by the entry points of every backend (host code). Fills *p.
inline int check_args(const float* deltas, const float* boxes, int n, int k, float wx, float wy,
                      float ww, float wh, float dwh_clip, int clip, int image_h, int image_w,
                      const float* out, Params* p) {
  const char* op = "box_decode";
  if (n < 0 || k < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: n=%d must be >= 0 and k=%d >= 1", op, n, k);
  if ((long long)n * k > (1LL << 40))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: n*k = %lld is too large", op, (long long)n * k);
  const float ws[4] = {wx, wy, ww, wh};
  for (float v : ws)
    if (!(v > 0.0f) || isinf(v))
      return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: weights (%g, %g, %g, %g) must be finite and > 0", op,
                        wx, wy, ww, wh);
  if (isnan(dwh_clip))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: dwh_clip is NaN", op);
  if (clip && (image_h < 0 || image_w < 0))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: image size %dx%d must be >= 0", op, image_h, image_w);
  if (n > 0 && (!deltas || !boxes || !out))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null pointer", op);
  const size_t out_bytes = (size_t)n * k * 4 * sizeof(float);
  const char* o = (const char*)out;
  const char* d = (const char*)deltas;
  const char* b = (const char*)boxes;
  if (n > 0 && ((o < d + out_bytes && d < o + out_bytes) ||
                (o < b + (size_t)n * 4 * sizeof(float) && b < o + out_bytes)))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: out overlaps deltas or boxes", op);
  p->wx = wx;
  p->wy = wy;
  p->ww = ww;
  p->wh = wh;
  p->dwh_clip = dwh_clip;
  p->clip = clip != 0;
  p->image_h = (float)image_h;
  p->image_w = (float)image_w;
  return MRCNN_OK;
}

}  // namespace box_decode_math
}  // namespace mrcnn
