// add_relu on CUDA (contract: mrcnn/add_relu.h; math: mrcnn/math/add_relu.h).
// A grid-stride stream: thread i handles float4 i (consecutive threads, consecutive 16-byte
// vectors: fully coalesced), then the < 4 trailing floats. Scalar loop when a pointer is
// not 16-byte aligned. Plain (coherent) loads, since out may be a or b: each element is
// read and then written by the same thread only.
#include "common.cuh"
#include "mrcnn/add_relu.h"
#include "mrcnn/math/add_relu.h"

namespace {

using namespace mrcnn::add_relu_math;

constexpr int kBlock = 256;

template <bool RELU>
__global__ void __launch_bounds__(kBlock) add_relu_vec4(const float4* a, const float4* b,
                                                        float4* out, long long n4,
                                                        const float* a_tail, const float* b_tail,
                                                        float* out_tail, int tail) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  const long long first = (long long)blockIdx.x * blockDim.x + threadIdx.x;
  for (long long i = first; i < n4; i += stride) {
    const float4 x = a[i], y = b[i];
    out[i] = make_float4(add_relu(x.x, y.x, RELU), add_relu(x.y, y.y, RELU),
                         add_relu(x.z, y.z, RELU), add_relu(x.w, y.w, RELU));
  }
  if (first < tail) out_tail[first] = add_relu(a_tail[first], b_tail[first], RELU);
}

template <bool RELU>
__global__ void __launch_bounds__(kBlock) add_relu_scalar(const float* a, const float* b,
                                                          float* out, long long n) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < n; i += stride)
    out[i] = add_relu(a[i], b[i], RELU);
}

bool aligned16(const void* ptr) { return ((uintptr_t)ptr & 15u) == 0; }

template <bool RELU>
cudaError_t launch(const float* a, const float* b, float* out, size_t count, cudaStream_t stream) {
  const long long n = (long long)count;
  if (aligned16(a) && aligned16(b) && aligned16(out)) {
    const long long n4 = n / 4;
    const int tail = (int)(n - n4 * 4);
    const unsigned grid = mrcnn_cuda::grid_for(n4 > tail ? n4 : tail, kBlock, 1 << 16);
    return klaunch(add_relu_vec4<RELU>, dim3(grid), dim3(kBlock), 0, stream,
                   reinterpret_cast<const float4*>(a), reinterpret_cast<const float4*>(b),
                   reinterpret_cast<float4*>(out), n4, a + n4 * 4, b + n4 * 4, out + n4 * 4, tail);
  }
  const unsigned grid = mrcnn_cuda::grid_for(n, kBlock, 1 << 16);
  return klaunch(add_relu_scalar<RELU>, dim3(grid), dim3(kBlock), 0, stream, a, b, out, n);
}

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(add_relu)(const float* a, const float* b, float* out, size_t count,
                                      int relu, void* stream) {
  int st = check_args(a, b, out, count);
  if (st != MRCNN_OK || count == 0) return st;
  cudaError_t e = relu ? launch<true>(a, b, out, count, (cudaStream_t)stream)
                       : launch<false>(a, b, out, count, (cudaStream_t)stream);
  return mrcnn_cuda::status_from(e, "add_relu");
}
