// depth_to_space_2x2 on CUDA, NHWC (contract: mrcnn/depth_to_space_2x2.h; math:
// mrcnn/math/depth_to_space_2x2.h).
// Design: one thread per (output pixel, channel vector), the channel vector the fastest
// index: a warp writes 512 contiguous output bytes (float4 path) and reads 512 contiguous
// bytes of one input sub-block, so both sides are coalesced; a pure permutation, with
// nothing to stage in shared memory. Scalar path for ragged channel counts or misaligned
// pointers.
#include "common.cuh"
#include "mrcnn/depth_to_space_2x2.h"
#include "mrcnn/math/depth_to_space_2x2.h"

namespace {

using namespace mrcnn::depth_to_space_2x2_math;

constexpr int kBlock = 256;

struct Params {
  const float* input;
  int h, w, c_out;
  float* output;
  long long pixels;  // n * 2h * 2w
};

template <int VEC, bool RELU> struct Vec;
template <bool RELU> struct Vec<1, RELU> {
  typedef float T;
  __device__ __forceinline__ static T load(const float* p) {
    const float v = __ldg(p);
    return RELU ? relu(v) : v;
  }
};
template <bool RELU> struct Vec<4, RELU> {
  typedef float4 T;
  __device__ __forceinline__ static T load(const float* p) {
    const float4 v = __ldg(reinterpret_cast<const float4*>(p));
    return RELU ? make_float4(relu(v.x), relu(v.y), relu(v.z), relu(v.w)) : v;
  }
};

template <int VEC, bool RELU>
__global__ void __launch_bounds__(kBlock) depth_to_space_kernel(Params p) {
  const int cv_n = p.c_out / VEC;
  const int out_h = 2 * p.h, out_w = 2 * p.w;
  const long long total = p.pixels * cv_n;
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int cv = (int)(i % cv_n);
    long long r = i / cv_n;
    const int ox = (int)(r % out_w);
    r /= out_w;
    const int oy = (int)(r % out_h);
    const int b = (int)(r / out_h);
    const float* src = p.input + source_offset(b, oy, ox, p.h, p.w, p.c_out) + (long long)cv * VEC;
    *reinterpret_cast<typename Vec<VEC, RELU>::T*>(p.output + i * VEC) = Vec<VEC, RELU>::load(src);
  }
}

bool aligned16(const void* ptr) { return ((uintptr_t)ptr & 15u) == 0; }

template <int VEC>
cudaError_t launch(const Params& p, bool relu, cudaStream_t stream) {
  const unsigned grid = mrcnn_cuda::grid_for(p.pixels * (p.c_out / VEC), kBlock, 1 << 20);
  return relu ? klaunch(depth_to_space_kernel<VEC, true>, dim3(grid), dim3(kBlock), 0, stream, p)
              : klaunch(depth_to_space_kernel<VEC, false>, dim3(grid), dim3(kBlock), 0, stream, p);
}

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(depth_to_space_2x2)(const float* input, int n, int h, int w, int c_out,
                                                float* output, int relu, void* stream) {
  int st = check_args(input, n, h, w, c_out, output);
  if (st != MRCNN_OK || (long long)n * h * w * c_out == 0) return st;
  Params p{input, h, w, c_out, output, (long long)n * 4 * h * w};
  const bool vec4 = c_out % 4 == 0 && aligned16(input) && aligned16(output);
  cudaError_t e = vec4 ? launch<4>(p, relu != 0, (cudaStream_t)stream)
                       : launch<1>(p, relu != 0, (cudaStream_t)stream);
  return mrcnn_cuda::status_from(e, "depth_to_space_2x2");
}
