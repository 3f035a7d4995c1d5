/* Elementwise logistic sigmoid, torch 1.13 semantics (torch.sigmoid, float32):
 *   y[i] = 1 / (1 + exp(-x[i]))        (-inf -> 0, +inf -> 1, NaN -> NaN)
 * count floats, dense. y may be x (in place) but must not partly overlap it.
 * Used on the mask head's logits (torchvision's maskrcnn_inference: x.sigmoid()). */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, sigmoid, (const float* x, float* y, size_t count, void* stream))
