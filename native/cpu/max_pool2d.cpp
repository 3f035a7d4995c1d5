// max_pool2d on the CPU, NHWC (contract: mrcnn/max_pool2d.h; math: mrcnn/math/max_pool2d.h).
//
// Work item = one output row (n, oy), spread over OpenMP threads. For each output pixel the
// channel vector of the output is the running maximum: it starts at -inf and every tap of
// the clipped window (row-major, torch's order) is folded in with one pass over the
// contiguous channels, a compare-and-blend loop the compiler vectorises. The output pixel
// (c floats) stays in L1 across the taps; the window's input pixels are read once per
// output pixel (2.25x per input pixel for 3x3/stride 2, served from L1/L2).
#include <math.h>
#include <stddef.h>
#include "mrcnn/math/max_pool2d.h"
#include "mrcnn/max_pool2d.h"

namespace {

using namespace mrcnn::max_pool2d_math;

void pool_row(const float* __restrict input, int h, int w, int c, int kernel_h, int kernel_w,
              int stride_h, int stride_w, int pad_h, int pad_w, float* __restrict out_row,
              int b, int oy, int out_w) {
  const Window wy = window(oy, stride_h, pad_h, kernel_h, h);
  const float* __restrict img = input + (ptrdiff_t)b * h * w * c;
  for (int ox = 0; ox < out_w; ++ox) {
    float* __restrict out = out_row + (ptrdiff_t)ox * c;
    for (int j = 0; j < c; ++j) out[j] = -INFINITY;
    const Window wx = window(ox, stride_w, pad_w, kernel_w, w);
    for (int iy = wy.begin; iy < wy.end; ++iy) {
      for (int ix = wx.begin; ix < wx.end; ++ix) {
        const float* __restrict v = img + ((ptrdiff_t)iy * w + ix) * c;
        for (int j = 0; j < c; ++j) out[j] = max_step(out[j], v[j]);
      }
    }
  }
}

}  // namespace

MRCNN_API int mrcnn_cpu_max_pool2d(const float* input, int n, int h, int w, int c, int kernel_h,
                                   int kernel_w, int stride_h, int stride_w, int pad_h, int pad_w,
                                   float* output, int out_h, int out_w, void* /*stream*/) {
  int st = check_args(input, n, h, w, c, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
                      output, out_h, out_w);
  if (st != MRCNN_OK || n == 0 || c == 0) return st;
  const long long rows = (long long)n * out_h;
#pragma omp parallel for schedule(static)
  for (long long r = 0; r < rows; ++r) {
    const int b = (int)(r / out_h), oy = (int)(r % out_h);
    pool_row(input, h, w, c, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
             output + (ptrdiff_t)r * out_w * c, b, oy, out_w);
  }
  return MRCNN_OK;
}
