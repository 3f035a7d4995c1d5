// upsample_nearest_add on CUDA, NHWC (contract: mrcnn/upsample_nearest_add.h; math:
// mrcnn/math/upsample_nearest_add.h).
//
// Design: one thread per (output pixel, channel vector), the channel vector the fastest
// index: a warp reads 512 contiguous bytes of lateral and of one top pixel (float4 when
// the channel count and pointers allow, scalar otherwise) and writes 512 contiguous bytes:
// all coalesced. The op is a pure stream (about 9 bytes moved per flop), so there is no
// shared-memory staging: the top pixel a 2x upsample reads four times is an L2 hit.
// In-place (output == lateral) is safe: each thread reads its lateral element before it
// writes the same element, and no other thread touches it.
#include "common.cuh"
#include "mrcnn/math/upsample_nearest_add.h"
#include "mrcnn/upsample_nearest_add.h"

namespace {

using namespace mrcnn::upsample_nearest_add_math;

constexpr int kBlock = 256;

struct Params {
  const float* top;
  int in_h, in_w, c;
  const float* lateral;  // may be null
  float* output;         // may equal lateral
  int out_h, out_w;
  long long pixels;      // n * out_h * out_w
};

template <int VEC> struct Vec;
template <> struct Vec<1> {
  typedef float T;
  __device__ __forceinline__ static T load(const float* p) { return __ldg(p); }
  __device__ __forceinline__ static T add(T a, T b) { return a + b; }
};
template <> struct Vec<4> {
  typedef float4 T;
  __device__ __forceinline__ static T load(const float* p) {
    return __ldg(reinterpret_cast<const float4*>(p));
  }
  __device__ __forceinline__ static T add(T a, T b) {
    return make_float4(a.x + b.x, a.y + b.y, a.z + b.z, a.w + b.w);
  }
};

template <int VEC>
__global__ void __launch_bounds__(kBlock) upsample_nearest_add_kernel(Params p) {
  typedef typename Vec<VEC>::T T;
  const int cv_n = p.c / VEC;
  const long long total = p.pixels * cv_n;
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int cv = (int)(i % cv_n);
    long long r = i / cv_n;
    const int x = (int)(r % p.out_w);
    r /= p.out_w;
    const int y = (int)(r % p.out_h);
    const int b = (int)(r / p.out_h);
    const int sy = nearest_source(y, p.in_h, p.out_h);
    const int sx = nearest_source(x, p.in_w, p.out_w);
    T v = Vec<VEC>::load(p.top + (((long long)b * p.in_h + sy) * p.in_w + sx) * p.c +
                         (long long)cv * VEC);
    // The lateral load is a plain load: it may alias the output (in-place add).
    if (p.lateral) v = Vec<VEC>::add(*reinterpret_cast<const T*>(p.lateral + i * VEC), v);
    *reinterpret_cast<T*>(p.output + i * VEC) = v;
  }
}

bool aligned16(const void* ptr) { return ((uintptr_t)ptr & 15u) == 0; }

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(upsample_nearest_add)(const float* top, int n, int in_h, int in_w,
                                                  int c, const float* lateral, float* output,
                                                  int out_h, int out_w, void* stream) {
  int st = check_args(top, n, in_h, in_w, c, lateral, output, out_h, out_w);
  if (st != MRCNN_OK || n == 0 || c == 0) return st;
  Params p{top, in_h, in_w, c, lateral, output, out_h, out_w, (long long)n * out_h * out_w};
  const bool vec4 = c % 4 == 0 && aligned16(top) && aligned16(output) &&
                    (!lateral || aligned16(lateral));
  const long long total = p.pixels * (vec4 ? c / 4 : c);
  const unsigned grid = mrcnn_cuda::grid_for(total, kBlock, 1 << 20);
  cudaError_t e = vec4 ? klaunch(upsample_nearest_add_kernel<4>, dim3(grid), dim3(kBlock), 0,
                                 (cudaStream_t)stream, p)
                       : klaunch(upsample_nearest_add_kernel<1>, dim3(grid), dim3(kBlock), 0,
                                 (cudaStream_t)stream, p);
  return mrcnn_cuda::status_from(e, "upsample_nearest_add");
}
