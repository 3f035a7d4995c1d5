/* add_relu math, written once for native/cpu/add_relu.cpp and cuda/add_relu.cu. */
#pragma once
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn {
namespace add_relu_math {

// torch.relu (clamp_min(x, 0) = max(x, 0) with x first): only values below zero change,
// so NaN and -0 come out unchanged.
MRCNN_HD float relu(float v) { return v < 0.f ? 0.f : v; }

MRCNN_HD float add_relu(float a, float b, bool apply_relu) {
  const float s = a + b;
  return apply_relu ? relu(s) : s;
}

// Argument checks shared by the entry points of every backend (host code).
inline int check_args(const float* a, const float* b, const float* out, size_t count) {
  const char* op = "add_relu";
  if (count == 0) return MRCNN_OK;
  if (!a || !b || !out) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null pointer", op);
  if (count > ((size_t)1 << 60)) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: count %zu is too large", op, count);
  const size_t bytes = count * sizeof(float);
  const char* o = (const char*)out;
  const char* ins[2] = {(const char*)a, (const char*)b};
  for (const char* in : ins)
    if (in != o && o < in + bytes && in < o + bytes)
      return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: output partly overlaps an input", op);
  return MRCNN_OK;
}

}  // namespace add_relu_math
}  // namespace mrcnn
