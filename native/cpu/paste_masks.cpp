// Mask paste, CPU (mrcnn/paste_masks.h): torchvision's paste_masks_in_image into soft float
// and/or binary uint8 image-sized masks in one pass over the output.
//
// Work items are (mask, block of image rows): whole masks when there are enough of them for
// the threads, else each mask is split into row blocks. An item writes zeros to its rows
// outside the mask's clipped box (memset: the bulk of the output) and computes only the
// pixels inside it. The column taps are computed once per item for a chunk of at most
// kChunk columns into a stack buffer, so any image width works without heap memory; the row
// taps once per row. Small masks (all of Mask R-CNN's) are staged with their padding on the
// stack, and the two mask rows an image row blends are gathered once at the chunk's column
// taps and reused by the following image rows, so the pixel loop reads contiguously. Large
// outputs get their zeros through non-temporal stores. The per-element math is
// mrcnn/math/paste_masks.h, shared with CUDA.
//
// This file is compiled twice: as is (x86-64-v2 baseline, which also holds the entry point
// and the run-time ISA choice) and, included by paste_masks_avx512.cpp with
// MRCNN_PASTE_VARIANT defined, with -march=x86-64-v4 (16 pixels per step, float64 sums in
// 8-lane halves, 64-byte streaming stores).
#include <immintrin.h>
#include <omp.h>
#include <stdint.h>
#include <string.h>

#include "mrcnn/math/paste_masks.h"
#include "mrcnn/paste_masks.h"

#ifndef MRCNN_PASTE_VARIANT
#define MRCNN_PASTE_VARIANT baseline
#define MRCNN_PASTE_IS_BASELINE 1
#endif

namespace mrcnn_paste_cpu {

// Everything one call needs, shared read-only by the threads.
struct Job {
  const float* masks;
  const float* boxes;
  int k, mask_h, mask_w, padding, in_h, in_w, img_h, img_w;
  float expand_scale, threshold;
  float* soft;
  uint8_t* binary;
  bool stream;  // output larger than the caches: zeros go out with non-temporal stores
};

namespace MRCNN_PASTE_VARIANT {

using namespace mrcnn_paste;

// Columns whose taps are kept on the stack at once (16 bytes each).
constexpr int kChunk = 512;
// Padded masks up to this many floats (16 KiB, e.g. 64x64) are staged on the stack.
constexpr int kMaxPadded = 4096;

// Zeros n bytes. Large outputs are written with non-temporal stores: no read for ownership
// and no eviction of the caches for data that will not be read back soon.
void zero_bytes(void* p, size_t n, bool stream) {
  if (!stream || n < 256) {
    memset(p, 0, n);
    return;
  }
  char* c = (char*)p;
  const size_t head = (size_t)(-(uintptr_t)c) & 63;
  memset(c, 0, head);
  c += head;
  n -= head;
  const size_t body = n & ~(size_t)63;
#if defined(__AVX512F__)
  const __m512i z = _mm512_setzero_si512();
  for (size_t i = 0; i < body; i += 64) _mm512_stream_si512((__m512i*)(c + i), z);
#else
  const __m128i z = _mm_setzero_si128();
  for (size_t i = 0; i < body; i += 64) {
    _mm_stream_si128((__m128i*)(c + i), z);
    _mm_stream_si128((__m128i*)(c + i + 16), z);
    _mm_stream_si128((__m128i*)(c + i + 32), z);
    _mm_stream_si128((__m128i*)(c + i + 48), z);
  }
#endif
  memset(c + body, 0, n - body);
}

template <bool kSoft, bool kBinary>
void zero_span(const Job& j, int64_t at, int64_t count) {
  if (count <= 0) return;
  if (kSoft) zero_bytes(j.soft + at, (size_t)count * sizeof(float), j.stream);
  if (kBinary) zero_bytes(j.binary + at, (size_t)count, j.stream);
}

// One padded-mask row sampled at a chunk's column taps: lo[i] = row[tx_i0[i]], hi[i] = row[tx_i1[i]].
struct Line {
  int row;
  alignas(64) float lo[kChunk];
  alignas(64) float hi[kChunk];
};

// Index of the line holding padded row r, filling the slot other than `keep` if neither does.
inline int line_for(Line* lines, int r, int keep, const float* padded, int in_w, const int* tx_i0,
                    const int* tx_i1, int n) {
  if (lines[0].row == r) return 0;
  if (lines[1].row == r) return 1;
  const int s = keep == 0 ? 1 : keep == 1 ? 0 : (lines[0].row == -1 ? 0 : 1);
  const float* __restrict__ p = padded + r * in_w;
  float* __restrict__ lo = lines[s].lo;
  float* __restrict__ hi = lines[s].hi;
  for (int i = 0; i < n; ++i) {
    lo[i] = p[tx_i0[i]];
    hi[i] = p[tx_i1[i]];
  }
  lines[s].row = r;
  return s;
}

// Rows [row_begin, row_end) of mask m.
template <bool kSoft, bool kBinary>
void paste_rows(const Job& j, int m, int64_t row_begin, int64_t row_end) {
  const int64_t W = j.img_w;
  const int64_t plane = (int64_t)m * j.img_h * W;
  const PasteBox b = paste_box(j.boxes + 4 * (int64_t)m, j.expand_scale, j.in_h, j.in_w, j.img_h, j.img_w);
  const int64_t y_lo = b.cy0 > row_begin ? b.cy0 : row_begin;
  const int64_t y_hi = b.cy1 < row_end ? b.cy1 : row_end;
  if (y_lo >= y_hi || b.cx1 == b.cx0) {  // nothing of the box in these rows
    zero_span<kSoft, kBinary>(j, plane + row_begin * W, (row_end - row_begin) * W);
    return;
  }
  // Rows above the box, and each box row's left part up to the next row's box start, and the
  // rows below: contiguous spans of the plane.
  zero_span<kSoft, kBinary>(j, plane + row_begin * W, (y_lo - row_begin) * W + b.cx0);
  for (int64_t y = y_lo; y < y_hi; ++y) {
    const int64_t next = y + 1 < y_hi ? (y + 1) * W + b.cx0 : row_end * W;
    zero_span<kSoft, kBinary>(j, plane + y * W + b.cx1, next - (y * W + b.cx1));
  }

  const float* mask = j.masks + (int64_t)m * j.mask_h * j.mask_w;
  // Small masks (all of Mask R-CNN's) are copied with their zero padding to the stack, so
  // the pixel loop reads without bounds checks and vectorises; larger ones are read with
  // the checks of paste_mask_at.
  alignas(64) float padded[kMaxPadded];
  const bool small = (int64_t)j.in_h * j.in_w <= kMaxPadded;
  if (small)
    for (int r = 0; r < j.in_h; ++r)
      for (int c = 0; c < j.in_w; ++c)
        padded[r * j.in_w + c] = paste_mask_at(mask, j.mask_h, j.mask_w, j.padding, r, c);
  alignas(64) int tx_i0[kChunk];
  alignas(64) int tx_i1[kChunk];
  alignas(64) float tx_l0[kChunk];
  alignas(64) float tx_l1[kChunk];
  Line lines[2];
  for (int64_t c0 = b.cx0; c0 < b.cx1; c0 += kChunk) {
    const int n = (int)(b.cx1 - c0 < kChunk ? b.cx1 - c0 : kChunk);
    lines[0].row = lines[1].row = -1;
    for (int i = 0; i < n; ++i) {
      const PasteTap t = paste_tap(j.in_w, b.w, b.scale_x, c0 + i - b.x0);
      tx_i0[i] = t.i0;
      tx_i1[i] = t.i1;
      tx_l0[i] = t.l0;
      tx_l1[i] = t.l1;
    }
    for (int64_t y = y_lo; y < y_hi; ++y) {
      const PasteTap ty = paste_tap(j.in_h, b.h, b.scale_y, y - b.y0);
      const int64_t at = plane + y * W + c0;
      float* __restrict__ soft = kSoft ? j.soft + at : nullptr;
      uint8_t* __restrict__ bin = kBinary ? j.binary + at : nullptr;
      if (small) {
        // The two padded-mask rows this image row blends, gathered at the chunk's column taps
        // (consecutive image rows mostly reuse them, so the pixel loop reads contiguously).
        const int a = line_for(lines, ty.i0, -1, padded, j.in_w, tx_i0, tx_i1, n);
        const int c = line_for(lines, ty.i1, a, padded, j.in_w, tx_i0, tx_i1, n);
        const float* __restrict__ v00 = lines[a].lo;
        const float* __restrict__ v01 = lines[a].hi;
        const float* __restrict__ v10 = lines[c].lo;
        const float* __restrict__ v11 = lines[c].hi;
        for (int i = 0; i < n; ++i) {
          const PasteTap tx = {tx_i0[i], tx_i1[i], tx_l0[i], tx_l1[i]};
          const float v = paste_combine(v00[i], v01[i], v10[i], v11[i], ty, tx);
          if (kSoft) soft[i] = v;
          if (kBinary) bin[i] = paste_binary(v, j.threshold);
        }
      } else {
        for (int i = 0; i < n; ++i) {
          const PasteTap tx = {tx_i0[i], tx_i1[i], tx_l0[i], tx_l1[i]};
          const float v = paste_pixel(mask, j.mask_h, j.mask_w, j.padding, ty, tx);
          if (kSoft) soft[i] = v;
          if (kBinary) bin[i] = paste_binary(v, j.threshold);
        }
      }
    }
  }
}

template <bool kSoft, bool kBinary>
void run_typed(const Job& j) {
  // Whole masks per item when there are enough of them, else row blocks of each mask.
  const int threads = omp_get_max_threads();
  int64_t parts = 1;
  if (j.k < 2 * threads) {
    parts = (4 * (int64_t)threads + j.k - 1) / j.k;
    if (parts > j.img_h) parts = j.img_h;
  }
  const int64_t items = (int64_t)j.k * parts;
  const int64_t H = j.img_h;
#pragma omp parallel for schedule(dynamic, 1) if (items > 1)
  for (int64_t it = 0; it < items; ++it) {
    const int m = (int)(it / parts);
    const int64_t p = it % parts;
    paste_rows<kSoft, kBinary>(j, m, H * p / parts, H * (p + 1) / parts);
    if (j.stream) _mm_sfence();  // order the non-temporal stores before the caller reads
  }
}

void run(const Job& j) {
  if (j.soft && j.binary) run_typed<true, true>(j);
  else if (j.soft) run_typed<true, false>(j);
  else run_typed<false, true>(j);
}

}  // namespace MRCNN_PASTE_VARIANT

#if defined(MRCNN_PASTE_IS_BASELINE)
namespace avx512 { void run(const Job& j); }
#endif

}  // namespace mrcnn_paste_cpu

#if defined(MRCNN_PASTE_IS_BASELINE)
namespace {
// Outputs of at least this size (bigger than the caches of a few cores) are zero-filled with
// non-temporal stores.
constexpr int64_t kStreamBytes = 16ll << 20;

bool cpu_has_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  return yes;
}
}  // namespace

extern "C" int mrcnn_cpu_paste_masks_best_isa(void) {
  return cpu_has_avx512() ? MRCNN_PASTE_ISA_AVX512 : MRCNN_PASTE_ISA_BASELINE;
}

extern "C" int mrcnn_cpu_paste_masks_with_isa(int isa, const float* masks, int k, int mask_h,
                                              int mask_w, const float* boxes, int img_h, int img_w,
                                              int padding, float threshold, float* soft_out,
                                              uint8_t* binary_out) {
  if (isa != MRCNN_PASTE_ISA_BASELINE && isa != MRCNN_PASTE_ISA_AVX512)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "paste_masks: unknown ISA %d", isa);
  if (isa == MRCNN_PASTE_ISA_AVX512 && !cpu_has_avx512())
    return mrcnn_fail(MRCNN_ERR_UNSUPPORTED, "paste_masks: no AVX-512 on this CPU");
  bool nothing = true;
  const int st = mrcnn_paste::paste_validate(masks, k, mask_h, mask_w, boxes, img_h, img_w, padding,
                                             threshold, soft_out, binary_out, &nothing);
  if (st != MRCNN_OK || nothing) return st;

  mrcnn_paste_cpu::Job j;
  j.masks = masks;
  j.boxes = boxes;
  j.k = k;
  j.mask_h = mask_h;
  j.mask_w = mask_w;
  j.padding = padding;
  j.in_h = mask_h + 2 * padding;
  j.in_w = mask_w + 2 * padding;
  j.img_h = img_h;
  j.img_w = img_w;
  j.expand_scale = mrcnn_paste::paste_expand_scale(mask_w, padding);
  j.threshold = threshold;
  j.soft = soft_out;
  j.binary = binary_out;
  const int64_t out_bytes = (int64_t)k * img_h * img_w * ((soft_out ? 4 : 0) + (binary_out ? 1 : 0));
  j.stream = out_bytes >= kStreamBytes;
  if (isa == MRCNN_PASTE_ISA_AVX512) mrcnn_paste_cpu::avx512::run(j);
  else mrcnn_paste_cpu::baseline::run(j);
  return MRCNN_OK;
}

MRCNN_API int mrcnn_cpu_paste_masks(const float* masks, int k, int mask_h, int mask_w,
                                    const float* boxes, int img_h, int img_w, int padding,
                                    float threshold, float* soft_out, uint8_t* binary_out,
                                    void* stream) {
  (void)stream;
  return mrcnn_cpu_paste_masks_with_isa(mrcnn_cpu_paste_masks_best_isa(), masks, k, mask_h, mask_w,
                                        boxes, img_h, img_w, padding, threshold, soft_out, binary_out);
}
#endif
