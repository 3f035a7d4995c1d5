/* Elementwise add with an optional fused ReLU, torch 1.13 semantics:
 *   out[i] = a[i] + b[i]              relu == 0
 *   out[i] = relu(a[i] + b[i])        relu != 0, torch.relu: negatives become +0, NaN and
 *                                     -0 pass through unchanged
 * count floats, dense. out may be a or b (in place) but must not partly overlap them. */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, add_relu,
    (const float* a, const float* b, float* out, size_t count, int relu, void* stream))
