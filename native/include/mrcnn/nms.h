/* Non-maximum suppression with torchvision 0.14 semantics.
 *   boxes [n][4] (x1, y1, x2, y2), scores [n]; IoU without +1; a box is suppressed when its
 *   IoU with a kept, higher-ranked box is > iou_threshold. Rank = score descending, ties
 *   broken by lower index first (a stable sort).
 *   keep [n] receives the kept indices in rank order; *num_kept their count (both in the
 *   op's device memory). max_keep > 0 stops after that many kept boxes (top-k cap).
 * batched_nms: boxes of different idxs never suppress each other (torchvision's
 *   batched_nms; the result equals per-class NMS merged by score).
 * soft_nms: method 1 = linear (score *= 1 - IoU when IoU > iou_threshold),
 *   2 = gaussian (score *= exp(-IoU^2 / sigma)); boxes whose decayed score drops below
 *   score_threshold are dropped. keep/out_scores in selection order.
 * Each call needs workspace_size(n) bytes of scratch on the op's device. */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(size_t, nms_workspace_size, (int n))
MRCNN_DECLARE_ALL_BACKENDS(int, nms,
    (const float* boxes, const float* scores, int n, float iou_threshold, int max_keep,
     int64_t* keep, int* num_kept, void* workspace, size_t workspace_bytes, void* stream))
MRCNN_DECLARE_ALL_BACKENDS(int, batched_nms,
    (const float* boxes, const float* scores, const int64_t* idxs, int n, float iou_threshold,
     int max_keep, int64_t* keep, int* num_kept, void* workspace, size_t workspace_bytes,
     void* stream))
MRCNN_DECLARE_ALL_BACKENDS(int, soft_nms,
    (const float* boxes, const float* scores, int n, int method, float iou_threshold,
     float sigma, float score_threshold, int max_keep, int64_t* keep, float* out_scores,
     int* num_kept, void* workspace, size_t workspace_bytes, void* stream))
