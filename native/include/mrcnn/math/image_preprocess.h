/* image_preprocess math, written once for native/cpu/image_preprocess*.cpp and
 * cuda/image_preprocess.cu: torchvision's normalization and torch 1.13's bilinear resize
 * (upsample_bilinear2d, align_corners False, no scale factor) for one output element.
 *
 * Bit-level notes. torch's CPU kernel (the oracle; generic NCHW path, AVX2 build) computes
 * per axis, for output index o of `out` from `in`:
 *     scale = (float)in / (float)out                          float
 *     src   = (double)scale * (o + 0.5) - 0.5, 0 if negative   double (0.5 is a double literal)
 *     i0 = (int64)src, i1 = i0 + (i0 < in - 1), l1 = (float)clamp(src - i0, 0, 1), l0 = 1 - l1
 * and an axis whose size does not change uses (o, o, 1, 0). Its Interpolate loop evaluates
 * `t0 * w0 + t1 * w1` (x first within each of the two rows, then the rows), compiled to
 * fma(t0, w0, t1 * w1) with the second product rounded on its own: lerp() below. The
 * normalization (x - mean) / std is two float ops per tap, so normalizing the four taps here
 * gives exactly the normalized image torch interpolates. Verified against torch 1.13 over
 * up- and downsampling shapes (0 of 20,000 outputs differ). */
#pragma once
#include <math.h>
#include "mrcnn/api.h"
#include "mrcnn/hd.h"
#include "mrcnn/image_preprocess.h"
#include "mrcnn/math/fp.h"

namespace mrcnn {
namespace image_preprocess_math {

// The two source indices and weights of one output index along one axis.
struct Tap {
  int i0, i1;
  float l0, l1;
};

MRCNN_HD float axis_scale(int in, int out) { return (float)in / (float)out; }

MRCNN_HD Tap tap(int o, int in, int out, float scale) {
  Tap t;
  if (in == out) {
    t.i0 = t.i1 = o;
    t.l0 = 1.0f;
    t.l1 = 0.0f;
    return t;
  }
  double src = (double)scale * ((double)o + 0.5) - 0.5;
  if (src < 0.0) src = 0.0;
  int i0 = (int)src;
  if (i0 > in - 1) i0 = in - 1;
  double l = src - (double)i0;
  l = l < 0.0 ? 0.0 : (l > 1.0 ? 1.0 : l);
  t.i0 = i0;
  t.i1 = i0 + (i0 < in - 1 ? 1 : 0);
  t.l1 = (float)l;
  t.l0 = 1.0f - t.l1;
  return t;
}

// torch's `t0 * w0 + t1 * w1` as its binary evaluates it: fma(t0, w0, round(t1 * w1)).
MRCNN_HD float lerp(float t0, float w0, float t1, float w1) { return fmaf(t0, w0, fp::mul_rn(t1, w1)); }

// torchvision's normalize: (x - mean) / std in float32.
MRCNN_HD float normalize(float x, float mean, float std) { return (x - mean) / std; }

// Output element (y, x) channel ch of the resized normalized image; img is [h][w][c].
MRCNN_HD float resized(const float* img, int w, int c, int ch, const Tap& ty, const Tap& tx, float mean,
                       float std) {
  const float* r0 = img + (size_t)ty.i0 * w * c + ch;
  const float* r1 = img + (size_t)ty.i1 * w * c + ch;
  const float t0 = lerp(normalize(r0[(size_t)tx.i0 * c], mean, std), tx.l0,
                        normalize(r0[(size_t)tx.i1 * c], mean, std), tx.l1);
  const float t1 = lerp(normalize(r1[(size_t)tx.i0 * c], mean, std), tx.l0,
                        normalize(r1[(size_t)tx.i1 * c], mean, std), tx.l1);
  return lerp(t0, ty.l0, t1, ty.l1);
}

// Argument checks shared by the entry points of every backend (host code).
inline int check_args(const float* image, int h, int w, int c, const float* mean, const float* std, int out_h,
                      int out_w, const float* out, int pad_h, int pad_w, const void* workspace,
                      size_t workspace_bytes, size_t needed) {
  const char* op = "image_preprocess";
  if (h < 1 || w < 1 || c < 1 || c > MRCNN_PREPROCESS_MAX_CHANNELS)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: image %dx%dx%d (need h, w >= 1, 1 <= c <= %d)", op, h, w, c,
                      MRCNN_PREPROCESS_MAX_CHANNELS);
  if (out_h < 1 || out_w < 1 || out_h > pad_h || out_w > pad_w)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: resized %dx%d must be >= 1 and fit the slot %dx%d", op,
                      out_h, out_w, pad_h, pad_w);
  if ((long long)h * w * c > (1LL << 40) || (long long)pad_h * pad_w * c > (1LL << 40))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: image or slot too large", op);
  if (!image || !out || !mean || !std) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null pointer", op);
  for (int i = 0; i < c; ++i)
    if (!isfinite(mean[i]) || !isfinite(std[i]) || std[i] == 0.0f)
      return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: mean %g / std %g of channel %d (finite, std != 0)", op,
                        mean[i], std[i], i);
  if (workspace_bytes < needed || (needed > 0 && !workspace))
    return mrcnn_fail(MRCNN_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes, %zu needed", op, workspace_bytes,
                      needed);
  const char* a = (const char*)image;
  const char* b = (const char*)out;
  const char* ws = (const char*)workspace;
  const size_t ab = (size_t)h * w * c * sizeof(float), bb = (size_t)pad_h * pad_w * c * sizeof(float);
  if (a < b + bb && b < a + ab) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: out overlaps the image", op);
  if (needed > 0 && ((ws < a + ab && a < ws + needed) || (ws < b + bb && b < ws + needed)))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: the workspace overlaps the image or out", op);
  return MRCNN_OK;
}

}  // namespace image_preprocess_math
}  // namespace mrcnn
