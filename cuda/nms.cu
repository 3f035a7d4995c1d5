// CUDA NMS, batched NMS and Soft-NMS (semantics in mrcnn/nms.h, math in mrcnn/math/nms.h).
//
// Hard NMS, all on the stream, no host synchronisation:
//  1. rank keys: (score rank key << 32 | index), padded to a power of two >= kSortTile
//     with ~0 (sorts last); unique per box, so any correct sort is the stable one.
//  2. bitonic sort: each 1024-key tile sorted in shared memory; merges of longer runs do
//     their strides >= the tile in global memory (one launch per stride) and the rest in
//     shared memory (one launch per merge size).
//  3. gather: boxes in rank order (float4), their original index, their class for
//     class-aware batched NMS, or the torchvision class offset for small batched NMS.
//  4. IoU bitmask, torchvision's CUDA design: block (row, col) of 64x64 boxes, col <= row
//     skipped; the column tile (boxes and areas) sits in shared memory and each thread
//     writes one uint64 of "row box suppresses column box j" bits.
//  5. one block walks the masks: warp 0 resolves the next 64 ranks from the diagonal word
//     (register-held, broadcast by shuffles) and the removed bits, writes the kept ids,
//     then all warps OR the kept rows' words into the removed bits of the later blocks
//     (shared memory). Stops at max_keep; writes keep[] and *num_kept on the device.
// Batched NMS follows torchvision's CPU rule: n <= 1000 uses the coordinate trick (max
// coordinate by a one-block reduction), larger n suppresses only within a class (the mask
// kernel compares classes), which equals per-class NMS merged by score.
// Soft-NMS is sequential by nature: one block keeps the current scores in the workspace;
// each round a block argmax (warp shuffles, then warp 0) picks the next box and every
// thread decays its strided share of the rest.
#include "common.cuh"
#include "mrcnn/math/nms.h"
#include "mrcnn/nms.h"

using mrcnn_cuda::status_from;

namespace {
namespace nm = mrcnn::nms_math;
typedef unsigned long long u64;

constexpr int kMaskBits = 64;            // boxes per mask word = threads of the mask kernel
constexpr int kSortTile = 1024;          // keys per shared-memory bitonic tile
constexpr int kSortThreads = kSortTile / 2;
constexpr int kWalkThreads = 256;        // mask walk (one block)
constexpr int kSoftThreads = 512;        // Soft-NMS (one block)
constexpr int kReduceThreads = 256;      // max coordinate (one block)
constexpr int kMaxDynamicSmem = 48 * 1024;
constexpr u64 kPadKey = ~0ull;

// ---- small helpers -------------------------------------------------------------------
__device__ __forceinline__ int popc64(u64 x) { return __popcll(x); }
__device__ __forceinline__ int lowest_bit(u64 x) { return __ffsll((long long)x) - 1; }  // x != 0

// ---- 1-2. ranking ---------------------------------------------------------------------
__global__ void make_keys_kernel(const float* __restrict__ scores, int n, int npad, u64* __restrict__ keys) {
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < npad; i += gridDim.x * blockDim.x)
    keys[i] = i < n ? nm::rank_key64(scores[i], (uint32_t)i) : kPadKey;
}

// Compare-exchange of the pair (i, i + j) of a bitonic network stage for runs of size k.
__device__ __forceinline__ void bitonic_pair(u64* s, int i, int l, bool ascending) {
  const u64 a = s[i], b = s[l];
  if ((a > b) == ascending) { s[i] = b; s[l] = a; }
}
// Index of the lower element of pair t for stride j (j a power of two).
__device__ __forceinline__ int pair_low(int t, int j) { return 2 * t - (t & (j - 1)); }

// Sorts each tile completely (all stages k <= kSortTile), directions as in the full network.
__global__ void __launch_bounds__(kSortThreads) bitonic_tile_sort_kernel(u64* __restrict__ keys) {
  __shared__ u64 s[kSortTile];
  const int t = threadIdx.x;
  const int base = blockIdx.x * kSortTile;
  s[t] = keys[base + t];
  s[t + kSortThreads] = keys[base + t + kSortThreads];
  for (int k = 2; k <= kSortTile; k <<= 1) {
    for (int j = k >> 1; j > 0; j >>= 1) {
      __syncthreads();
      const int i = pair_low(t, j);
      bitonic_pair(s, i, i + j, ((base + i) & k) == 0);
    }
  }
  __syncthreads();
  keys[base + t] = s[t];
  keys[base + t + kSortThreads] = s[t + kSortThreads];
}

// One stage (k, j) with j >= kSortTile, in global memory: one thread per pair.
__global__ void bitonic_global_step_kernel(u64* __restrict__ keys, int npad, int k, int j) {
  const int pairs = npad / 2;
  for (int t = blockIdx.x * blockDim.x + threadIdx.x; t < pairs; t += gridDim.x * blockDim.x) {
    const int i = pair_low(t, j);
    bitonic_pair(keys, i, i + j, (i & k) == 0);
  }
}

// The stages j < kSortTile of merge size k > kSortTile, in shared memory.
__global__ void __launch_bounds__(kSortThreads) bitonic_tile_merge_kernel(u64* __restrict__ keys, int k) {
  __shared__ u64 s[kSortTile];
  const int t = threadIdx.x;
  const int base = blockIdx.x * kSortTile;
  s[t] = keys[base + t];
  s[t + kSortThreads] = keys[base + t + kSortThreads];
  const bool ascending = (base & k) == 0;  // the same for the whole tile (k > kSortTile)
  for (int j = kSortTile >> 1; j > 0; j >>= 1) {
    __syncthreads();
    const int i = pair_low(t, j);
    bitonic_pair(s, i, i + j, ascending);
  }
  __syncthreads();
  keys[base + t] = s[t];
  keys[base + t + kSortThreads] = s[t + kSortThreads];
}

// ---- 3. gather ------------------------------------------------------------------------
// max over all 4n coordinates, torchvision's boxes.max() (one block).
__global__ void __launch_bounds__(kReduceThreads) max_coordinate_kernel(const float* __restrict__ boxes, int n,
                                                                        float* __restrict__ out) {
  __shared__ float warp_max[kReduceThreads / 32];
  const int total = 4 * n;
  float m = boxes[0];
  for (int k = threadIdx.x; k < total; k += blockDim.x) m = nm::max_tv(m, boxes[k]);
  for (int d = 16; d > 0; d >>= 1) m = nm::max_tv(m, __shfl_xor_sync(0xffffffffu, m, d));
  if ((threadIdx.x & 31) == 0) warp_max[threadIdx.x >> 5] = m;
  __syncthreads();
  if (threadIdx.x < 32) {
    m = threadIdx.x < kReduceThreads / 32 ? warp_max[threadIdx.x] : warp_max[0];
    for (int d = 16; d > 0; d >>= 1) m = nm::max_tv(m, __shfl_xor_sync(0xffffffffu, m, d));
    if (threadIdx.x == 0) *out = m;
  }
}

// Rank r <- box of key r. idxs + max_coord: shift by class (coordinate trick); cls_out:
// classes for the class-aware mask.
__global__ void gather_kernel(const float* __restrict__ boxes, const int64_t* __restrict__ idxs, int n,
                              const u64* __restrict__ keys, const float* __restrict__ max_coord,
                              float4* __restrict__ sorted_boxes, int* __restrict__ sorted_id,
                              int64_t* __restrict__ sorted_cls) {
  for (int r = blockIdx.x * blockDim.x + threadIdx.x; r < n; r += gridDim.x * blockDim.x) {
    const int i = (int)(uint32_t)keys[r];
    float x1 = boxes[4 * (size_t)i], y1 = boxes[4 * (size_t)i + 1];
    float x2 = boxes[4 * (size_t)i + 2], y2 = boxes[4 * (size_t)i + 3];
    if (max_coord) {
      const float off = nm::class_offset(idxs[i], *max_coord);
      x1 = x1 + off; y1 = y1 + off; x2 = x2 + off; y2 = y2 + off;
    }
    sorted_boxes[r] = make_float4(x1, y1, x2, y2);
    sorted_id[r] = i;
    if (sorted_cls) sorted_cls[r] = idxs[i];
  }
}

// ---- 4. IoU bitmask -------------------------------------------------------------------
// Block (col, row) = blockIdx (x, y): bit j of mask[(row*64 + t) * col_blocks + col] says
// whether rank row*64+t suppresses rank col*64+j (only j after t on the diagonal).
__global__ void __launch_bounds__(kMaskBits) iou_mask_kernel(int n, float iou_threshold,
                                                             const float4* __restrict__ sorted_boxes,
                                                             const int64_t* __restrict__ sorted_cls,
                                                             u64* __restrict__ mask, int col_blocks) {
  const int row = blockIdx.y, col = blockIdx.x;
  if (row > col) return;  // the whole block: before any barrier
  __shared__ float4 tile[kMaskBits];
  __shared__ float tile_area[kMaskBits];
  __shared__ long long tile_cls[kMaskBits];
  const int t = threadIdx.x;
  const int col_size = min(n - col * kMaskBits, kMaskBits);
  if (t < col_size) {
    const float4 b = sorted_boxes[col * kMaskBits + t];
    tile[t] = b;
    tile_area[t] = nm::box_area(b.x, b.y, b.z, b.w);
    tile_cls[t] = sorted_cls ? (long long)sorted_cls[col * kMaskBits + t] : 0;
  }
  __syncthreads();
  const int r = row * kMaskBits + t;
  if (r >= n) return;
  const float4 a = sorted_boxes[r];
  const float area_a = nm::box_area(a.x, a.y, a.z, a.w);
  const long long cls_a = sorted_cls ? (long long)sorted_cls[r] : 0;
  u64 bits = 0;
  for (int j = row == col ? t + 1 : 0; j < col_size; ++j) {
    const float4 b = tile[j];
    const float o = nm::iou(a.x, a.y, a.z, a.w, area_a, b.x, b.y, b.z, b.w, tile_area[j]);
    if (o > iou_threshold && tile_cls[j] == cls_a) bits |= 1ull << j;
  }
  mask[(size_t)r * col_blocks + col] = bits;
}

// ---- 5. walk the masks (one block) ------------------------------------------------------
__global__ void __launch_bounds__(kWalkThreads, 1) walk_mask_kernel(int n, int col_blocks, const u64* __restrict__ mask,
                                                                 const int* __restrict__ sorted_id, int max_keep,
                                                                 int64_t* __restrict__ keep, int* __restrict__ num_kept) {
  KL_EXTERN_SHARED(u64, removed);  // [col_blocks]: ranks suppressed by a kept box so far
  __shared__ u64 s_kept_bits;
  __shared__ int s_count;
  __shared__ int s_done;
  const int tid = threadIdx.x, lane = tid & 31;
  for (int c = tid; c < col_blocks; c += blockDim.x) removed[c] = 0;
  if (tid == 0) { s_count = 0; s_done = 0; }
  __syncthreads();
  for (int b = 0; b < col_blocks; ++b) {
    const int base = b * kMaskBits;
    if (tid < 32) {
      // Resolve ranks base..base+63 in order: lane l holds the diagonal words of rows l
      // and l+32; every lane runs the same sequence on the same (broadcast) values.
      const int rows = min(n - base, kMaskBits);
      const u64 d0 = lane < rows ? mask[(size_t)(base + lane) * col_blocks + b] : 0;
      const u64 d1 = lane + 32 < rows ? mask[(size_t)(base + lane + 32) * col_blocks + b] : 0;
      const int count = s_count;
      const int budget = max_keep > 0 ? max_keep - count : kMaskBits;
      const u64 valid = rows == kMaskBits ? ~0ull : (1ull << rows) - 1;
      u64 rem = removed[b];
      u64 kept = 0;
      u64 open = valid & ~rem;
      int nk = 0;
      while (open != 0 && nk < budget) {
        const int i = lowest_bit(open);
        const u64 word = __shfl_sync(0xffffffffu, i < 32 ? d0 : d1, i & 31);
        kept |= 1ull << i;
        ++nk;
        rem |= word;
        open = valid & ~rem & (i == 63 ? 0ull : ~0ull << (i + 1));
      }
      if (kept >> lane & 1) keep[count + popc64(kept & ((1ull << lane) - 1))] = sorted_id[base + lane];
      if (kept >> (lane + 32) & 1)
        keep[count + popc64(kept & ((1ull << (lane + 32)) - 1))] = sorted_id[base + lane + 32];
      __syncwarp();  // every lane has read s_count before lane 0 updates it
      if (lane == 0) {
        s_kept_bits = kept;
        s_count = count + nk;
        s_done = max_keep > 0 && count + nk >= max_keep;
      }
    }
    __syncthreads();
    if (s_done) break;
    const u64 kept = s_kept_bits;
    if (kept != 0) {
      for (int c = b + 1 + tid; c < col_blocks; c += blockDim.x) {
        u64 acc = 0;
        for (u64 bits = kept; bits != 0; bits &= bits - 1)
          acc |= mask[(size_t)(base + lowest_bit(bits)) * col_blocks + c];
        removed[c] |= acc;
      }
    }
    __syncthreads();
  }
  if (tid == 0) *num_kept = s_count;
}

// ---- Soft-NMS (one block) -----------------------------------------------------------------
struct Best {
  float score;
  int index;  // -1: none
};
__device__ __forceinline__ Best better(Best a, Best b) {
  if (b.index < 0) return a;
  if (a.index < 0) return b;
  return nm::soft_before(b.score, b.index, a.score, a.index) ? b : a;
}
__device__ __forceinline__ Best warp_best(Best v) {
  for (int d = 16; d > 0; d >>= 1) {
    Best o;
    o.score = __shfl_xor_sync(0xffffffffu, v.score, d);
    o.index = __shfl_xor_sync(0xffffffffu, v.index, d);
    v = better(v, o);
  }
  return v;
}

// cur[i]: current score of box i, NaN once it is selected or dropped. Thread t owns the
// boxes t, t + blockDim, ... and is the only one to touch their cur[].
__global__ void __launch_bounds__(kSoftThreads) soft_nms_kernel(const float* __restrict__ boxes,
                                                                const float* __restrict__ scores, int n, int method,
                                                                float iou_threshold, float sigma, float score_threshold,
                                                                int max_keep, float* __restrict__ cur,
                                                                int64_t* __restrict__ keep, float* __restrict__ out_scores,
                                                                int* __restrict__ num_kept) {
  __shared__ float s_warp_score[kSoftThreads / 32];
  __shared__ int s_warp_index[kSoftThreads / 32];
  __shared__ int s_sel;
  const int tid = threadIdx.x, lane = tid & 31, warp = tid >> 5, warps = blockDim.x >> 5;
  Best mine{0.0f, -1};
  for (int i = tid; i < n; i += blockDim.x) {
    const float s = scores[i];
    const bool live = s >= score_threshold;  // false for NaN too
    cur[i] = live ? s : NAN;
    if (live) mine = better(mine, Best{s, i});
  }
  int kept = 0;
  for (;;) {
    Best w = warp_best(mine);
    if (lane == 0) { s_warp_score[warp] = w.score; s_warp_index[warp] = w.index; }
    __syncthreads();
    if (warp == 0) {
      Best v{0.0f, -1};
      if (lane < warps) v = Best{s_warp_score[lane], s_warp_index[lane]};
      v = warp_best(v);
      if (lane == 0) {
        const bool stop = v.index < 0 || (max_keep > 0 && kept >= max_keep);
        s_sel = stop ? -1 : v.index;
        if (!stop) { keep[kept] = v.index; out_scores[kept] = v.score; }
      }
    }
    __syncthreads();
    const int sel = s_sel;
    if (sel < 0) break;
    ++kept;
    const float* sb = boxes + 4 * (size_t)sel;
    const float sx1 = sb[0], sy1 = sb[1], sx2 = sb[2], sy2 = sb[3];
    const float sa = nm::box_area(sx1, sy1, sx2, sy2);
    mine = Best{0.0f, -1};
    for (int i = tid; i < n; i += blockDim.x) {
      float s = cur[i];
      if (s != s) continue;  // gone
      if (i == sel) { cur[i] = NAN; continue; }
      const float* b = boxes + 4 * (size_t)i;
      const float o = nm::iou(sx1, sy1, sx2, sy2, sa, b[0], b[1], b[2], b[3], nm::box_area(b[0], b[1], b[2], b[3]));
      s = s * nm::soft_weight(method, o, iou_threshold, sigma);
      if (s < score_threshold) { cur[i] = NAN; continue; }
      cur[i] = s;
      mine = better(mine, Best{s, i});
    }
  }
  if (tid == 0) *num_kept = kept;
}

// ---- host side ------------------------------------------------------------------------------
size_t carve(size_t* at, size_t bytes) {
  size_t off = *at;
  *at = off + (bytes + 255) / 256 * 256;
  return off;
}
int next_pow2_at_least(int n, int lo) {
  int p = lo;
  while (p < n) p <<= 1;
  return p;
}
// Largest n whose sort padding, grid and walk-kernel shared memory fit.
constexpr int kMaxBoxes = (kMaxDynamicSmem / 8) * kMaskBits;  // 393216

struct HardLayout {
  size_t keys, boxes, id, cls, max_coord, mask, total;
  int npad, col_blocks;
};
HardLayout hard_layout(int n) {
  HardLayout l;
  size_t at = 0;
  const size_t nn = (size_t)(n > 0 ? n : 0);
  l.npad = next_pow2_at_least(n, kSortTile);
  l.col_blocks = mrcnn_cuda::ceil_div(nn, kMaskBits);
  l.keys = carve(&at, (size_t)l.npad * 8);
  l.boxes = carve(&at, nn * 16);
  l.id = carve(&at, nn * 4);
  l.cls = carve(&at, nn * 8);
  l.max_coord = carve(&at, 4);
  l.mask = carve(&at, nn * (size_t)l.col_blocks * 8);
  l.total = at + 256;  // + 256: the caller's pointer is aligned up
  return l;
}
size_t soft_size(int n) { return (size_t)(n > 0 ? n : 0) * 4 + 256; }

char* aligned_base(void* workspace) { return (char*)(((uintptr_t)workspace + 255) & ~(uintptr_t)255); }

int check_args(const char* op, const float* boxes, const float* scores, int n, const int64_t* keep,
               const int* num_kept, float iou_threshold, void* workspace, size_t bytes, size_t need) {
  if (!num_kept) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null num_kept", op);
  if (n < 0) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: n=%d < 0", op, n);
  if (n > kMaxBoxes)
    return mrcnn_fail(MRCNN_ERR_UNSUPPORTED, "%s: n=%d boxes, the CUDA kernels take at most %d", op, n, kMaxBoxes);
  if (n > 0 && (!boxes || !scores || !keep))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null boxes, scores or keep with n=%d", op, n);
  if (iou_threshold != iou_threshold) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: iou_threshold is NaN", op);
  if (bytes < need)
    return mrcnn_fail(MRCNN_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes, needs %zu for n=%d", op, bytes, need, n);
  if (n > 0 && !workspace) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null workspace", op);
  return MRCNN_OK;
}

// Launch and return the op's status on failure (klaunch reports launch errors itself).
#define NMS_LAUNCH(op, ...)                                   \
  do {                                                        \
    const cudaError_t e_ = klaunch(__VA_ARGS__);              \
    if (e_ != cudaSuccess) return status_from(e_, op);        \
  } while (0)

// mode 0: plain; 1: coordinate trick (idxs); 2: class-aware mask (idxs).
int run_hard(const char* op, const float* boxes, const float* scores, const int64_t* idxs, int n, int mode,
             float iou_threshold, int max_keep, int64_t* keep, int* num_kept, void* workspace, void* stream_ptr) {
  cudaStream_t stream = (cudaStream_t)stream_ptr;
  if (n == 0) return status_from(cudaMemsetAsync(num_kept, 0, sizeof(int), stream), op);
  const HardLayout l = hard_layout(n);
  char* base = aligned_base(workspace);
  u64* keys = (u64*)(base + l.keys);
  float4* sorted_boxes = (float4*)(base + l.boxes);
  int* sorted_id = (int*)(base + l.id);
  int64_t* sorted_cls = mode == 2 ? (int64_t*)(base + l.cls) : nullptr;
  float* max_coord = mode == 1 ? (float*)(base + l.max_coord) : nullptr;
  u64* mask = (u64*)(base + l.mask);

  NMS_LAUNCH(op, make_keys_kernel, mrcnn_cuda::grid_for(l.npad, 256), 256, 0, stream, scores, n, l.npad, keys);
  const int tiles = l.npad / kSortTile;
  NMS_LAUNCH(op, bitonic_tile_sort_kernel, tiles, kSortThreads, 0, stream, keys);
  for (int k = 2 * kSortTile; k <= l.npad; k <<= 1) {
    for (int j = k >> 1; j >= kSortTile; j >>= 1)
      NMS_LAUNCH(op, bitonic_global_step_kernel, mrcnn_cuda::grid_for(l.npad / 2, 256), 256, 0, stream, keys, l.npad,
                 k, j);
    NMS_LAUNCH(op, bitonic_tile_merge_kernel, tiles, kSortThreads, 0, stream, keys, k);
  }
  if (max_coord) NMS_LAUNCH(op, max_coordinate_kernel, 1, kReduceThreads, 0, stream, boxes, n, max_coord);
  NMS_LAUNCH(op, gather_kernel, mrcnn_cuda::grid_for(n, 256), 256, 0, stream, boxes, idxs, n, (const u64*)keys,
             (const float*)max_coord, sorted_boxes, sorted_id, sorted_cls);
  NMS_LAUNCH(op, iou_mask_kernel, dim3(l.col_blocks, l.col_blocks), kMaskBits, 0, stream, n, iou_threshold,
             (const float4*)sorted_boxes, (const int64_t*)sorted_cls, mask, l.col_blocks);
  NMS_LAUNCH(op, walk_mask_kernel, 1, kWalkThreads, (size_t)l.col_blocks * 8, stream, n, l.col_blocks,
             (const u64*)mask, (const int*)sorted_id, max_keep, keep, num_kept);
  return MRCNN_OK;
}

}  // namespace

MRCNN_API size_t MRCNN_CUDA_FN(nms_workspace_size)(int n) {
  const size_t hard = hard_layout(n).total, soft = soft_size(n);
  return hard > soft ? hard : soft;
}

MRCNN_API int MRCNN_CUDA_FN(nms)(const float* boxes, const float* scores, int n, float iou_threshold, int max_keep,
                                 int64_t* keep, int* num_kept, void* workspace, size_t workspace_bytes, void* stream) {
  int st = check_args("nms", boxes, scores, n, keep, num_kept, iou_threshold, workspace, workspace_bytes,
                      hard_layout(n).total);
  if (st) return st;
  return run_hard("nms", boxes, scores, nullptr, n, 0, iou_threshold, max_keep, keep, num_kept, workspace, stream);
}

MRCNN_API int MRCNN_CUDA_FN(batched_nms)(const float* boxes, const float* scores, const int64_t* idxs, int n,
                                         float iou_threshold, int max_keep, int64_t* keep, int* num_kept,
                                         void* workspace, size_t workspace_bytes, void* stream) {
  int st = check_args("batched_nms", boxes, scores, n, keep, num_kept, iou_threshold, workspace, workspace_bytes,
                      hard_layout(n).total);
  if (st) return st;
  if (n > 0 && !idxs) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "batched_nms: null idxs with n=%d", n);
  const int mode = n <= nm::kBatchedTrickMaxBoxes ? 1 : 2;
  return run_hard("batched_nms", boxes, scores, idxs, n, mode, iou_threshold, max_keep, keep, num_kept, workspace,
                  stream);
}

MRCNN_API int MRCNN_CUDA_FN(soft_nms)(const float* boxes, const float* scores, int n, int method, float iou_threshold,
                                      float sigma, float score_threshold, int max_keep, int64_t* keep,
                                      float* out_scores, int* num_kept, void* workspace, size_t workspace_bytes,
                                      void* stream_ptr) {
  int st = check_args("soft_nms", boxes, scores, n, keep, num_kept, iou_threshold, workspace, workspace_bytes,
                      soft_size(n));
  if (st) return st;
  if (method != nm::kSoftLinear && method != nm::kSoftGaussian)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "soft_nms: method=%d (1 = linear, 2 = gaussian)", method);
  if (method == nm::kSoftGaussian && !(sigma > 0.0f && sigma <= 3.402823466e38f))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "soft_nms: gaussian sigma=%g must be finite and > 0", sigma);
  if (score_threshold != score_threshold)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "soft_nms: score_threshold is NaN");
  if (n > 0 && !out_scores) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "soft_nms: null out_scores with n=%d", n);
  cudaStream_t stream = (cudaStream_t)stream_ptr;
  if (n == 0) return status_from(cudaMemsetAsync(num_kept, 0, sizeof(int), stream), "soft_nms");
  float* cur = (float*)aligned_base(workspace);
  NMS_LAUNCH("soft_nms", soft_nms_kernel, 1, kSoftThreads, 0, stream, boxes, scores, n, method, iou_threshold, sigma,
             score_threshold, max_keep, cur, keep, out_scores, num_kept);
  return MRCNN_OK;
}
