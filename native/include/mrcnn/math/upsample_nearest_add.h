/* upsample_nearest_add math, written once for native/cpu/upsample_nearest_add.cpp and
 * cuda/upsample_nearest_add.cu: torch 1.13's nearest source index (output size given, no
 * scale factor). The float32 product dst * scale is rounded before the floor, as in torch;
 * nothing can fuse it. */
#pragma once
#include <math.h>
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn {
namespace upsample_nearest_add_math {

MRCNN_HD int nearest_source(int dst, int in, int out) {
  if (out == in) return dst;
  if (out == 2 * in) return dst >> 1;
  const float scale = (float)in / (float)out;
  const int src = (int)floorf((float)dst * scale);
  return src < in - 1 ? src : in - 1;
}

// Argument checks shared by the entry points of every backend (host code).
inline int check_args(const float* top, int n, int in_h, int in_w, int c, const float* lateral,
                      const float* output, int out_h, int out_w) {
  const char* op = "upsample_nearest_add";
  if (n < 0 || c < 0 || in_h < 1 || in_w < 1 || out_h < 1 || out_w < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: bad sizes n=%d c=%d in %dx%d out %dx%d", op, n, c,
                      in_h, in_w, out_h, out_w);
  if ((long long)n * out_h * out_w > 0x7fffffffLL || (long long)n * in_h * in_w > 0x7fffffffLL)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: %d x %d x %d pixels exceed the int range", op, n,
                      out_h, out_w);
  if (n > 0 && c > 0 && (!top || !output))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null top or output", op);
  // output must not overlap top, and may overlap lateral only by being it.
  const char* o = (const char*)output;
  const size_t out_bytes = (size_t)n * out_h * out_w * c * sizeof(float);
  const size_t top_bytes = (size_t)n * in_h * in_w * c * sizeof(float);
  const char* t = (const char*)top;
  const char* l = (const char*)lateral;
  if (out_bytes && ((o < t + top_bytes && t < o + out_bytes) ||
                    (l && l != o && o < l + out_bytes && l < o + out_bytes)))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: output overlaps top or part of lateral", op);
  return MRCNN_OK;
}

}  // namespace upsample_nearest_add_math
}  // namespace mrcnn
