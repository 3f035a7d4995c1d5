/* 2-D max pooling with torch 1.13 semantics (torch.nn.functional.max_pool2d, dilation 1,
 * ceil_mode False), NHWC activations:
 *   output[n][oy][ox][c] = max over ky < kernel_h, kx < kernel_w of
 *                          input[n][oy*stride_h - pad_h + ky][ox*stride_w - pad_w + kx][c]
 * Padding counts as -inf (never wins); a NaN in the window makes the output NaN.
 * out_h/out_w must equal (h + 2*pad_h - kernel_h) / stride_h + 1 (likewise w; checked),
 * and pad <= kernel / 2 on each axis, as torch requires. Uses: ResNet's stem pool
 * (3x3, stride 2, pad 1) and FPN's LastLevelMaxPool (1x1, stride 2, pad 0).
 * input and output are dense and must not overlap. */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, max_pool2d,
    (const float* input, int n, int h, int w, int c,
     int kernel_h, int kernel_w, int stride_h, int stride_w, int pad_h, int pad_w,
     float* output, int out_h, int out_w, void* stream))
