// box_decode on CUDA (contract: mrcnn/box_decode.h; math: mrcnn/math/box_decode.h).
//
// Design: one thread per (row, class) pair in a grid-stride loop, in the output's order, so
// a warp reads 32 consecutive delta quadruples (512 contiguous bytes, one float4 each) and
// writes 512 contiguous bytes of boxes: every access to deltas and output is coalesced. The
// k threads of one row read the same reference box, served by L1. Scalar loads when a
// pointer is not 16-byte aligned. Memory-bound elementwise work: no shared memory needed.
#include "common.cuh"
#include "mrcnn/box_decode.h"
#include "mrcnn/math/box_decode.h"

namespace {

using namespace mrcnn::box_decode_math;

constexpr int kBlock = 256;

__device__ __forceinline__ float4 load4(const float* p, bool vec) {
  if (vec) return __ldg(reinterpret_cast<const float4*>(p));
  return make_float4(__ldg(p), __ldg(p + 1), __ldg(p + 2), __ldg(p + 3));
}

__global__ void __launch_bounds__(kBlock)
box_decode_kernel(const float* deltas, const float* boxes, long long items, int k, Params p,
                  float* out, bool vec) {
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < items; t += stride) {
    const float4 r = load4(boxes + (t / k) * 4, vec);
    const float4 d = load4(deltas + t * 4, vec);
    const Box b = decode(Box{r.x, r.y, r.z, r.w}, d.x, d.y, d.z, d.w, p);
    float* o = out + t * 4;
    if (vec) {
      *reinterpret_cast<float4*>(o) = make_float4(b.x1, b.y1, b.x2, b.y2);
    } else {
      o[0] = b.x1;
      o[1] = b.y1;
      o[2] = b.x2;
      o[3] = b.y2;
    }
  }
}

bool aligned16(const void* ptr) { return ((uintptr_t)ptr & 15u) == 0; }

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(box_decode)(const float* deltas, const float* boxes, int n, int k,
                                        float wx, float wy, float ww, float wh, float dwh_clip,
                                        int clip, int image_h, int image_w, float* out,
                                        void* stream) {
  Params p;
  int st = check_args(deltas, boxes, n, k, wx, wy, ww, wh, dwh_clip, clip, image_h, image_w, out, &p);
  if (st != MRCNN_OK || n == 0) return st;
  const long long items = (long long)n * k;
  const bool vec = aligned16(deltas) && aligned16(boxes) && aligned16(out);
  const unsigned grid = mrcnn_cuda::grid_for(items, kBlock, 1 << 16);
  cudaError_t e = klaunch(box_decode_kernel, dim3(grid), dim3(kBlock), 0, (cudaStream_t)stream,
                          deltas, boxes, items, k, p, out, vec);
  return mrcnn_cuda::status_from(e, "box_decode");
}
