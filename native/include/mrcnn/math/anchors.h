/* anchors math, written once for native/cpu/anchors.cpp and cuda/anchors.cu: one anchor of
 * torchvision's grid_anchors, (shift + base) with an int32 shift converted to float32. */
#pragma once
#include <math.h>
#include "mrcnn/anchors.h"
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn {
namespace anchors_math {

struct Anchor { float x1, y1, x2, y2; };

// The anchor of cell (x, y) built on base anchor (b0, b1, b2, b3).
MRCNN_HD Anchor anchor(int x, int y, int stride_w, int stride_h, float b0, float b1, float b2, float b3) {
  const float sx = (float)(x * stride_w);
  const float sy = (float)(y * stride_h);
  return Anchor{sx + b0, sy + b1, sx + b2, sy + b3};
}

// Argument checks shared by the entry points of every backend (host code).
inline int check_args(const float* base, int a, int grid_h, int grid_w, int stride_h, int stride_w,
                      const float* out) {
  const char* op = "anchors";
  if (a < 1 || a > MRCNN_ANCHORS_MAX_PER_LOCATION)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: %d anchors per location, expected 1..%d", op, a,
                      MRCNN_ANCHORS_MAX_PER_LOCATION);
  if (grid_h < 0 || grid_w < 0 || stride_h < 0 || stride_w < 0)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: grid %dx%d and strides %dx%d must be >= 0", op, grid_h,
                      grid_w, stride_h, stride_w);
  if ((long long)grid_h * grid_w * a > 0x7fffffffLL)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: %d x %d x %d anchors exceed the int range", op, grid_h,
                      grid_w, a);
  if ((grid_h > 0 && (long long)(grid_h - 1) * stride_h > 0x7fffffffLL) ||
      (grid_w > 0 && (long long)(grid_w - 1) * stride_w > 0x7fffffffLL))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: shifts of grid %dx%d with strides %dx%d overflow int32", op,
                      grid_h, grid_w, stride_h, stride_w);
  if (!base) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null base anchors", op);
  if ((long long)grid_h * grid_w > 0 && !out) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null output", op);
  for (int i = 0; i < 4 * a; ++i)
    if (!isfinite(base[i]))
      return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: base anchor %d is not finite", op, i / 4);
  return MRCNN_OK;
}

}  // namespace anchors_math
}  // namespace mrcnn
