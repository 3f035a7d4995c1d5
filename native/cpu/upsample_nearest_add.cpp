// upsample_nearest_add on the CPU, NHWC (contract: mrcnn/upsample_nearest_add.h; math:
// mrcnn/math/upsample_nearest_add.h).
//
// Work item = one output row (n, y), spread over OpenMP threads; its source row sy is
// computed once. Each output pixel is one pass over its contiguous channels: out = lateral
// + top[sx] (or a copy of top[sx] without lateral), a streaming loop the compiler
// vectorises. The op is bound by memory traffic (read lateral, write output, top once per
// reuse from cache), so there is nothing to tile: the top row of a 2x upsample is read by
// two consecutive output rows while still in L2.
#include <stddef.h>
#include "mrcnn/math/upsample_nearest_add.h"
#include "mrcnn/upsample_nearest_add.h"

namespace {

using namespace mrcnn::upsample_nearest_add_math;

void add_row(const float* __restrict top_row, const float* __restrict lateral_row,
             float* __restrict out_row, int in_w, int out_w, int c) {
  for (int x = 0; x < out_w; ++x) {
    const float* __restrict t = top_row + (ptrdiff_t)nearest_source(x, in_w, out_w) * c;
    const float* __restrict l = lateral_row + (ptrdiff_t)x * c;
    float* __restrict o = out_row + (ptrdiff_t)x * c;
    for (int j = 0; j < c; ++j) o[j] = l[j] + t[j];
  }
}

// output == lateral: the same pass, in place.
void add_row_inplace(const float* __restrict top_row, float* __restrict out_row, int in_w,
                     int out_w, int c) {
  for (int x = 0; x < out_w; ++x) {
    const float* __restrict t = top_row + (ptrdiff_t)nearest_source(x, in_w, out_w) * c;
    float* __restrict o = out_row + (ptrdiff_t)x * c;
    for (int j = 0; j < c; ++j) o[j] += t[j];
  }
}

void copy_row(const float* __restrict top_row, float* __restrict out_row, int in_w, int out_w,
              int c) {
  for (int x = 0; x < out_w; ++x) {
    const float* __restrict t = top_row + (ptrdiff_t)nearest_source(x, in_w, out_w) * c;
    float* __restrict o = out_row + (ptrdiff_t)x * c;
    for (int j = 0; j < c; ++j) o[j] = t[j];
  }
}

}  // namespace

MRCNN_API int mrcnn_cpu_upsample_nearest_add(const float* top, int n, int in_h, int in_w, int c,
                                             const float* lateral, float* output, int out_h,
                                             int out_w, void* /*stream*/) {
  int st = check_args(top, n, in_h, in_w, c, lateral, output, out_h, out_w);
  if (st != MRCNN_OK || n == 0 || c == 0) return st;
  const long long rows = (long long)n * out_h;
  const ptrdiff_t out_row_len = (ptrdiff_t)out_w * c;
#pragma omp parallel for schedule(static)
  for (long long r = 0; r < rows; ++r) {
    const int b = (int)(r / out_h), y = (int)(r % out_h);
    const float* top_row =
        top + ((ptrdiff_t)b * in_h + nearest_source(y, in_h, out_h)) * in_w * c;
    float* out_row = output + (ptrdiff_t)r * out_row_len;
    if (!lateral)
      copy_row(top_row, out_row, in_w, out_w, c);
    else if (lateral == output)
      add_row_inplace(top_row, out_row, in_w, out_w, c);
    else
      add_row(top_row, lateral + (ptrdiff_t)r * out_row_len, out_row, in_w, out_w, c);
  }
  return MRCNN_OK;
}
