// Block-wide prefix sums for the compaction kernels (topk, box_filter): warp shuffles inside
// each warp, one shared array of warp totals between them. Every thread of the block must call
// these at the same place (they contain __syncthreads), and blockDim.x must be a multiple of
// 32 (full warps: the shuffles use the full mask).
#pragma once
#include "common.cuh"

namespace mrcnn_cuda {
// Internal linkage: the same source is compiled into the nvcc and the emulated build.
namespace {

// Shared ints block_exclusive_scan needs: one per warp plus the total.
constexpr int kScanScratch = 33;

// Inclusive prefix sum of v over the lanes of the calling warp.
__device__ __forceinline__ int warp_inclusive_scan(int v) {
  const int lane = threadIdx.x & 31;
  for (int d = 1; d < 32; d <<= 1) {
    const int u = __shfl_up_sync(0xffffffffu, v, d);
    if (lane >= d) v += u;
  }
  return v;
}

// Exclusive prefix sum of v over the block in thread order; *total receives the block's sum
// (in every thread). warp_sums: shared scratch of kScanScratch ints. Ends with a barrier, so the
// scratch may be reused right after.
__device__ __forceinline__ int block_exclusive_scan(int v, int* total, int* warp_sums) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int nwarps = blockDim.x >> 5;
  const int inc = warp_inclusive_scan(v);
  if (lane == 31) warp_sums[warp] = inc;
  __syncthreads();
  if (warp == 0) {
    const int s = lane < nwarps ? warp_sums[lane] : 0;
    const int si = warp_inclusive_scan(s);
    if (lane < nwarps) warp_sums[lane] = si - s;  // exclusive offset of each warp
    if (lane == 31) warp_sums[32] = si;           // the block total
  }
  __syncthreads();
  const int out = warp_sums[warp] + inc - v;
  *total = warp_sums[32];
  __syncthreads();
  return out;
}

// Ordered compaction of a striped tile: thread t's q-th element (q < R) is element
// q * blockDim.x + t of the tile, and flagged[q] says whether it is kept. On return rank[q] is
// the number of kept elements before it in the tile (meaningful where flagged[q]) and the
// result is the tile's kept count. Warp ballots rank within a warp; one warp prefix-sums the
// R * (blockDim.x / 32) (round, warp) counts. offs: shared scratch of tile_ranks_scratch(R)
// ints. Ends with a barrier, so the scratch may be reused right after.
__host__ __device__ constexpr int tile_ranks_scratch(int rounds) { return rounds * 32 + 1; }

template <int R>
__device__ __forceinline__ int tile_ranks(const bool (&flagged)[R], int (&rank)[R], int* offs) {
  const int lane = threadIdx.x & 31;
  const int warp = threadIdx.x >> 5;
  const int nwarps = blockDim.x >> 5;
  const unsigned below = (1u << lane) - 1u;
  for (int q = 0; q < R; ++q) {
    const unsigned b = __ballot_sync(0xffffffffu, flagged[q]);
    rank[q] = __popc(b & below);
    if (lane == 0) offs[q * nwarps + warp] = __popc(b);
  }
  __syncthreads();
  if (warp == 0) {  // exclusive prefix sum of the (round, warp) counts, round-major
    const int entries = R * nwarps;
    const int per = (entries + 31) / 32;
    const int lo = lane * per;
    const int hi = lo + per < entries ? lo + per : entries;
    int sum = 0;
    for (int e = lo; e < hi; ++e) sum += offs[e];
    int run = warp_inclusive_scan(sum) - sum;
    for (int e = lo; e < hi; ++e) {
      const int c = offs[e];
      offs[e] = run;
      run += c;
    }
    if (lane == 31) offs[entries] = run;  // lane 31 ends at the total (its range may be empty)
  }
  __syncthreads();
  for (int q = 0; q < R; ++q) rank[q] += offs[q * nwarps + warp];
  const int total = offs[R * nwarps];
  __syncthreads();
  return total;
}

}  // namespace
}  // namespace mrcnn_cuda
