// gather_rows / gather_channel on CUDA (contract: mrcnn/gather.h; math: mrcnn/math/gather.h).
// One thread per output word, consecutive threads on consecutive words of a row (coalesced
// writes; reads coalesced within a row). Grid-stride loops cover any size.
#include "common.cuh"
#include "mrcnn/gather.h"
#include "mrcnn/math/gather.h"

namespace {

constexpr int kBlock = 256;

__global__ void __launch_bounds__(kBlock) gather_rows_kernel(const uint32_t* in, int64_t rows, int64_t row_words,
                                                             const int64_t* indices, int64_t total, uint32_t* out) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < total; t += stride)
    out[t] = mrcnn::gather_math::row_word(in, rows, row_words, indices, t / row_words, t % row_words);
}

__global__ void __launch_bounds__(kBlock) gather_channel_kernel(const float* in, int64_t p, int64_t c,
                                                                const int64_t* channels, int64_t total, float* out) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < total; t += stride)
    out[t] = mrcnn::gather_math::channel_value(in, p, c, channels, t / p, t % p);
}

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(gather_rows)(const void* input, int64_t rows, int64_t row_words, const int64_t* indices,
                                         int64_t count, void* output, void* stream) {
  int st = mrcnn::gather_math::check_rows(input, rows, row_words, indices, count, output);
  if (st != MRCNN_OK || count == 0 || row_words == 0) return st;
  const long long total = (long long)(count * row_words);
  cudaError_t e = klaunch(gather_rows_kernel, dim3(mrcnn_cuda::grid_for(total, kBlock, 1 << 16)), dim3(kBlock), 0,
                          (cudaStream_t)stream, (const uint32_t*)input, rows, row_words, indices, (int64_t)total,
                          (uint32_t*)output);
  return mrcnn_cuda::status_from(e, "gather_rows");
}

MRCNN_API int MRCNN_CUDA_FN(gather_channel)(const float* input, int64_t k, int64_t p, int64_t c,
                                            const int64_t* channels, float* output, void* stream) {
  int st = mrcnn::gather_math::check_channel(input, k, p, c, channels, output);
  if (st != MRCNN_OK || k == 0 || p == 0) return st;
  const long long total = (long long)(k * p);
  cudaError_t e = klaunch(gather_channel_kernel, dim3(mrcnn_cuda::grid_for(total, kBlock, 1 << 16)), dim3(kBlock),
                          0, (cudaStream_t)stream, input, p, c, channels, (int64_t)total, output);
  return mrcnn_cuda::status_from(e, "gather_channel");
}
