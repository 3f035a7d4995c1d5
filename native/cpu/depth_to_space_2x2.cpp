// depth_to_space_2x2 on the CPU, NHWC (contract: mrcnn/depth_to_space_2x2.h; math:
// mrcnn/math/depth_to_space_2x2.h).
// Work item = one output row (n, oy), spread over OpenMP threads; each output pixel is a
// contiguous copy of c_out floats from its input pixel's sub-block (with the optional
// ReLU), a loop the compiler vectorises. Writes are sequential; reads walk the input row
// in two interleaved streams (sub-blocks dx = 0 and 1 of each pixel).
#include <stddef.h>
#include "mrcnn/depth_to_space_2x2.h"
#include "mrcnn/math/depth_to_space_2x2.h"

namespace {

using namespace mrcnn::depth_to_space_2x2_math;

template <bool RELU>
void scatter_row(const float* __restrict input, float* __restrict out_row, int b, int oy, int h,
                 int w, int c_out) {
  for (int ox = 0; ox < 2 * w; ++ox) {
    const float* __restrict src = input + source_offset(b, oy, ox, h, w, c_out);
    float* __restrict dst = out_row + (ptrdiff_t)ox * c_out;
    for (int j = 0; j < c_out; ++j) dst[j] = RELU ? relu(src[j]) : src[j];
  }
}

}  // namespace

MRCNN_API int mrcnn_cpu_depth_to_space_2x2(const float* input, int n, int h, int w, int c_out,
                                           float* output, int relu, void* /*stream*/) {
  int st = check_args(input, n, h, w, c_out, output);
  if (st != MRCNN_OK || (long long)n * h * w * c_out == 0) return st;
  const int out_h = 2 * h;
  const long long rows = (long long)n * out_h;
  const ptrdiff_t row_len = (ptrdiff_t)2 * w * c_out;
#pragma omp parallel for schedule(static)
  for (long long r = 0; r < rows; ++r) {
    const int b = (int)(r / out_h), oy = (int)(r % out_h);
    if (relu)
      scatter_row<true>(input, output + r * row_len, b, oy, h, w, c_out);
    else
      scatter_row<false>(input, output + r * row_len, b, oy, h, w, c_out);
  }
  return MRCNN_OK;
}
