/* Anchors of one feature-map level with torchvision 0.14 semantics (AnchorGenerator.grid_anchors).
 *   base [a][4]: the level's cell anchors (x1, y1, x2, y2) centred on 0, in HOST memory
 *   (generate_anchors; the Java side computes them bit for bit as torch does);
 *   out [grid_h * grid_w * a][4] in the op's device memory, ordered (y, x, anchor):
 *     out[(y*grid_w + x)*a + j] = (sx, sy, sx, sy) + base[j]   with
 *     sx = x * stride_w, sy = y * stride_h computed in int32 (torch's int32 arange times the
 *     stride), converted to float32 and added in float32.
 * torchvision's strides are image_size // grid_size of the padded batch (integer division).
 * 1 <= a <= MRCNN_ANCHORS_MAX_PER_LOCATION, grid sizes >= 0, strides >= 0, every shift must fit
 * int32. A grid with no cell is a no-op. */
#pragma once
#include "mrcnn/api.h"

#define MRCNN_ANCHORS_MAX_PER_LOCATION 64

MRCNN_DECLARE_ALL_BACKENDS(int, anchors,
    (const float* base, int a, int grid_h, int grid_w, int stride_h, int stride_w,
     float* out, void* stream))
