/* Box filter with torchvision 0.14 semantics, fused: box_ops.remove_small_boxes and a score
 * threshold, as the RPN (filter_proposals) and RoIHeads (postprocess_detections) apply them.
 *   boxes [n][4] (x1, y1, x2, y2), scores [n] (may be null: no score test).
 *   keep [n] (int64, capacity n) receives, in ascending order, every i with
 *     x2 - x1 >= min_size  and  y2 - y1 >= min_size  (float32 differences)
 *     and  scores[i] >= score_thresh   (strict = 0: the RPN's `scores >= self.score_thresh`)
 *     or   scores[i] >  score_thresh   (strict = 1: RoIHeads' `scores > self.score_thresh`);
 *   *num_kept (an int in the op's device memory) their count.
 * torch compares a float32 tensor with a Python float in float32, so min_size and
 * score_thresh are the float32 roundings of torchvision's values (1e-3 / 1e-2, 0.0 / 0.05).
 * A NaN coordinate or score fails its comparison: the box is dropped. Both filters are
 * elementwise, so applying them in one pass keeps exactly what torchvision's two passes keep.
 * Each call needs workspace_size(n) bytes of scratch in the op's device memory. keep and
 * num_kept must not overlap the inputs or each other. */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(size_t, box_filter_workspace_size, (int n))
MRCNN_DECLARE_ALL_BACKENDS(int, box_filter,
    (const float* boxes, const float* scores, int n, float min_size, float score_thresh,
     int strict, int64_t* keep, int* num_kept, void* workspace, size_t workspace_bytes,
     void* stream))
