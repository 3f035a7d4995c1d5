/* depth_to_space_2x2 math, written once for native/cpu/depth_to_space_2x2.cpp and
 * cuda/depth_to_space_2x2.cu: where an output element comes from. The ReLU is add_relu's
 * (torch.relu), not a second copy. */
#pragma once
#include "mrcnn/api.h"
#include "mrcnn/hd.h"
#include "mrcnn/math/add_relu.h"

namespace mrcnn {
namespace depth_to_space_2x2_math {

using mrcnn::add_relu_math::relu;

// Offset, in floats, of output pixel (oy, ox)'s channel block inside the input: the input
// pixel (oy / 2, ox / 2), sub-position (oy & 1, ox & 1).
MRCNN_HD long long source_offset(int b, int oy, int ox, int h, int w, int c_out) {
  const int y = oy >> 1, x = ox >> 1, sub = ((oy & 1) << 1) | (ox & 1);
  return (((long long)b * h + y) * w + x) * 4LL * c_out + (long long)sub * c_out;
}

// Argument checks shared by the entry points of every backend (host code).
inline int check_args(const float* input, int n, int h, int w, int c_out, const float* output) {
  const char* op = "depth_to_space_2x2";
  if (n < 0 || h < 0 || w < 0 || c_out < 0)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: bad shape n=%d h=%d w=%d c_out=%d", op, n, h, w, c_out);
  if ((long long)n * h * w * 4 > 0x7fffffffLL || (long long)c_out * 4 > 0x7fffffffLL)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: %d x %d x %d pixels exceed the int range", op, n, h, w);
  const size_t bytes = (size_t)n * h * w * 4 * c_out * sizeof(float);
  if (bytes == 0) return MRCNN_OK;
  if (!input || !output) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null pointer", op);
  const char* i = (const char*)input;
  const char* o = (const char*)output;
  if (o < i + bytes && i < o + bytes)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: output overlaps the input", op);
  return MRCNN_OK;
}

}  // namespace depth_to_space_2x2_math
}  // namespace mrcnn
