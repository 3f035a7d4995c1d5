// gather_rows / gather_channel on the CPU (contract: mrcnn/gather.h; math: mrcnn/math/gather.h).
// Memory-bound copies: OpenMP over output rows only when there is enough to share.
#include "mrcnn/gather.h"
#include "mrcnn/math/gather.h"

MRCNN_API int mrcnn_cpu_gather_rows(const void* input, int64_t rows, int64_t row_words, const int64_t* indices,
                                    int64_t count, void* output, void* /*stream*/) {
  int st = mrcnn::gather_math::check_rows(input, rows, row_words, indices, count, output);
  if (st != MRCNN_OK || count == 0 || row_words == 0) return st;
  const uint32_t* in = (const uint32_t*)input;
  uint32_t* out = (uint32_t*)output;
#pragma omp parallel for schedule(static) if (count * row_words > (1 << 16))
  for (int64_t i = 0; i < count; ++i)
    for (int64_t j = 0; j < row_words; ++j)
      out[i * row_words + j] = mrcnn::gather_math::row_word(in, rows, row_words, indices, i, j);
  return MRCNN_OK;
}

MRCNN_API int mrcnn_cpu_gather_channel(const float* input, int64_t k, int64_t p, int64_t c, const int64_t* channels,
                                       float* output, void* /*stream*/) {
  int st = mrcnn::gather_math::check_channel(input, k, p, c, channels, output);
  if (st != MRCNN_OK || k == 0 || p == 0) return st;
#pragma omp parallel for schedule(static) if (k * p * c > (1 << 18))
  for (int64_t r = 0; r < k; ++r)
    for (int64_t q = 0; q < p; ++q)
      output[r * p + q] = mrcnn::gather_math::channel_value(input, p, c, channels, r, q);
  return MRCNN_OK;
}
