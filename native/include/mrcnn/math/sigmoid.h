/* sigmoid math, written once for native/cpu/sigmoid.cpp and cuda/sigmoid.cu: torch's
 * formula 1 / (1 + exp(-x)) in float32. expf is libm's on the CPU (< 1 ulp) and CUDA's
 * full-precision expf on the GPU (<= 2 ulp, not the __expf intrinsic); torch's own CPU
 * kernel uses Sleef's expf (<= 1 ulp), so backends agree to a few ulps, not bit for bit. */
#pragma once
#include <math.h>
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn {
namespace sigmoid_math {

MRCNN_HD float sigmoid(float x) { return 1.f / (1.f + expf(-x)); }

// Argument checks shared by the entry points of every backend (host code).
inline int check_args(const float* x, const float* y, size_t count) {
  const char* op = "sigmoid";
  if (count == 0) return MRCNN_OK;
  if (!x || !y) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null pointer", op);
  if (count > ((size_t)1 << 60)) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: count %zu is too large", op, count);
  const size_t bytes = count * sizeof(float);
  const char* a = (const char*)x;
  const char* b = (const char*)y;
  if (a != b && a < b + bytes && b < a + bytes)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: output partly overlaps the input", op);
  return MRCNN_OK;
}

}  // namespace sigmoid_math
}  // namespace mrcnn
