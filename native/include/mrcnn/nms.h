/* Non-maximum suppression with torchvision 0.14 semantics.
 *   boxes [n][4] (x1, y1, x2, y2), scores [n]; IoU without +1; a box is suppressed when its
 *   IoU with a kept, higher-ranked box is > iou_threshold. Rank = score descending, ties
 *   broken by lower index first (a stable sort).
 *   keep [n] receives the kept indices in rank order; *num_kept their count (both in the
 *   op's device memory). max_keep > 0 stops after that many kept boxes (top-k cap);
 *   max_keep <= 0: no cap.
 *   IoU is float32 exactly as torchvision's CPU kernel computes it (mrcnn/math/nms.h);
 *   torchvision compares that float with a double threshold, which equals comparing it
 *   with the largest float <= that double: pass that float (Java's Nms does).
 *   Zero-area boxes: IoU 0 (or 0/0 = NaN between two of them), never suppressed.
 *   NaN scores or coordinates: refused by the CPU backend (the CUDA one cannot look).
 * batched_nms: boxes of different idxs never suppress each other (torchvision's
 *   batched_nms; the result equals per-class NMS merged by score). As torchvision on the
 *   CPU: n <= 1000 runs one NMS over boxes shifted by idx * (max coordinate + 1) in
 *   float32 (its coordinate trick, whose rounding can flip an IoU at the threshold),
 *   n > 1000 runs NMS per class on the original coordinates.
 * soft_nms (Bodla et al. 2017, "Improving Object Detection With One Line of Code"):
 *   live = { i : scores[i] >= score_threshold }, cur[i] = scores[i]
 *   while live is not empty and (max_keep <= 0 or kept < max_keep):
 *     m = the live box with the highest cur, ties broken by the lower index
 *     emit keep = m, out_scores = cur[m]; remove m from live
 *     for every other live i: o = IoU(m, i) (NaN counts as 0)
 *       method 1 = linear:   cur[i] *= 1 - o if o > iou_threshold (else unchanged; the
 *                            paper writes >=, here > as in hard NMS)
 *       method 2 = gaussian: cur[i] *= exp(-o*o / sigma) (sigma > 0; iou_threshold unused)
 *       drop i from live if cur[i] < score_threshold
 *   In float32; exp is mrcnn/math/nms.h's exp_nonpositive (same bits on every backend).
 *   keep/out_scores in selection order. Scores must be finite.
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
