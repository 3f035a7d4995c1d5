/* Softmax over the last dimension of a dense [rows][cols] float tensor, torch 1.13
 * semantics (F.softmax(x, dim=-1), float32, numerically stable):
 *   m = max_j x[r][j];  e_j = exp(x[r][j] - m);  s = sum_j e_j;  y[r][j] = e_j * (1 / s)
 * A NaN in a row makes the whole row NaN; a row of -inf (or containing +inf) gives NaN, as
 * in torch. y may be x (in place) but must not partly overlap it. Used on the box head's
 * class logits (torchvision's postprocess_detections: F.softmax(class_logits, -1)). */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, softmax, (const float* x, int rows, int cols, float* y, void* stream))
