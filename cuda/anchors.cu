// anchors on CUDA (contract: mrcnn/anchors.h; math: mrcnn/math/anchors.h).
//
// Design: one thread per anchor in output order, so a warp writes 32 consecutive float4s
// (512 contiguous bytes; scalar stores when the output is not 16-byte aligned). The host
// base anchors travel by value in the kernel's parameters and each block copies them to
// shared memory once (indexed by anchor j, which varies across the lanes of a warp).
// Write-bandwidth bound; the integer divisions are per anchor, not per float.
#include "common.cuh"
#include "mrcnn/anchors.h"
#include "mrcnn/math/anchors.h"

namespace {

using namespace mrcnn::anchors_math;

constexpr int kBlock = 256;

struct Params {
  float base[MRCNN_ANCHORS_MAX_PER_LOCATION * 4];
  int a, grid_w, stride_h, stride_w;
  long long count;  // grid_h * grid_w * a
};

__global__ void __launch_bounds__(kBlock) anchors_kernel(const Params p, float* out, bool vec) {
  __shared__ float base[MRCNN_ANCHORS_MAX_PER_LOCATION * 4];
  for (int i = threadIdx.x; i < p.a * 4; i += blockDim.x) base[i] = p.base[i];
  __syncthreads();
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < p.count; t += stride) {
    const int j = (int)(t % p.a);
    const long long cell = t / p.a;
    const int x = (int)(cell % p.grid_w);
    const int y = (int)(cell / p.grid_w);
    const float* b = base + j * 4;
    const Anchor an = anchor(x, y, p.stride_w, p.stride_h, b[0], b[1], b[2], b[3]);
    float* o = out + t * 4;
    if (vec) {
      *reinterpret_cast<float4*>(o) = make_float4(an.x1, an.y1, an.x2, an.y2);
    } else {
      o[0] = an.x1;
      o[1] = an.y1;
      o[2] = an.x2;
      o[3] = an.y2;
    }
  }
}

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(anchors)(const float* base, int a, int grid_h, int grid_w,
                                     int stride_h, int stride_w, float* out, void* stream) {
  int st = check_args(base, a, grid_h, grid_w, stride_h, stride_w, out);
  if (st != MRCNN_OK || grid_h == 0 || grid_w == 0) return st;
  Params p;
  for (int i = 0; i < MRCNN_ANCHORS_MAX_PER_LOCATION * 4; ++i) p.base[i] = i < a * 4 ? base[i] : 0.0f;
  p.a = a;
  p.grid_w = grid_w;
  p.stride_h = stride_h;
  p.stride_w = stride_w;
  p.count = (long long)grid_h * grid_w * a;
  const bool vec = ((uintptr_t)out & 15u) == 0;
  const unsigned grid = mrcnn_cuda::grid_for(p.count, kBlock, 1 << 16);
  cudaError_t e = klaunch(anchors_kernel, dim3(grid), dim3(kBlock), 0, (cudaStream_t)stream, p, out, vec);
  return mrcnn_cuda::status_from(e, "anchors");
}
