/* softmax math, written once for native/cpu/softmax.cpp and cuda/softmax.cu: the steps of
 * torch 1.13's CPU kernel (_vec_softmax_lastdim): a NaN-propagating row maximum, exp of the
 * shifted values, their sum, and a multiply by the sum's reciprocal. The backends sum in
 * different orders (CPU: sequential; CUDA: per-lane then a warp tree) and use different
 * expf (libm < 1 ulp, CUDA <= 2 ulp, torch's Sleef <= 1 ulp), so they agree to within
 * about (cols + 6) * 2^-23 relative, not bit for bit. */
#pragma once
#include <math.h>
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn {
namespace softmax_math {

// Running maximum that lets NaN win and stick (torch's vec::maximum propagates NaN).
MRCNN_HD float max_nan(float m, float v) { return (v > m || v != v) ? v : m; }

MRCNN_HD float shifted_exp(float x, float row_max) { return expf(x - row_max); }

MRCNN_HD float inverse(float sum) { return 1.f / sum; }

// Argument checks shared by the entry points of every backend (host code).
inline int check_args(const float* x, int rows, int cols, const float* y) {
  const char* op = "softmax";
  if (rows < 0 || cols < 0)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: bad shape %d x %d", op, rows, cols);
  if (rows == 0 || cols == 0) return MRCNN_OK;
  if (!x || !y) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null pointer", op);
  const size_t bytes = (size_t)rows * cols * sizeof(float);
  const char* a = (const char*)x;
  const char* b = (const char*)y;
  if (a != b && a < b + bytes && b < a + bytes)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: output partly overlaps the input", op);
  return MRCNN_OK;
}

}  // namespace softmax_math
}  // namespace mrcnn
