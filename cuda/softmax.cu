// softmax on CUDA (contract: mrcnn/softmax.h; math: mrcnn/math/softmax.h).
// Design: one warp per row (rows are short: the box head's 91 classes), kWarps rows per
// block. Lane l handles columns l, l+32, ...: every pass is a coalesced 128-byte access
// per warp step. Max and sum are per-lane partials combined by a butterfly of
// __shfl_xor_sync, so no shared memory and no barrier. In place (y == x) is safe: a lane
// rewrites only the columns it read, and its later passes read its own writes.
#include "common.cuh"
#include "mrcnn/math/softmax.h"
#include "mrcnn/softmax.h"

namespace {

using namespace mrcnn::softmax_math;

constexpr int kWarps = 4;
constexpr int kBlock = 32 * kWarps;

__global__ void __launch_bounds__(kBlock) softmax_rows(const float* x, int rows, int cols, float* y) {
  const int lane = threadIdx.x & 31;
  const long long warp_stride = (long long)gridDim.x * kWarps;
  for (long long r = (long long)blockIdx.x * kWarps + (threadIdx.x >> 5); r < rows; r += warp_stride) {
    const float* xr = x + r * cols;
    float* yr = y + r * cols;
    float m = -INFINITY;
    for (int j = lane; j < cols; j += 32) m = max_nan(m, xr[j]);
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) m = max_nan(m, __shfl_xor_sync(0xffffffffu, m, d));
    float s = 0.f;
    for (int j = lane; j < cols; j += 32) {
      const float e = shifted_exp(xr[j], m);
      yr[j] = e;
      s += e;
    }
#pragma unroll
    for (int d = 16; d > 0; d >>= 1) s += __shfl_xor_sync(0xffffffffu, s, d);
    const float inv = inverse(s);
    for (int j = lane; j < cols; j += 32) yr[j] *= inv;
  }
}

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(softmax)(const float* x, int rows, int cols, float* y, void* stream) {
  int st = check_args(x, rows, cols, y);
  if (st != MRCNN_OK || rows == 0 || cols == 0) return st;
  // The loop bound is uniform per warp (the row index), so whole warps reach every shuffle.
  const unsigned grid = (unsigned)(mrcnn_cuda::ceil_div(rows, kWarps) < 65535 ? mrcnn_cuda::ceil_div(rows, kWarps) : 65535);
  cudaError_t e = klaunch(softmax_rows, dim3(grid), dim3(kBlock), 0, (cudaStream_t)stream, x, rows, cols, y);
  return mrcnn_cuda::status_from(e, "softmax");
}
