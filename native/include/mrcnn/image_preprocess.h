/* One image of torchvision 0.14's GeneralizedRCNNTransform (eval mode): normalize, bilinear
 * resize, and placement into a zero-padded batch slot, in one pass.
 *   image [h][w][c]: float32, HWC interleaved (e.g. RGB in [0, 1]; the Java side documents
 *     the user-facing layout), 1 <= c <= MRCNN_PREPROCESS_MAX_CHANNELS;
 *   mean[c], std[c]: HOST arrays, the float32 values of image_mean / image_std;
 *   out [pad_h][pad_w][c]: one image's slot of an NHWC batch. For y < out_h and x < out_w,
 *     out[y][x] = bilinear resize (torch.nn.functional.interpolate, mode "bilinear",
 *     align_corners False, output size out_h x out_w) of the normalized image
 *     (image - mean) / std; every other element is set to 0 (batch_images' padding).
 * out_h / out_w are torchvision's resize result (the caller computes them: Java's
 * ImagePreprocess.resizedSize). torch 1.13's CPU kernel, reproduced bit for bit (see
 * mrcnn/math/image_preprocess.h): per axis scale = (float)in / (float)out, source index
 * (double)scale * (o + 0.5) - 0.5 in double, clamped at 0; i0 = trunc, i1 = min(i0 + 1, in - 1);
 * l1 = (float)(src - i0), l0 = 1 - l1 (float); axis of equal sizes: (o, o, 1, 0). A value is
 * fma(row0, l0, row1 * l1) of the two rows, each row fma(v0, w0, v1 * w1) along x.
 * Each call needs workspace_size(h, w, c, out_h, out_w) bytes of scratch in the op's device
 * memory (the CPU caches normalized, horizontally resized rows there; CUDA needs none).
 * out must not overlap image or the workspace. */
#pragma once
#include "mrcnn/api.h"

#define MRCNN_PREPROCESS_MAX_CHANNELS 4

MRCNN_DECLARE_ALL_BACKENDS(size_t, image_preprocess_workspace_size,
    (int h, int w, int c, int out_h, int out_w))
MRCNN_DECLARE_ALL_BACKENDS(int, image_preprocess,
    (const float* image, int h, int w, int c, const float* mean, const float* std,
     int out_h, int out_w, float* out, int pad_h, int pad_w, void* workspace,
     size_t workspace_bytes, void* stream))
