/* NMS math, written once for the CPU loops (native/cpu/nms.cpp, nms_avx512.cpp) and the
 * CUDA kernels (cuda/nms.cu): box area, IoU, the rank key of a score, batched_nms's class
 * offset and the Soft-NMS decay.
 *
 * Bit-level notes (why the code looks the way it does):
 * - torchvision 0.14's CPU kernel (the oracle) computes, in float32 and without FMA
 *   (its shipped binary has no fused multiply-add):
 *       area = (x2 - x1) * (y2 - y1)
 *       w = max(0, min(ax2, bx2) - max(ax1, bx1)), h likewise, inter = w * h
 *       iou = inter / (area_a + area_b - inter)
 *   and suppresses when iou > threshold. Every expression here keeps that order, and
 *   products that feed an add go through mul_rn(), which no compiler can contract into
 *   an FMA (nvcc and g++ -march=x86-64-v3/v4 would otherwise do it), so the CPU scalar,
 *   CPU AVX-512 and CUDA paths return the same bits.
 * - The IoU functions are templates: T = float everywhere, T = __m512 (a GCC vector of 16
 *   floats) in the AVX-512 CPU loop. max/min are written as torchvision's std::max/min
 *   (`a < b ? b : a`), which also maps NaN widths to 0 exactly as its binary does.
 * - Zero-area boxes: two of them give 0/0 = NaN, and NaN > t is false, so a zero-area box
 *   never suppresses and is never suppressed (for t >= 0), as in torchvision. */
#pragma once
#include <math.h>
#include <stdint.h>
#include "mrcnn/hd.h"

namespace mrcnn {
namespace nms_math {

// a*b rounded to the element type, never fused with a following add/sub.
#if defined(__CUDA_ARCH__)
MRCNN_HD float mul_rn(float a, float b) { return __fmul_rn(a, b); }
#else
template <class T>
MRCNN_HD T mul_rn(T a, T b) {
  T p = a * b;
#if defined(__x86_64__) || defined(__i386__)
  __asm__("" : "+v"(p));  // opaque: the product is materialised before any add
#else
  __asm__("" : "+r"(p));
#endif
  return p;
}
#endif

// std::max / std::min as torchvision's C++ calls them (first argument on ties/NaN).
template <class T> MRCNN_HD T max_tv(T a, T b) { return a < b ? b : a; }
template <class T> MRCNN_HD T min_tv(T a, T b) { return b < a ? b : a; }

template <class T>
MRCNN_HD T box_area(T x1, T y1, T x2, T y2) { return mul_rn(x2 - x1, y2 - y1); }

// IoU of boxes a and b given their areas (box_area); symmetric in a and b, bit for bit.
template <class T>
MRCNN_HD T iou(T ax1, T ay1, T ax2, T ay2, T area_a, T bx1, T by1, T bx2, T by2, T area_b) {
  const T zero = T{};
  T w = max_tv(zero, min_tv(ax2, bx2) - max_tv(ax1, bx1));
  T h = max_tv(zero, min_tv(ay2, by2) - max_tv(ay1, by1));
  T inter = mul_rn(w, h);
  return inter / (area_a + area_b - inter);
}

// --- ranking -------------------------------------------------------------------------
MRCNN_HD uint32_t float_bits(float f) {
#if defined(__CUDA_ARCH__)
  return __float_as_uint(f);
#else
  uint32_t u;
  __builtin_memcpy(&u, &f, sizeof u);
  return u;
#endif
}
MRCNN_HD float bits_float(uint32_t u) {
#if defined(__CUDA_ARCH__)
  return __uint_as_float(u);
#else
  float f;
  __builtin_memcpy(&f, &u, sizeof f);
  return f;
#endif
}

// Unsigned key whose ascending order is the score's descending order (-0 == +0, as the
// comparison sort of torchvision treats them). Rank order = (key, index) ascending, i.e.
// score descending with ties broken by the lower index. NaN scores are refused by the
// CPU backend and by Java; a NaN sorts as the largest (positive NaN) or smallest value.
MRCNN_HD uint32_t score_rank_key(float s) {
  uint32_t u = float_bits(s == 0.0f ? 0.0f : s);
  uint32_t ascending = (u & 0x80000000u) ? ~u : (u | 0x80000000u);
  return ~ascending;
}
// Sort key of one box: rank key above, original index below; unique per box.
MRCNN_HD uint64_t rank_key64(float s, uint32_t index) {
  return ((uint64_t)score_rank_key(s) << 32) | index;
}

// --- batched_nms ---------------------------------------------------------------------
// torchvision's batched_nms has two implementations and picks one by size (CPU rule):
// boxes.numel() <= 4000, i.e. n <= 1000: the coordinate trick (shift every box by
// idx * (max_coordinate + 1), then plain NMS over all boxes); n > 1000: NMS per class.
// The shifted coordinates round differently from the originals, so results may differ
// between the two in the last bit of an IoU: we reproduce whichever torchvision runs.
enum { kBatchedTrickMaxBoxes = 1000 };

// Offset of a box of class idx: idxs.to(float) * (max_coordinate + 1), in float32.
MRCNN_HD float class_offset(int64_t idx, float max_coordinate) {
  return mul_rn((float)idx, max_coordinate + 1.0f);
}

// --- Soft-NMS (Bodla et al. 2017), see mrcnn/nms.h for the algorithm -----------------
enum { kSoftLinear = 1, kSoftGaussian = 2 };

// exp(x) for x <= 0 with about 2 ulp error (0 below -87.3), the same bits on every backend
// (libm's expf and CUDA's expf differ in the last bits): Cody-Waite reduction
// x = k ln2 + r, |r| <= ln2/2, a degree-7 Taylor polynomial in Horner form, then 2^k.
MRCNN_HD float exp_nonpositive(float x) {
  if (!(x > -87.3f)) return x <= 0.0f ? 0.0f : 1.0f;  // also maps NaN to 1 (no decay)
  if (x >= 0.0f) return 1.0f;
  const float kf = rintf(mul_rn(x, 1.44269504088896341f));
  float r = x - mul_rn(kf, 0.693145751953125f);  // ln2 high part (exact product)
  r = r - mul_rn(kf, 1.42860682030941723e-6f);   // ln2 low part
  float p = 1.98412698e-4f;          // 1/7!
  p = mul_rn(p, r) + 1.38888889e-3f;  // 1/6!
  p = mul_rn(p, r) + 8.33333333e-3f;  // 1/5!
  p = mul_rn(p, r) + 4.16666667e-2f;  // 1/4!
  p = mul_rn(p, r) + 1.66666667e-1f;  // 1/3!
  p = mul_rn(p, r) + 0.5f;
  p = mul_rn(p, r) + 1.0f;
  p = mul_rn(p, r) + 1.0f;
  const int k = (int)kf;                          // in [-126, 0]
  return mul_rn(p, bits_float((uint32_t)(k + 127) << 23));
}

// Decay factor of a box whose IoU with the box just selected is o. A NaN IoU (two
// zero-area boxes) counts as 0, i.e. no overlap.
MRCNN_HD float soft_weight(int method, float o, float iou_threshold, float sigma) {
  o = o > 0.0f ? o : 0.0f;
  if (method == kSoftLinear) return o > iou_threshold ? 1.0f - o : 1.0f;
  return exp_nonpositive(-(mul_rn(o, o) / sigma));
}

// Rank of a (score, index) candidate in Soft-NMS's selection: higher score first, then
// lower index. True when (sa, ia) is selected before (sb, ib).
MRCNN_HD bool soft_before(float sa, int ia, float sb, int ib) {
  return sa > sb || (sa == sb && ia < ib);
}

}  // namespace nms_math
}  // namespace mrcnn

// ---- CPU internals (native/cpu/nms.cpp, nms_avx512.cpp; tested by native/tests/nms_test.cpp)
namespace mrcnn_nms_cpu {
// Candidates in rank order, structure of arrays; every array has room for 16 extra elements
// past the last candidate.
struct Candidates {
  float* x1;
  float* y1;
  float* x2;
  float* y2;
  float* area;
  int32_t* id;
};
// Greedy NMS over candidates [0, m): writes the kept ids to out, returns their number; the
// candidate arrays are scratch (compacted in place). Scalar (nms.cpp) and AVX-512
// (nms_avx512.cpp, only on CPUs that have it) give the same result.
int greedy_scalar(const Candidates& c, int m, float iou_threshold, int max_keep, int64_t* out);
int greedy_avx512(const Candidates& c, int m, float iou_threshold, int max_keep, int64_t* out);
}  // namespace mrcnn_nms_cpu
