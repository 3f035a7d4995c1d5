/* RoIAlign with torchvision 0.14 semantics (torchvision.ops.roi_align), NHWC features.
 *   input  [n][h][w][c]          dense float
 *   rois   [k][5]                (batch_index, x1, y1, x2, y2) in input-image coordinates
 *   output [k][pooled_h][pooled_w][c]
 * sampling_ratio <= 0 means adaptive (ceil(roi_size / pooled_size)); aligned != 0 shifts
 * by -0.5 pixel. A roi whose batch index is outside [0, n) is an invalid argument (the
 * Java layer checks this; kernels treat it as all-zero output for safety). */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, roi_align,
    (const float* input, int n, int h, int w, int c,
     const float* rois, int k, int pooled_h, int pooled_w,
     float spatial_scale, int sampling_ratio, int aligned,
     float* output, void* stream))

/* Multi-level RoIAlign as torchvision's MultiScaleRoIAlign: each roi is assigned a
 * pyramid level by the LevelMapper rule
 *   lvl = floor(canonical_level + log2(sqrt(area(box)) / canonical_scale) + eps)
 *   clamped to [k_min, k_max], index = lvl - k_min,
 * computed in float32, and sampled from that level in one launch. The output keeps the
 * rois' order. Up to MRCNN_MAX_LEVELS levels; level i has its own feature pointer (on
 * the op's device), size and spatial scale; all levels share n and c.
 * level_features/level_h/level_w/level_scale are HOST arrays of num_levels entries. */
#define MRCNN_MAX_LEVELS 8
MRCNN_DECLARE_ALL_BACKENDS(int, multilevel_roi_align,
    (const float* const* level_features, const int* level_h, const int* level_w,
     const float* level_scale, int num_levels, int n, int c,
     const float* rois, int k, int pooled_h, int pooled_w, int sampling_ratio, int aligned,
     int canonical_scale, int canonical_level, int k_min, int k_max, float eps,
     float* output, void* stream))
