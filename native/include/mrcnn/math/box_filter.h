/* box_filter math, written once for native/cpu/box_filter.cpp and cuda/box_filter.cu: the
 * keep predicate of one box (remove_small_boxes and the score threshold, in float32). */
#pragma once
#include <math.h>
#include <stdint.h>
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn {
namespace box_filter_math {

struct Params {
  float min_size, score_thresh;
  int strict;      // score > thresh (else >=)
  int has_scores;  // scores != null
};

MRCNN_HD bool keep_box(const float* box, const float* scores, int i, const Params& p) {
  const float w = box[2] - box[0];
  const float h = box[3] - box[1];
  bool keep = w >= p.min_size && h >= p.min_size;  // NaN: false
  if (p.has_scores) {
    const float s = scores[i];
    keep = keep && (p.strict ? s > p.score_thresh : s >= p.score_thresh);
  }
  return keep;
}

// Argument checks shared by the entry points of every backend (host code). Fills *p.
inline int check_args(const float* boxes, const float* scores, int n, float min_size, float score_thresh,
                      int strict, const int64_t* keep, const int* num_kept, const void* workspace,
                      size_t workspace_bytes, size_t needed, Params* p) {
  const char* op = "box_filter";
  if (n < 0) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: n=%d < 0", op, n);
  if (isnan(min_size) || isnan(score_thresh))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: min_size %g or score_thresh %g is NaN", op, min_size,
                      score_thresh);
  if (!num_kept) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null num_kept", op);
  if (n > 0 && (!boxes || !keep)) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null boxes or keep", op);
  if (workspace_bytes < needed || (needed > 0 && !workspace))
    return mrcnn_fail(MRCNN_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes, %zu needed", op, workspace_bytes,
                      needed);
  struct Range { const char* p; size_t bytes; const char* name; };
  const Range r[5] = {{(const char*)boxes, (size_t)n * 4 * sizeof(float), "boxes"},
                      {(const char*)scores, scores ? (size_t)n * sizeof(float) : 0, "scores"},
                      {(const char*)keep, (size_t)n * sizeof(int64_t), "keep"},
                      {(const char*)num_kept, sizeof(int), "num_kept"},
                      {(const char*)workspace, needed, "workspace"}};
  for (int a = 0; a < 5; ++a)
    for (int b = a + 1; b < 5; ++b)
      if ((a >= 2 || b >= 2) && r[a].bytes && r[b].bytes && r[a].p < r[b].p + r[b].bytes &&
          r[b].p < r[a].p + r[a].bytes)
        return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: %s overlaps %s", op, r[a].name, r[b].name);
  p->min_size = min_size;
  p->score_thresh = score_thresh;
  p->strict = strict != 0;
  p->has_scores = scores != nullptr;
  return MRCNN_OK;
}

}  // namespace box_filter_math
}  // namespace mrcnn
