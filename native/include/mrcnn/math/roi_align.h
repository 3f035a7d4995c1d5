/* RoIAlign math, written once for the CPU loops (native/cpu/roi_align.cpp) and the CUDA
 * kernels (cuda/roi_align.cu): roi geometry, sample coordinates, bilinear taps with
 * torchvision 0.14's edge rules, and the FPN LevelMapper of MultiScaleRoIAlign.
 *
 * Bit-level notes (why the code looks the way it does):
 * - torchvision's CPU build has no FMA. A fused x*s - o can land a sample 1 ulp to the
 *   other side of a discontinuity (the -1 / H validity edges, the integer ceil of the
 *   adaptive grid, the floor of the level mapper), so products that feed an add go
 *   through mul_rn(), which the compiler cannot contract into an FMA on any target.
 * - Every expression keeps torchvision's evaluation order and float32 precision. */
#pragma once
#include <math.h>
#include "mrcnn/hd.h"
#include "mrcnn/math/fp.h"
#include "mrcnn/roi_align.h"  // MRCNN_MAX_LEVELS, mrcnn_fail and the status codes

namespace mrcnn {
namespace roi_align_math {

using fp::mul_rn;  // a*b rounded to float, never fused with a following add/sub

// Sampling grid of one roi: where bin (0,0) starts, bin sizes, samples per bin and the
// divisor of the bin average. valid == 0 (non-finite geometry) means: output zeros.
struct RoiGeometry {
  float start_h, start_w;
  float bin_h, bin_w;
  int grid_h, grid_w;  // >= 0; 0 means the bin has no sample (output 0)
  float count;         // max(grid_h * grid_w, 1)
  int valid;
};

// Adaptive grid: ceil(roi_size / pooled), clamped to [0, 2^30] so a huge or inverted box
// gives a defined int (torchvision converts the float unchecked; every real box is far
// below the bound, and a grid <= 0 has no sample there either).
MRCNN_HD int adaptive_grid(float roi_size, int pooled) {
  float g = ceilf(roi_size / (float)pooled);
  if (!(g > 0.f)) return 0;
  if (g > 1073741824.f) return 1073741824;
  return (int)g;
}

// torchvision roi_align: box (x1, y1, x2, y2) in image coordinates, scaled by
// spatial_scale, shifted by -0.5 when aligned; when not aligned the roi is at least 1x1.
MRCNN_HD RoiGeometry roi_geometry(float x1, float y1, float x2, float y2, float spatial_scale,
                                  int pooled_h, int pooled_w, int sampling_ratio, int aligned) {
  RoiGeometry g;
  const float offset = aligned ? 0.5f : 0.0f;
  g.start_w = mul_rn(x1, spatial_scale) - offset;
  g.start_h = mul_rn(y1, spatial_scale) - offset;
  const float end_w = mul_rn(x2, spatial_scale) - offset;
  const float end_h = mul_rn(y2, spatial_scale) - offset;
  float roi_w = end_w - g.start_w;
  float roi_h = end_h - g.start_h;
  if (!aligned) {  // force malformed rois to 1x1 (like std::max, NaN stays NaN)
    roi_w = roi_w < 1.f ? 1.f : roi_w;
    roi_h = roi_h < 1.f ? 1.f : roi_h;
  }
  g.bin_h = roi_h / (float)pooled_h;
  g.bin_w = roi_w / (float)pooled_w;
  g.valid = isfinite(g.start_w) && isfinite(g.start_h) && isfinite(roi_w) && isfinite(roi_h);
  if (!g.valid) {
    g.grid_h = g.grid_w = 0;
    g.count = 1.f;
    return g;
  }
  g.grid_h = sampling_ratio > 0 ? sampling_ratio : adaptive_grid(roi_h, pooled_h);
  g.grid_w = sampling_ratio > 0 ? sampling_ratio : adaptive_grid(roi_w, pooled_w);
  const long long n = (long long)g.grid_h * (long long)g.grid_w;
  g.count = (float)(n > 1 ? n : 1);
  return g;
}

// Coordinate of sample i (of `grid`) in bin p along one axis:
//   start + p * bin + (i + 0.5) * bin / grid, in torchvision's order.
MRCNN_HD float sample_coord(float start, int p, float bin, int i, int grid) {
  const float a = start + mul_rn((float)p, bin);
  const float b = mul_rn((float)i + .5f, bin) / (float)grid;
  return a + b;
}

// One axis of a bilinear tap: neighbours lo/hi and their weights (w_lo for lo, w_hi for
// hi). A coordinate outside [-1, size] (or NaN) samples zero: both weights 0, lo = hi = 0.
// Inside, it is clamped to 0 below and to size-1 above (then lo = hi = size-1).
struct AxisTap {
  int lo, hi;
  float w_lo, w_hi;
};

MRCNN_HD AxisTap axis_tap(float v, int size) {
  AxisTap t;
  if (!(v >= -1.f && v <= (float)size)) {
    t.lo = t.hi = 0;
    t.w_lo = t.w_hi = 0.f;
    return t;
  }
  if (v <= 0.f) v = 0.f;
  t.lo = (int)v;
  if (t.lo >= size - 1) {
    t.lo = t.hi = size - 1;
    v = (float)t.lo;
  } else {
    t.hi = t.lo + 1;
  }
  const float l = v - (float)t.lo;
  t.w_hi = l;
  t.w_lo = 1.f - l;
  return t;
}

// The 4 neighbours of a sample point (element offsets in units of pixels, row-major
// h x w) and their weights: p1 = (y_lo, x_lo), p2 = (y_lo, x_hi), p3 = (y_hi, x_lo),
// p4 = (y_hi, x_hi); the weights are products of the axis weights as in torchvision.
struct BilinearTap {
  int p1, p2, p3, p4;
  float w1, w2, w3, w4;
};

MRCNN_HD BilinearTap bilinear_tap(const AxisTap& ty, const AxisTap& tx, int width) {
  BilinearTap t;
  t.p1 = ty.lo * width + tx.lo;
  t.p2 = ty.lo * width + tx.hi;
  t.p3 = ty.hi * width + tx.lo;
  t.p4 = ty.hi * width + tx.hi;
  t.w1 = ty.w_lo * tx.w_lo;
  t.w2 = ty.w_lo * tx.w_hi;
  t.w3 = ty.w_hi * tx.w_lo;
  t.w4 = ty.w_hi * tx.w_hi;
  return t;
}

// Tap of the point (y, x) of an h x w map.
MRCNN_HD BilinearTap bilinear_tap(float y, float x, int height, int width) {
  return bilinear_tap(axis_tap(y, height), axis_tap(x, width), width);
}

// One interpolated value: w1*v1 + w2*v2 + w3*v3 + w4*v4 summed left to right as
// torchvision does (the caller adds it to the bin's running sum).
MRCNN_HD float tap_value(const BilinearTap& t, float v1, float v2, float v3, float v4) {
  return t.w1 * v1 + t.w2 * v2 + t.w3 * v3 + t.w4 * v4;
}

// Batch index of a roi (torchvision truncates the float), or -1 when it is not in [0, n).
MRCNN_HD int roi_batch_index(float b, int n) {
  if (!(b >= 0.f && b < (float)n)) return -1;
  return (int)b;
}

// MultiScaleRoIAlign's LevelMapper in float32, as torchvision evaluates it:
//   s = sqrt((x2 - x1) * (y2 - y1))
//   lvl = floor(canonical_level + log2(s / canonical_scale) + eps), clamped to [k_min, k_max]
// Returns lvl - k_min, or -1 when the level is NaN (a box of negative area): torchvision
// then matches no level and leaves that roi's output at zero. With one level torchvision
// skips the mapper and pools every roi from it, so num_levels == 1 always gives 0.
MRCNN_HD int roi_level(float x1, float y1, float x2, float y2, int canonical_scale,
                       int canonical_level, int k_min, int k_max, float eps, int num_levels) {
  if (num_levels == 1) return 0;
  const float area = (x2 - x1) * (y2 - y1);
  const float s = sqrtf(area);
  float lvl = floorf(((float)canonical_level + log2f(s / (float)canonical_scale)) + eps);
  if (lvl != lvl) return -1;
  if (lvl < (float)k_min) lvl = (float)k_min;
  if (lvl > (float)k_max) lvl = (float)k_max;
  return (int)lvl - k_min;
}

// ---- one call's arguments, and the per-roi setup both backends run ------------------------

// Everything a call needs, built once by the entry points (host) and read by the CPU rows
// and the CUDA threads (it is the kernel's by-value parameter block). A single-level call
// is a one-level table with map_levels = 0.
struct Args {
  const float* feat[MRCNN_MAX_LEVELS];  // NHWC maps [n][h][w][c]
  int h[MRCNN_MAX_LEVELS];
  int w[MRCNN_MAX_LEVELS];
  float scale[MRCNN_MAX_LEVELS];
  int num_levels;
  int map_levels;  // 0: every roi samples level 0
  int n, c;
  const float* rois;  // [k][5]
  int k, pooled_h, pooled_w, sampling_ratio, aligned;
  int canonical_scale, canonical_level, k_min, k_max;
  float eps;
  float* output;  // [k][pooled_h][pooled_w][c]
};

// Where and how roi r samples: its image in its level's map (base == 0 when the roi's
// output is all zero: batch index out of range, no level, non-finite geometry).
struct RoiSampling {
  const float* base;
  int h, w;
  RoiGeometry g;
};

MRCNN_HD RoiSampling roi_sampling(const Args& a, int r) {
  const float* roi = a.rois + (long long)r * 5;
  const float x1 = roi[1], y1 = roi[2], x2 = roi[3], y2 = roi[4];
  const int b = roi_batch_index(roi[0], a.n);
  const int lvl = a.map_levels ? roi_level(x1, y1, x2, y2, a.canonical_scale, a.canonical_level,
                                           a.k_min, a.k_max, a.eps, a.num_levels)
                               : 0;
  // The level's entry, selected with static indices only (on a GPU a dynamic index into the
  // parameter block would copy it to local memory).
  RoiSampling s;
  s.base = a.feat[0];
  s.h = a.h[0];
  s.w = a.w[0];
  float scale = a.scale[0];
#pragma unroll
  for (int l = 1; l < MRCNN_MAX_LEVELS; ++l) {
    if (l == lvl) {
      s.base = a.feat[l];
      s.h = a.h[l];
      s.w = a.w[l];
      scale = a.scale[l];
    }
  }
  s.g = roi_geometry(x1, y1, x2, y2, scale, a.pooled_h, a.pooled_w, a.sampling_ratio, a.aligned);
  if (b < 0 || lvl < 0 || !s.g.valid) {
    s.base = 0;
    s.g.grid_h = s.g.grid_w = 0;
    s.g.count = 1.f;
  } else {
    s.base += (long long)b * s.h * s.w * a.c;
  }
  return s;
}

// ---- host-side argument checks shared by the CPU and CUDA entry points ------------------
// (they see dimensions and pointers; roi values are defended per roi above.) Each returns
// MRCNN_OK or the failure status, fills *a, and sets *work = false when there is nothing to
// compute (k == 0 or c == 0).

inline int check_common(const char* op, const float* rois, int k, int n, int c, int pooled_h,
                        int pooled_w, float* output, Args* a, bool* work) {
  *work = false;
  if (k < 0) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: k=%d < 0", op, k);
  if (n < 1) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: batch n=%d < 1", op, n);
  if (c < 0) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: channels c=%d < 0", op, c);
  if (pooled_h < 1 || pooled_w < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: pooled size %dx%d must be positive",
                      op, pooled_h, pooled_w);
  *work = k > 0 && c > 0;
  if (*work && (!rois || !output))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null rois or output pointer", op);
  *a = Args{};
  a->n = n;
  a->c = c;
  a->rois = rois;
  a->k = k;
  a->pooled_h = pooled_h;
  a->pooled_w = pooled_w;
  a->output = output;
  return MRCNN_OK;
}

inline int check_level(const char* op, int level, const float* feat, int h, int w, float scale,
                       bool needed, Args* a) {
  if (h < 1 || w < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: level %d has size %dx%d", op, level, h, w);
  if ((long long)h * (long long)w > 2147483647LL)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: level %d has %dx%d > 2^31 pixels",
                      op, level, h, w);
  if (!isfinite(scale))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: level %d spatial_scale is not finite",
                      op, level);
  if (needed && !feat)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: level %d feature pointer is null", op, level);
  a->feat[level] = feat;
  a->h[level] = h;
  a->w[level] = w;
  a->scale[level] = scale;
  return MRCNN_OK;
}

// mrcnn_*_roi_align's arguments.
inline int single_level_args(const float* input, int n, int h, int w, int c, const float* rois,
                             int k, int pooled_h, int pooled_w, float spatial_scale,
                             int sampling_ratio, int aligned, float* output, Args* a, bool* work) {
  const char* op = "roi_align";
  int st = check_common(op, rois, k, n, c, pooled_h, pooled_w, output, a, work);
  if (st == MRCNN_OK) st = check_level(op, 0, input, h, w, spatial_scale, *work, a);
  a->num_levels = 1;
  a->map_levels = 0;
  a->sampling_ratio = sampling_ratio;
  a->aligned = aligned != 0;
  return st;
}

// mrcnn_*_multilevel_roi_align's arguments.
inline int multi_level_args(const float* const* level_features, const int* level_h,
                            const int* level_w, const float* level_scale, int num_levels, int n,
                            int c, const float* rois, int k, int pooled_h, int pooled_w,
                            int sampling_ratio, int aligned, int canonical_scale,
                            int canonical_level, int k_min, int k_max, float eps, float* output,
                            Args* a, bool* work) {
  const char* op = "multilevel_roi_align";
  int st = check_common(op, rois, k, n, c, pooled_h, pooled_w, output, a, work);
  if (st != MRCNN_OK) return st;
  if (num_levels < 1 || num_levels > MRCNN_MAX_LEVELS)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: num_levels=%d not in [1, %d]", op,
                      num_levels, MRCNN_MAX_LEVELS);
  if (canonical_scale < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: canonical_scale=%d < 1", op, canonical_scale);
  if (!isfinite(eps)) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: eps is not finite", op);
  if (num_levels > 1 && (k_min > k_max || (long long)k_max - k_min >= num_levels))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT,
                      "%s: levels [k_min=%d, k_max=%d] do not fit %d feature maps", op, k_min,
                      k_max, num_levels);
  if (!level_features || !level_h || !level_w || !level_scale)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null level array", op);
  for (int l = 0; l < num_levels && st == MRCNN_OK; ++l)
    st = check_level(op, l, level_features[l], level_h[l], level_w[l], level_scale[l], *work, a);
  a->num_levels = num_levels;
  a->map_levels = 1;
  a->sampling_ratio = sampling_ratio;
  a->aligned = aligned != 0;
  a->canonical_scale = canonical_scale;
  a->canonical_level = canonical_level;
  a->k_min = k_min;
  a->k_max = k_max;
  a->eps = eps;
  return st;
}

}  // namespace roi_align_math
}  // namespace mrcnn

/* Test hooks of the CPU backend (native tests only; hidden symbols): the kernels with the
 * instruction set forced (MRCNN_ERR_UNSUPPORTED when this CPU lacks it), and the best one
 * this CPU has. Same arguments and rules as mrcnn_cpu_roi_align / _multilevel_roi_align. */
#define MRCNN_ROI_ALIGN_ISA_BASELINE 0
#define MRCNN_ROI_ALIGN_ISA_AVX512 1
#if !defined(__CUDACC__) && !defined(KL_EMULATE)
extern "C" int mrcnn_cpu_roi_align_best_isa(void);
extern "C" int mrcnn_cpu_roi_align_with_isa(int isa, const float* input, int n, int h, int w,
                                            int c, const float* rois, int k, int pooled_h,
                                            int pooled_w, float spatial_scale,
                                            int sampling_ratio, int aligned, float* output);
extern "C" int mrcnn_cpu_multilevel_roi_align_with_isa(
    int isa, const float* const* level_features, const int* level_h, const int* level_w,
    const float* level_scale, int num_levels, int n, int c, const float* rois, int k,
    int pooled_h, int pooled_w, int sampling_ratio, int aligned, int canonical_scale,
    int canonical_level, int k_min, int k_max, float eps, float* output);
#endif
