// anchors on the CPU (contract: mrcnn/anchors.h; math: mrcnn/math/anchors.h).
//
// A pure write stream: rows of the grid spread over OpenMP threads, each row's anchors
// written in order (x, anchor). The base anchors (at most 64 x 4 floats) stay in L1.
#include <stddef.h>
#include "mrcnn/anchors.h"
#include "mrcnn/math/anchors.h"

using namespace mrcnn::anchors_math;

MRCNN_API int mrcnn_cpu_anchors(const float* base, int a, int grid_h, int grid_w, int stride_h,
                                int stride_w, float* out, void* /*stream*/) {
  int st = check_args(base, a, grid_h, grid_w, stride_h, stride_w, out);
  if (st != MRCNN_OK || grid_h == 0 || grid_w == 0) return st;
#pragma omp parallel for schedule(static) if ((long long)grid_h * grid_w * a > 16384)
  for (int y = 0; y < grid_h; ++y) {
    float* o = out + (ptrdiff_t)y * grid_w * a * 4;
    for (int x = 0; x < grid_w; ++x) {
      for (int j = 0; j < a; ++j, o += 4) {
        const float* b = base + j * 4;
        const Anchor an = anchor(x, y, stride_w, stride_h, b[0], b[1], b[2], b[3]);
        o[0] = an.x1;
        o[1] = an.y1;
        o[2] = an.x2;
        o[3] = an.y2;
      }
    }
  }
  return MRCNN_OK;
}
