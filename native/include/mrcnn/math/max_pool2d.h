/* max_pool2d math, written once for native/cpu/max_pool2d.cpp and cuda/max_pool2d.cu:
 * the output size, the clipped window of one output index and torch's max step.
 * torch scans a window in row-major order with "take v if v > max or v is NaN", starting
 * from -inf: NaN wins and sticks, and of +0/-0 the first one seen stays. */
#pragma once
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn {
namespace max_pool2d_math {

// torch's pooling_output_shape for dilation 1, ceil_mode False (0 or less: no output).
MRCNN_HD long long pooled_size(long long in, int kernel, int stride, int pad) {
  const long long span = in + 2LL * pad - kernel;
  return span < 0 ? 0 : span / stride + 1;
}

// The input range [begin, end) that output index o covers (clipped to [0, in)).
struct Window { int begin, end; };
MRCNN_HD Window window(int o, int stride, int pad, int kernel, int in) {
  int b = o * stride - pad;
  int e = b + kernel;
  Window win;
  win.begin = b < 0 ? 0 : b;
  win.end = e > in ? in : e;
  return win;
}

// torch's update: v replaces m when v > m or v is NaN.
MRCNN_HD float max_step(float m, float v) { return (v > m || v != v) ? v : m; }

// Argument checks shared by the entry points of every backend (host code).
inline int check_args(const float* input, int n, int h, int w, int c, int kernel_h, int kernel_w,
                      int stride_h, int stride_w, int pad_h, int pad_w, const float* output,
                      int out_h, int out_w) {
  const char* op = "max_pool2d";
  if (n < 0 || h < 1 || w < 1 || c < 0)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: bad input shape n=%d h=%d w=%d c=%d", op, n, h, w, c);
  if (kernel_h < 1 || kernel_w < 1 || stride_h < 1 || stride_w < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: kernel %dx%d and stride %dx%d must be >= 1", op,
                      kernel_h, kernel_w, stride_h, stride_w);
  if (pad_h < 0 || pad_w < 0 || 2 * pad_h > kernel_h || 2 * pad_w > kernel_w)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: padding %dx%d must be in [0, kernel/2] for kernel %dx%d",
                      op, pad_h, pad_w, kernel_h, kernel_w);
  const long long oh = pooled_size(h, kernel_h, stride_h, pad_h);
  const long long ow = pooled_size(w, kernel_w, stride_w, pad_w);
  if (oh < 1 || ow < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: the %dx%d kernel does not fit input %dx%d padded by %dx%d",
                      op, kernel_h, kernel_w, h, w, pad_h, pad_w);
  if (out_h != oh || out_w != ow)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: output %dx%d, expected %lldx%lld", op, out_h, out_w, oh, ow);
  if ((long long)n * out_h * out_w > 0x7fffffffLL || (long long)h * w > 0x7fffffffLL)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: %d x %d x %d pixels exceed the int range", op, n, h, w);
  if (n > 0 && c > 0 && (!input || !output))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null input or output", op);
  const char* i = (const char*)input;
  const char* o = (const char*)output;
  const size_t in_bytes = (size_t)n * h * w * c * sizeof(float);
  const size_t out_bytes = (size_t)n * out_h * out_w * c * sizeof(float);
  if (in_bytes && out_bytes && o < i + in_bytes && i < o + out_bytes)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: output overlaps the input", op);
  return MRCNN_OK;
}

}  // namespace max_pool2d_math
}  // namespace mrcnn
