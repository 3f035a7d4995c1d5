// box_filter on CUDA (contract: mrcnn/box_filter.h; math: mrcnn/math/box_filter.h).
//
// Design: an ordered stream compaction in two passes over the same contiguous block ranges
// (no CUB, no inter-block waiting, which the emulator could not run either):
//  1. `count`: each block evaluates the predicate over its range (striped: a warp reads 32
//     consecutive boxes, 512 contiguous bytes, as float4 when aligned) and stores its kept
//     count in the workspace;
//  2. `scatter`: each block sums the counts of the blocks before it (a block-wide reduction,
//     at most kMaxBlocks values), then re-evaluates its range tile by tile and writes the kept
//     indices in order: ranks inside a tile from warp ballots and one prefix sum over the
//     (round, warp) counts (block_scan.cuh's tile_ranks). The last block writes the total.
#include "block_scan.cuh"
#include "common.cuh"
#include "mrcnn/box_filter.h"
#include "mrcnn/math/box_filter.h"

namespace {

using namespace mrcnn::box_filter_math;

constexpr int kThreads = 256;
constexpr int kRounds = 8;
constexpr int kTile = kThreads * kRounds;
constexpr int kMaxBlocks = 256;

struct Args {
  const float* boxes;
  const float* scores;
  int n;
  int tiles_per_block;
  Params p;
  bool vec;  // boxes 16-byte aligned: float4 loads
};

__device__ __forceinline__ bool kept(const Args& a, int i) {
  float b[4];
  if (a.vec) {
    const float4 v = __ldg(reinterpret_cast<const float4*>(a.boxes) + i);
    b[0] = v.x;
    b[1] = v.y;
    b[2] = v.z;
    b[3] = v.w;
  } else {
    for (int c = 0; c < 4; ++c) b[c] = __ldg(a.boxes + (size_t)i * 4 + c);
  }
  return keep_box(b, a.scores, i, a.p);
}

__device__ __forceinline__ void block_range(const Args& a, int* begin, int* end) {
  const long long b = (long long)blockIdx.x * a.tiles_per_block * kTile;
  const long long e = b + (long long)a.tiles_per_block * kTile;
  *begin = (int)(b < a.n ? b : a.n);
  *end = (int)(e < a.n ? e : a.n);
}

__global__ void __launch_bounds__(kThreads) count_kernel(Args a, int* block_counts) {
  __shared__ int scratch[mrcnn_cuda::kScanScratch];
  int begin, end;
  block_range(a, &begin, &end);
  int c = 0;
  for (int i = begin + threadIdx.x; i < end; i += blockDim.x) c += kept(a, i);
  int total;
  mrcnn_cuda::block_exclusive_scan(c, &total, scratch);
  if (threadIdx.x == 0) block_counts[blockIdx.x] = total;
}

__global__ void __launch_bounds__(kThreads)
scatter_kernel(Args a, const int* block_counts, int64_t* keep, int* num_kept) {
  __shared__ int scratch[mrcnn_cuda::kScanScratch];
  __shared__ int offs[mrcnn_cuda::tile_ranks_scratch(kRounds)];
  int before = 0;
  for (int b = threadIdx.x; b < (int)blockIdx.x; b += blockDim.x) before += block_counts[b];
  int base;
  mrcnn_cuda::block_exclusive_scan(before, &base, scratch);
  int begin, end;
  block_range(a, &begin, &end);
  for (int t0 = begin; t0 < end; t0 += kTile) {
    bool flag[kRounds];
    int rank[kRounds];
    for (int q = 0; q < kRounds; ++q) {
      const int i = t0 + q * kThreads + (int)threadIdx.x;
      flag[q] = i < end && kept(a, i);
    }
    const int tile_total = mrcnn_cuda::tile_ranks(flag, rank, offs);
    for (int q = 0; q < kRounds; ++q)
      if (flag[q]) keep[base + rank[q]] = t0 + q * kThreads + (int)threadIdx.x;
    base += tile_total;
  }
  if (blockIdx.x == gridDim.x - 1 && threadIdx.x == 0) *num_kept = base;
}

}  // namespace

MRCNN_API size_t MRCNN_CUDA_FN(box_filter_workspace_size)(int n) {
  (void)n;
  return kMaxBlocks * sizeof(int);
}

MRCNN_API int MRCNN_CUDA_FN(box_filter)(const float* boxes, const float* scores, int n, float min_size,
                                        float score_thresh, int strict, int64_t* keep, int* num_kept,
                                        void* workspace, size_t workspace_bytes, void* stream) {
  Args a;
  int st = check_args(boxes, scores, n, min_size, score_thresh, strict, keep, num_kept, workspace,
                      workspace_bytes, MRCNN_CUDA_FN(box_filter_workspace_size)(n), &a.p);
  if (st != MRCNN_OK) return st;
  cudaStream_t s = (cudaStream_t)stream;
  if (n == 0) return mrcnn_cuda::status_from(cudaMemsetAsync(num_kept, 0, sizeof(int), s), "box_filter");
  const int tiles = (n + kTile - 1) / kTile;
  a.boxes = boxes;
  a.scores = scores;
  a.n = n;
  a.tiles_per_block = (tiles + kMaxBlocks - 1) / kMaxBlocks;
  a.vec = ((uintptr_t)boxes & 15u) == 0;
  const int blocks = (tiles + a.tiles_per_block - 1) / a.tiles_per_block;
  int* counts = (int*)workspace;
  cudaError_t e = klaunch(count_kernel, dim3(blocks), dim3(kThreads), 0, s, a, counts);
  if (e == cudaSuccess) e = klaunch(scatter_kernel, dim3(blocks), dim3(kThreads), 0, s, a, counts, keep, num_kept);
  return mrcnn_cuda::status_from(e, "box_filter");
}
