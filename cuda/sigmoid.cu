// sigmoid on CUDA (contract: mrcnn/sigmoid.h; math: mrcnn/math/sigmoid.h).
// A grid-stride stream over float4s (consecutive threads, consecutive 16-byte vectors:
// coalesced), then the < 4 trailing floats; a scalar loop when a pointer is misaligned.
// Plain loads, since y may be x (each element is read, then written, by one thread).
#include "common.cuh"
#include "mrcnn/math/sigmoid.h"
#include "mrcnn/sigmoid.h"

namespace {

using mrcnn::sigmoid_math::sigmoid;

constexpr int kBlock = 256;

__global__ void __launch_bounds__(kBlock) sigmoid_vec4(const float4* x, float4* y, long long n4,
                                                       const float* x_tail, float* y_tail, int tail) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  const long long first = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  for (long long i = first; i < n4; i += stride) {
    const float4 v = x[i];
    y[i] = make_float4(sigmoid(v.x), sigmoid(v.y), sigmoid(v.z), sigmoid(v.w));
  }
  if (first < tail) y_tail[first] = sigmoid(x_tail[first]);
}

__global__ void __launch_bounds__(kBlock) sigmoid_scalar(const float* x, float* y, long long n) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    y[i] = sigmoid(x[i]);
}

bool aligned16(const void* ptr) { return ((uintptr_t)ptr & 15u) == 0; }

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(sigmoid)(const float* x, float* y, size_t count, void* stream) {
  int st = mrcnn::sigmoid_math::check_args(x, y, count);
  if (st != MRCNN_OK || count == 0) return st;
  const long long n = (long long)count;
  cudaError_t e;
  if (aligned16(x) && aligned16(y)) {
    const long long n4 = n / 4;
    const int tail = (int)(n - n4 * 4);
    const unsigned grid = mrcnn_cuda::grid_for(n4 > tail ? n4 : tail, kBlock, 1 << 16);
    e = klaunch(sigmoid_vec4, dim3(grid), dim3(kBlock), 0, (cudaStream_t)stream,
                reinterpret_cast<const float4*>(x), reinterpret_cast<float4*>(y), n4, x + n4 * 4,
                y + n4 * 4, tail);
  } else {
    e = klaunch(sigmoid_scalar, dim3(mrcnn_cuda::grid_for(n, kBlock, 1 << 16)), dim3(kBlock), 0,
                (cudaStream_t)stream, x, y, n);
  }
  return mrcnn_cuda::status_from(e, "sigmoid");
}
