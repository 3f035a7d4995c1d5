// max_pool2d on CUDA, NHWC (contract: mrcnn/max_pool2d.h; math: mrcnn/math/max_pool2d.h).
//
// Design: one thread per (output pixel, channel vector), the channel vector the fastest
// index, so a warp reads 32 consecutive float4s (512 contiguous bytes) of each window
// pixel and writes 512 contiguous bytes of output: every global access is coalesced.
// Float4 accesses when the channel count and the pointers allow it, scalar otherwise.
// Neighbouring output pixels of a block share window pixels (3x3/stride 2 reads each input
// pixel 2.25 times); those re-reads hit L1/L2, so staging windows in shared memory would
// only add a barrier to this bandwidth-bound kernel: there is none. Each thread scans its
// window in torch's row-major order, so NaN and +0/-0 resolve as in torch.
#include "common.cuh"
#include "mrcnn/math/max_pool2d.h"
#include "mrcnn/max_pool2d.h"

namespace {

using namespace mrcnn::max_pool2d_math;

constexpr int kBlock = 256;

struct Params {
  const float* input;
  int h, w, c;
  int kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w;
  float* output;
  int out_h, out_w;
  long long pixels;  // n * out_h * out_w
};

template <int VEC> struct Vec;
template <> struct Vec<1> {
  typedef float T;
  __device__ __forceinline__ static T load(const float* p) { return __ldg(p); }
  __device__ __forceinline__ static T fill(float v) { return v; }
  __device__ __forceinline__ static T step(T m, T v) { return max_step(m, v); }
};
template <> struct Vec<4> {
  typedef float4 T;
  __device__ __forceinline__ static T load(const float* p) {
    return __ldg(reinterpret_cast<const float4*>(p));
  }
  __device__ __forceinline__ static T fill(float v) { return make_float4(v, v, v, v); }
  __device__ __forceinline__ static T step(T m, T v) {
    return make_float4(max_step(m.x, v.x), max_step(m.y, v.y), max_step(m.z, v.z),
                       max_step(m.w, v.w));
  }
};

template <int VEC>
__global__ void __launch_bounds__(kBlock) max_pool2d_kernel(Params p) {
  typedef typename Vec<VEC>::T T;
  const int cv_n = p.c / VEC;
  const long long total = p.pixels * cv_n;
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int cv = (int)(i % cv_n);
    long long r = i / cv_n;
    const int ox = (int)(r % p.out_w);
    r /= p.out_w;
    const int oy = (int)(r % p.out_h);
    const int b = (int)(r / p.out_h);
    const Window wy = window(oy, p.stride_h, p.pad_h, p.kernel_h, p.h);
    const Window wx = window(ox, p.stride_w, p.pad_w, p.kernel_w, p.w);
    const float* img = p.input + (long long)b * p.h * p.w * p.c + (long long)cv * VEC;
    T m = Vec<VEC>::fill(-INFINITY);
    for (int iy = wy.begin; iy < wy.end; ++iy)
      for (int ix = wx.begin; ix < wx.end; ++ix)
        m = Vec<VEC>::step(m, Vec<VEC>::load(img + ((long long)iy * p.w + ix) * p.c));
    *reinterpret_cast<T*>(p.output + i * VEC) = m;
  }
}

bool aligned16(const void* ptr) { return ((uintptr_t)ptr & 15u) == 0; }

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(max_pool2d)(const float* input, int n, int h, int w, int c,
                                        int kernel_h, int kernel_w, int stride_h, int stride_w,
                                        int pad_h, int pad_w, float* output, int out_h, int out_w,
                                        void* stream) {
  int st = check_args(input, n, h, w, c, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
                      output, out_h, out_w);
  if (st != MRCNN_OK || n == 0 || c == 0) return st;
  Params p{input, h, w, c, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
           output, out_h, out_w, (long long)n * out_h * out_w};
  const bool vec4 = c % 4 == 0 && aligned16(input) && aligned16(output);
  const long long total = p.pixels * (vec4 ? c / 4 : c);
  const unsigned grid = mrcnn_cuda::grid_for(total, kBlock, 1 << 20);
  cudaError_t e = vec4 ? klaunch(max_pool2d_kernel<4>, dim3(grid), dim3(kBlock), 0,
                                 (cudaStream_t)stream, p)
                       : klaunch(max_pool2d_kernel<1>, dim3(grid), dim3(kBlock), 0,
                                 (cudaStream_t)stream, p);
  return mrcnn_cuda::status_from(e, "max_pool2d");
}
