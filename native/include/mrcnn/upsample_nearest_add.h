/* FPN top-down step with torch 1.13 semantics, NHWC activations:
 *   output[n][y][x][c] = lateral[n][y][x][c] + top[n][sy(y)][sx(x)][c]
 * i.e. torchvision's  inner_lateral + F.interpolate(last_inner, size=(out_h, out_w),
 * mode="nearest"), with torch's nearest source index (aten/src/ATen/native/UpSample.h):
 *   sy = y                                    when out_h == in_h
 *   sy = y >> 1                               when out_h == 2 * in_h
 *   sy = min(floor(y * scale), in_h - 1)      otherwise, scale = (float)in_h / out_h in
 *                                             float32 (likewise x)
 * lateral == NULL gives the plain upsample_nearest. output may be lateral itself (in-place
 * add) but must not overlap top.
 *   top     [n][in_h][in_w][c]     lateral, output [n][out_h][out_w][c]     dense float */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, upsample_nearest_add,
    (const float* top, int n, int in_h, int in_w, int c,
     const float* lateral, float* output, int out_h, int out_w, void* stream))
