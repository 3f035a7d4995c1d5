// box_decode on the CPU (contract: mrcnn/box_decode.h; math: mrcnn/math/box_decode.h).
//
// One pass over the rows, spread over OpenMP threads: each reference box is read once and
// decoded against its k deltas (k = 1 for the RPN, num_classes for the box head). The work
// per output is a dozen flops and two expf calls; the loop streams deltas and output.
#include <stddef.h>
#include "mrcnn/box_decode.h"
#include "mrcnn/math/box_decode.h"

using namespace mrcnn::box_decode_math;

MRCNN_API int mrcnn_cpu_box_decode(const float* deltas, const float* boxes, int n, int k, float wx,
                                   float wy, float ww, float wh, float dwh_clip, int clip,
                                   int image_h, int image_w, float* out, void* /*stream*/) {
  Params p;
  int st = check_args(deltas, boxes, n, k, wx, wy, ww, wh, dwh_clip, clip, image_h, image_w, out, &p);
  if (st != MRCNN_OK || n == 0) return st;
#pragma omp parallel for schedule(static) if ((long long)n * k > 4096)
  for (int i = 0; i < n; ++i) {
    const float* r = boxes + (ptrdiff_t)i * 4;
    const Box ref{r[0], r[1], r[2], r[3]};
    const float* d = deltas + (ptrdiff_t)i * k * 4;
    float* o = out + (ptrdiff_t)i * k * 4;
    for (int j = 0; j < k; ++j, d += 4, o += 4) {
      const Box b = decode(ref, d[0], d[1], d[2], d[3], p);
      o[0] = b.x1;
      o[1] = b.y1;
      o[2] = b.x2;
      o[3] = b.y2;
    }
  }
  return MRCNN_OK;
}
