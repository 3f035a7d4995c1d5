/* gather math, written once for native/cpu/gather.cpp and cuda/gather.cu. */
#pragma once
#include <stdint.h>
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn {
namespace gather_math {

// Word j of gathered row i (zero for an index out of range).
MRCNN_HD uint32_t row_word(const uint32_t* in, int64_t rows, int64_t row_words, const int64_t* indices,
                           int64_t i, int64_t j) {
  const int64_t r = indices[i];
  return (r >= 0 && r < rows) ? in[r * row_words + j] : 0u;
}

// Element q of gathered row k: channel channels[k] of input[k, q, :] (zero out of range).
MRCNN_HD float channel_value(const float* in, int64_t p, int64_t c, const int64_t* channels, int64_t k,
                             int64_t q) {
  const int64_t ch = channels[k];
  return (ch >= 0 && ch < c) ? in[(k * p + q) * c + ch] : 0.f;
}

inline bool overlap(const void* a, size_t a_bytes, const void* b, size_t b_bytes) {
  const char* x = (const char*)a;
  const char* y = (const char*)b;
  return a_bytes && b_bytes && x < y + b_bytes && y < x + a_bytes;
}

// Argument checks shared by every backend's entry points (host code).
inline int check_rows(const void* in, int64_t rows, int64_t row_words, const int64_t* indices, int64_t count,
                      const void* out) {
  if (rows < 0 || row_words < 0 || count < 0)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "gather_rows: negative size (rows %lld, row words %lld, count %lld)",
                      (long long)rows, (long long)row_words, (long long)count);
  if (count == 0 || row_words == 0) return MRCNN_OK;
  if (!in && rows > 0) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "gather_rows: null input");
  if (!indices || !out) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "gather_rows: null indices or output");
  if (row_words > (INT64_C(1) << 40) / (count > rows ? count : (rows ? rows : 1)))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "gather_rows: sizes too large");
  const size_t out_bytes = (size_t)(count * row_words * 4);
  if (overlap(in, (size_t)(rows * row_words * 4), out, out_bytes) || overlap(indices, (size_t)count * 8, out, out_bytes))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "gather_rows: output overlaps an input");
  return MRCNN_OK;
}

inline int check_channel(const float* in, int64_t k, int64_t p, int64_t c, const int64_t* channels, const float* out) {
  if (k < 0 || p < 0 || c < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "gather_channel: bad sizes (k %lld, p %lld, c %lld)",
                      (long long)k, (long long)p, (long long)c);
  if (k == 0 || p == 0) return MRCNN_OK;
  if (!in || !channels || !out) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "gather_channel: null pointer");
  if (p > (INT64_C(1) << 40) / k / c) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "gather_channel: sizes too large");
  const size_t out_bytes = (size_t)(k * p * 4);
  if (overlap(in, (size_t)(k * p * c * 4), out, out_bytes) || overlap(channels, (size_t)k * 8, out, out_bytes))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "gather_channel: output overlaps an input");
  return MRCNN_OK;
}

}  // namespace gather_math
}  // namespace mrcnn
