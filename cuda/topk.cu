// topk on CUDA (contract: mrcnn/topk.h; math: mrcnn/math/topk.h).
//
// Design (no CUB): a radix select over the order key, then an ordered compaction, then a
// bitonic sort of the k winners.
//  1. Select, per digit (3 digits of 11/11/10 bits), two kernels: `hist` streams the row
//     (grid-stride, coalesced loads; up to kMaxBlocks blocks per row) and counts the keys of
//     the candidate class into a shared-memory histogram (shared atomics), merged into the
//     row's global histogram with one atomic per non-empty bin; `choose` (one block per row)
//     scans the bins from the top (a block-wide prefix sum) and records the next state. Once
//     the class holding the k-th key is taken whole, later digits are skipped.
//  2. Compact: `count` counts per block the keys above the class and in it; `scatter`
//     recomputes its block's offset from those counts and writes, in index order, every key
//     above the class and the class's k_rem lowest indices as 64-bit sort keys (key
//     descending, index ascending). Ranks inside a block come from warp ballots over 8
//     striped rounds of 256 coalesced loads per tile (block_scan.cuh's tile_ranks).
//  3. Sort: a bitonic network on the k winners padded to a power of two. Up to 4096 keys
//     one 1024-thread block per row sorts in shared memory and writes the outputs; beyond,
//     4096-key tiles are sorted in shared memory, merged by global compare-exchange steps
//     for the strides >= 4096 and by shared-memory passes for the smaller ones.
// Every kernel's work is independent of the thread schedule: the result is deterministic.
#include "block_scan.cuh"
#include "common.cuh"
#include "mrcnn/math/topk.h"
#include "mrcnn/topk.h"

namespace {

using namespace mrcnn::topk_math;
using u64 = unsigned long long;

constexpr int kThreads = 256;                // streaming kernels (hist, count, scatter)
constexpr int kRounds = 8;                   // striped loads per thread per tile
constexpr int kTile = kThreads * kRounds;    // elements per tile
constexpr int kMaxBlocks = 128;              // blocks per row in the streaming kernels
constexpr int kSortThreads = 1024;
constexpr int kSortTile = 4096;              // keys one block sorts in shared memory (32 KB)
constexpr int kMaxGridY = 65535;

struct Rows {
  const float* input;
  int n, ld, k;
  int row0;             // first row of this launch chunk
  int tiles_per_block;  // of kTile elements, in the streaming kernels
};

struct Ws {
  State* states;     // [rows]
  uint32_t* hist;    // [rows][kMaxBins]
  uint32_t* counts;  // [rows][kMaxBlocks][2]: keys above the class, keys in it
  u64* sel;          // [rows][sel_len]
  int sel_len;       // next power of two >= k
};

struct Layout {
  size_t states, hist, counts, sel, total;
  int sel_len;
};

size_t align256(size_t b) { return (b + 255) & ~(size_t)255; }

Layout layout(int rows, int k) {
  Layout l;
  l.sel_len = 1;
  while (l.sel_len < k) l.sel_len <<= 1;
  l.states = 0;
  l.hist = align256((size_t)rows * sizeof(State));
  l.counts = l.hist + align256((size_t)rows * kMaxBins * sizeof(uint32_t));
  l.sel = l.counts + align256((size_t)rows * kMaxBlocks * 2 * sizeof(uint32_t));
  l.total = l.sel + (size_t)rows * l.sel_len * sizeof(u64);
  return l;
}

__device__ __forceinline__ int row_index(const Rows& r) { return r.row0 + (int)blockIdx.y; }

// This block's element range of its row.
__device__ __forceinline__ void block_range(const Rows& r, int* begin, int* end) {
  const long long b = (long long)blockIdx.x * r.tiles_per_block * kTile;
  const long long e = b + (long long)r.tiles_per_block * kTile;
  *begin = (int)(b < r.n ? b : r.n);
  *end = (int)(e < r.n ? e : r.n);
}

__global__ void __launch_bounds__(kThreads) init_kernel(Ws ws, int k, int row0) {
  const int row = row0 + (int)blockIdx.x;
  if (threadIdx.x == 0) ws.states[row] = initial_state(k);
  for (int b = threadIdx.x; b < kMaxBins; b += blockDim.x) ws.hist[(size_t)row * kMaxBins + b] = 0;
}

__global__ void __launch_bounds__(kThreads) hist_kernel(Rows r, Ws ws, int d) {
  __shared__ uint32_t sh[kMaxBins];
  const int row = row_index(r);
  const State s = ws.states[row];
  if (s.done) return;  // uniform over the block, before any barrier
  for (int b = threadIdx.x; b < kMaxBins; b += blockDim.x) sh[b] = 0;
  __syncthreads();
  int begin, end;
  block_range(r, &begin, &end);
  const float* x = r.input + (size_t)row * r.ld;
  const int shift = digit_shift(d);
  const uint32_t mask = (1u << digit_bits(d)) - 1u;
  for (int i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const uint32_t key = order_key(__ldg(x + i));
    if (in_class(key, s)) atomicAdd(&sh[(key >> shift) & mask], 1u);
  }
  __syncthreads();
  uint32_t* h = ws.hist + (size_t)row * kMaxBins;
  for (int b = threadIdx.x; b < kMaxBins; b += blockDim.x)
    if (sh[b]) atomicAdd(&h[b], sh[b]);
}

__global__ void __launch_bounds__(kThreads) choose_kernel(Ws ws, int d, int row0) {
  __shared__ int scratch[mrcnn_cuda::kScanScratch];
  const int row = row0 + (int)blockIdx.x;
  const State s = ws.states[row];
  if (s.done) return;  // uniform over the block, before any barrier
  uint32_t* h = ws.hist + (size_t)row * kMaxBins;
  const int per = (1 << digit_bits(d)) / kThreads;  // bins per thread, from the top down
  const int hi = (1 << digit_bits(d)) - (int)threadIdx.x * per;
  int sum = 0;
  for (int b = hi - per; b < hi; ++b) sum += (int)h[b];
  int total;
  const int above0 = mrcnn_cuda::block_exclusive_scan(sum, &total, scratch);
  if (above0 < s.k_rem && above0 + sum >= s.k_rem) {  // exactly one thread holds the k-th key
    int above = above0, b = hi - 1;
    while (above + (int)h[b] < s.k_rem) above += (int)h[b--];
    ws.states[row] = next_state(s, d, (uint32_t)b, above, (int)h[b]);
  }
  __syncthreads();  // the histogram is read: clear it for the next digit
  for (int b = threadIdx.x; b < kMaxBins; b += blockDim.x) h[b] = 0;
}

__global__ void __launch_bounds__(kThreads) count_kernel(Rows r, Ws ws) {
  __shared__ int scratch[mrcnn_cuda::kScanScratch];
  const int row = row_index(r);
  const State s = ws.states[row];
  int begin, end;
  block_range(r, &begin, &end);
  const float* x = r.input + (size_t)row * r.ld;
  int gt = 0, eq = 0;
  for (int i = begin + threadIdx.x; i < end; i += blockDim.x) {
    const uint32_t hi = order_key(__ldg(x + i)) >> s.shift;
    gt += hi > s.prefix;
    eq += hi == s.prefix;
  }
  int total_gt, total_eq;
  mrcnn_cuda::block_exclusive_scan(gt, &total_gt, scratch);
  mrcnn_cuda::block_exclusive_scan(eq, &total_eq, scratch);
  if (threadIdx.x == 0) {
    uint32_t* c = ws.counts + ((size_t)row * kMaxBlocks + blockIdx.x) * 2;
    c[0] = (uint32_t)total_gt;
    c[1] = (uint32_t)total_eq;
  }
}

__global__ void __launch_bounds__(kThreads) scatter_kernel(Rows r, Ws ws) {
  __shared__ int scratch[mrcnn_cuda::kScanScratch];
  __shared__ int offs[mrcnn_cuda::tile_ranks_scratch(kRounds)];
  const int row = row_index(r);
  const State s = ws.states[row];
  // Keys of earlier blocks: this block's first slots.
  int pg = 0, pe = 0;
  const uint32_t* c = ws.counts + (size_t)row * kMaxBlocks * 2;
  for (int b = threadIdx.x; b < (int)blockIdx.x; b += blockDim.x) {
    pg += (int)c[2 * b];
    pe += (int)c[2 * b + 1];
  }
  int gt_base, eq_base;
  mrcnn_cuda::block_exclusive_scan(pg, &gt_base, scratch);
  mrcnn_cuda::block_exclusive_scan(pe, &eq_base, scratch);
  const int kgt = r.k - s.k_rem;  // keys above the class: all selected, slots [0, kgt)
  u64* sel = ws.sel + (size_t)row * ws.sel_len;
  const float* x = r.input + (size_t)row * r.ld;
  int begin, end;
  block_range(r, &begin, &end);
  for (int t0 = begin; t0 < end; t0 += kTile) {
    uint32_t key[kRounds];
    bool gt[kRounds], eq[kRounds];
    int rank_gt[kRounds], rank_eq[kRounds];
    for (int q = 0; q < kRounds; ++q) {
      const int i = t0 + q * kThreads + (int)threadIdx.x;
      key[q] = i < end ? order_key(__ldg(x + i)) : 0u;
      const uint32_t hi = key[q] >> s.shift;
      gt[q] = i < end && hi > s.prefix;
      eq[q] = i < end && hi == s.prefix;
    }
    const int tile_gt = mrcnn_cuda::tile_ranks(gt, rank_gt, offs);
    const int tile_eq = mrcnn_cuda::tile_ranks(eq, rank_eq, offs);
    for (int q = 0; q < kRounds; ++q) {
      const uint32_t i = (uint32_t)(t0 + q * kThreads + (int)threadIdx.x);
      if (gt[q]) {
        sel[gt_base + rank_gt[q]] = sort_key(key[q], i);
      } else if (eq[q] && eq_base + rank_eq[q] < s.k_rem) {
        sel[kgt + eq_base + rank_eq[q]] = sort_key(key[q], i);
      }
    }
    gt_base += tile_gt;
    eq_base += tile_eq;
  }
}

// Bitonic compare-exchange steps on len keys in shared memory, for the sizes in
// [size_lo, size_hi] and, for each size, strides from min(size, len)/2 down to 1. The sort
// direction of a pair comes from its global index gbase + i, so tiles sorted separately
// form the bitonic sequences of the global network.
__device__ void bitonic_smem(u64* a, int len, long long gbase, long long size_lo, long long size_hi) {
  for (long long size = size_lo; size <= size_hi; size <<= 1) {
    for (int stride = (int)((size < len ? size : len) >> 1); stride > 0; stride >>= 1) {
      for (int t = threadIdx.x; t < len / 2; t += blockDim.x) {
        const int i = 2 * t - (t & (stride - 1));
        const int j = i + stride;
        const bool ascending = ((gbase + i) & size) == 0;
        const u64 ai = a[i], aj = a[j];
        if ((ai > aj) == ascending) {
          a[i] = aj;
          a[j] = ai;
        }
      }
      __syncthreads();
    }
  }
}

__device__ __forceinline__ void write_out(const Rows& r, int row, int j, u64 key, float* values, int64_t* indices) {
  const uint32_t i = sort_key_index(key);
  values[(size_t)row * r.k + j] = __ldg(r.input + (size_t)row * r.ld + i);
  indices[(size_t)row * r.k + j] = (int64_t)i;
}

// Whole sort of one row in shared memory (sel_len <= kSortTile), then the outputs.
__global__ void __launch_bounds__(kSortThreads) sort_small_kernel(Rows r, Ws ws, float* values, int64_t* indices) {
  KL_EXTERN_SHARED(u64, a);
  const int row = row_index(r);
  const u64* src = ws.sel + (size_t)row * ws.sel_len;
  for (int i = threadIdx.x; i < ws.sel_len; i += blockDim.x) a[i] = i < r.k ? src[i] : ~0ull;
  __syncthreads();
  bitonic_smem(a, ws.sel_len, 0, 2, ws.sel_len);
  for (int j = threadIdx.x; j < r.k; j += blockDim.x) write_out(r, row, j, a[j], values, indices);
}

// Tile blockIdx.x of a row: sizes up to kSortTile (first pass, pads keys >= k) or, for
// merge_size > kSortTile, the strides below kSortTile of that merge size.
__global__ void __launch_bounds__(kSortThreads) sort_tile_kernel(Rows r, Ws ws, long long merge_size) {
  KL_EXTERN_SHARED(u64, a);
  const int row = row_index(r);
  const long long base = (long long)blockIdx.x * kSortTile;
  u64* g = ws.sel + (size_t)row * ws.sel_len + base;
  const bool first = merge_size <= kSortTile;
  for (int i = threadIdx.x; i < kSortTile; i += blockDim.x) a[i] = (!first || base + i < r.k) ? g[i] : ~0ull;
  __syncthreads();
  if (first) {
    bitonic_smem(a, kSortTile, base, 2, kSortTile);
  } else {
    bitonic_smem(a, kSortTile, base, merge_size, merge_size);
  }
  for (int i = threadIdx.x; i < kSortTile; i += blockDim.x) g[i] = a[i];
}

// One global compare-exchange step (stride >= kSortTile) of merge size `size`.
__global__ void __launch_bounds__(kThreads) sort_step_kernel(Rows r, Ws ws, long long size, long long stride) {
  const int row = row_index(r);
  u64* a = ws.sel + (size_t)row * ws.sel_len;
  const long long pairs = ws.sel_len / 2;
  for (long long t = (long long)blockIdx.x * blockDim.x + threadIdx.x; t < pairs; t += (long long)gridDim.x * blockDim.x) {
    const long long i = 2 * t - (t & (stride - 1));
    const long long j = i + stride;
    const bool ascending = (i & size) == 0;
    const u64 ai = a[i], aj = a[j];
    if ((ai > aj) == ascending) {
      a[i] = aj;
      a[j] = ai;
    }
  }
}

__global__ void __launch_bounds__(kThreads) write_kernel(Rows r, Ws ws, float* values, int64_t* indices) {
  const int row = row_index(r);
  const int j = (int)(blockIdx.x * blockDim.x + threadIdx.x);
  if (j < r.k) write_out(r, row, j, ws.sel[(size_t)row * ws.sel_len + j], values, indices);
}

int launch_rows(const Rows& r, int rows, const Ws& ws, float* values, int64_t* indices, cudaStream_t stream) {
  const int tiles = (r.n + kTile - 1) / kTile;
  const int blocks = (tiles + r.tiles_per_block - 1) / r.tiles_per_block;
  const dim3 stream_grid(blocks, rows);
  cudaError_t e = klaunch(init_kernel, dim3(rows), dim3(kThreads), 0, stream, ws, r.k, r.row0);
  for (int d = 0; d < kDigits && e == cudaSuccess; ++d) {
    e = klaunch(hist_kernel, stream_grid, dim3(kThreads), 0, stream, r, ws, d);
    if (e == cudaSuccess) e = klaunch(choose_kernel, dim3(rows), dim3(kThreads), 0, stream, ws, d, r.row0);
  }
  if (e == cudaSuccess) e = klaunch(count_kernel, stream_grid, dim3(kThreads), 0, stream, r, ws);
  if (e == cudaSuccess) e = klaunch(scatter_kernel, stream_grid, dim3(kThreads), 0, stream, r, ws);
  if (e != cudaSuccess) return mrcnn_cuda::status_from(e, "topk");
  if (ws.sel_len <= kSortTile) {
    e = klaunch(sort_small_kernel, dim3(1, rows), dim3(kSortThreads), ws.sel_len * sizeof(u64), stream, r, ws,
                values, indices);
    return mrcnn_cuda::status_from(e, "topk");
  }
  const dim3 tile_grid(ws.sel_len / kSortTile, rows);
  const size_t smem = kSortTile * sizeof(u64);
  e = klaunch(sort_tile_kernel, tile_grid, dim3(kSortThreads), smem, stream, r, ws, (long long)kSortTile);
  for (long long size = 2LL * kSortTile; size <= ws.sel_len && e == cudaSuccess; size <<= 1) {
    const unsigned step_blocks = mrcnn_cuda::grid_for(ws.sel_len / 2, kThreads, 4096);
    for (long long stride = size / 2; stride >= kSortTile && e == cudaSuccess; stride >>= 1)
      e = klaunch(sort_step_kernel, dim3(step_blocks, rows), dim3(kThreads), 0, stream, r, ws, size, stride);
    if (e == cudaSuccess) e = klaunch(sort_tile_kernel, tile_grid, dim3(kSortThreads), smem, stream, r, ws, size);
  }
  if (e == cudaSuccess)
    e = klaunch(write_kernel, dim3(mrcnn_cuda::ceil_div(r.k, kThreads), rows), dim3(kThreads), 0, stream, r, ws,
                values, indices);
  return mrcnn_cuda::status_from(e, "topk");
}

}  // namespace

MRCNN_API size_t MRCNN_CUDA_FN(topk_workspace_size)(int rows, int n, int k) {
  (void)n;
  if (rows <= 0 || k <= 0) return 0;
  return layout(rows, k).total;
}

MRCNN_API int MRCNN_CUDA_FN(topk)(const float* input, int rows, int n, int ld, int k, float* values,
                                  int64_t* indices, void* workspace, size_t workspace_bytes,
                                  void* stream) {
  int st = check_args(input, rows, n, ld, k, values, indices, workspace, workspace_bytes,
                      MRCNN_CUDA_FN(topk_workspace_size)(rows, n, k));
  if (st != MRCNN_OK || rows == 0 || k == 0) return st;
  const Layout l = layout(rows, k);
  char* w = (char*)workspace;
  const Ws ws{(State*)(w + l.states), (uint32_t*)(w + l.hist), (uint32_t*)(w + l.counts), (u64*)(w + l.sel),
              l.sel_len};
  const int tiles = (n + kTile - 1) / kTile;
  Rows r{input, n, ld, k, 0, (tiles + kMaxBlocks - 1) / kMaxBlocks};
  for (int row0 = 0; row0 < rows && st == MRCNN_OK; row0 += kMaxGridY) {
    r.row0 = row0;
    st = launch_rows(r, rows - row0 < kMaxGridY ? rows - row0 : kMaxGridY, ws, values, indices, (cudaStream_t)stream);
  }
  return st;
}
