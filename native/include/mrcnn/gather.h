/* Gathers by an index tensor, as torch's advanced indexing on float32/int32/int64 data:
 *   gather_rows:    output[i, :] = input[indices[i], :]          input [rows, row_words] (32-bit words;
 *                   int64 and float rows are whole words), indices int64 [count]
 *   gather_channel: output[k, q] = input[k, q, channels[k]]       input float [k, p, c], channels int64 [k]
 *                   (maskrcnn_inference's mask_prob[arange(K), labels] on NHWC logits)
 * An index outside [0, rows) (or [0, c)) gives a zero row (element): indices live on the device,
 * so the host cannot check them without a synchronisation; callers pass indices their own ops made.
 * Output must not overlap input or indices. */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, gather_rows, (const void* input, int64_t rows, int64_t row_words,
                                              const int64_t* indices, int64_t count, void* output,
                                              void* stream))
MRCNN_DECLARE_ALL_BACKENDS(int, gather_channel, (const float* input, int64_t k, int64_t p, int64_t c,
                                                 const int64_t* channels, float* output, void* stream))
