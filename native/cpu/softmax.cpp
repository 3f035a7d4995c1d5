// softmax on the CPU (contract: mrcnn/softmax.h; math: mrcnn/math/softmax.h).
// Rows are spread over OpenMP threads; each row is three passes over its contiguous
// values (max, exp + sum, scale) in torch's order of operations. The sum is sequential
// (vectorising it would reassociate); rows are short (the box head's 91 classes).
#include <stddef.h>
#include "mrcnn/math/softmax.h"
#include "mrcnn/softmax.h"

MRCNN_API int mrcnn_cpu_softmax(const float* x, int rows, int cols, float* y, void* /*stream*/) {
  using namespace mrcnn::softmax_math;
  int st = check_args(x, rows, cols, y);
  if (st != MRCNN_OK || rows == 0 || cols == 0) return st;
#pragma omp parallel for schedule(static) if ((long long)rows * cols > 16384)
  for (int r = 0; r < rows; ++r) {
    const float* xr = x + (ptrdiff_t)r * cols;
    float* yr = y + (ptrdiff_t)r * cols;
    float m = -INFINITY;
    for (int j = 0; j < cols; ++j) m = max_nan(m, xr[j]);
    float s = 0.f;
    for (int j = 0; j < cols; ++j) {
      const float e = shifted_exp(xr[j], m);
      yr[j] = e;
      s += e;
    }
    const float inv = inverse(s);
    for (int j = 0; j < cols; ++j) yr[j] *= inv;
  }
  return MRCNN_OK;
}
