// AVX-512 greedy NMS (compiled with -march=x86-64-v4; nms.cpp calls it only when the CPU
// has AVX-512). Same result as greedy_scalar in nms.cpp, blocked for the cache:
//  1. the next 16 live candidates form a group; they are resolved among themselves in
//     rank order (a member is kept unless a kept member before it suppresses it);
//  2. one pass over the remaining live candidates tests each 16-lane row against every
//     kept member of the group (the row stays in registers), and closes the gaps left by
//     suppressed candidates with compress + masked stores.
// A candidate after the group is suppressed iff some kept member has IoU > threshold with
// it, whatever the members' order, so this equals one pass per kept box, with 1/16 of the
// memory traffic (one pass per kept box streams the candidate arrays from L2 each time and
// is bound by that). Rows start at multiples of 16 elements (64-byte aligned
// in the workspace; unaligned loads, so any base works); until a pass first suppresses something
// nothing moves, so it only reads. IoU is the shared mrcnn::nms_math::iou on __m512.
#include <immintrin.h>
#include <stdint.h>
#include "mrcnn/math/nms.h"

namespace mrcnn_nms_cpu {

int greedy_avx512(const Candidates& c, int m, float iou_threshold, int max_keep, int64_t* out) {
  namespace nm = mrcnn::nms_math;
  const __m512 thr = _mm512_set1_ps(iou_threshold);
  float kx1[16], ky1[16], kx2[16], ky2[16], ka[16];  // kept members of the current group
  int kept = 0;
  int s = 0;  // live candidates: [s, s + m), in rank order
  while (m > 0) {
    // 1. Resolve the group [s, s + g).
    const int g = m < 16 ? m : 16;
    const __mmask16 glive = g == 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << g) - 1);
    const __m512 gx1 = _mm512_maskz_loadu_ps(glive, c.x1 + s), gy1 = _mm512_maskz_loadu_ps(glive, c.y1 + s);
    const __m512 gx2 = _mm512_maskz_loadu_ps(glive, c.x2 + s), gy2 = _mm512_maskz_loadu_ps(glive, c.y2 + s);
    const __m512 ga = _mm512_maskz_loadu_ps(glive, c.area + s);
    int nk = 0;
    unsigned pending = glive;
    while (pending) {
      const int lane = __builtin_ctz(pending);
      const int at = s + lane;
      out[kept++] = c.id[at];
      if (max_keep > 0 && kept >= max_keep) return kept;
      kx1[nk] = c.x1[at]; ky1[nk] = c.y1[at]; kx2[nk] = c.x2[at]; ky2[nk] = c.y2[at]; ka[nk] = c.area[at];
      ++nk;
      pending &= pending - 1;
      if (!pending) break;
      const __m512 o = nm::iou(_mm512_set1_ps(c.x1[at]), _mm512_set1_ps(c.y1[at]), _mm512_set1_ps(c.x2[at]),
                               _mm512_set1_ps(c.y2[at]), _mm512_set1_ps(c.area[at]), gx1, gy1, gx2, gy2, ga);
      pending &= ~(unsigned)_mm512_mask_cmp_ps_mask((__mmask16)pending, o, thr, _CMP_GT_OQ);
    }
    // 2. Suppress and compact the rest [first, end) against the kept members.
    const int first = s + g, end = s + m;
    int w = first;
    bool moved = false;
    for (int r = first & ~15; r < end; r += 16) {
      unsigned lm = 0xFFFFu;
      if (r < first) lm &= 0xFFFFu << (first - r);
      if (end - r < 16) lm &= (1u << (end - r)) - 1;
      const __mmask16 live = (__mmask16)lm;
      const __m512 x1 = _mm512_maskz_loadu_ps(live, c.x1 + r), y1 = _mm512_maskz_loadu_ps(live, c.y1 + r);
      const __m512 x2 = _mm512_maskz_loadu_ps(live, c.x2 + r), y2 = _mm512_maskz_loadu_ps(live, c.y2 + r);
      const __m512 a = _mm512_maskz_loadu_ps(live, c.area + r);
      __mmask16 sup = 0;
      for (int k = 0; k < nk; ++k) {
        const __m512 o = nm::iou(_mm512_set1_ps(kx1[k]), _mm512_set1_ps(ky1[k]), _mm512_set1_ps(kx2[k]),
                                 _mm512_set1_ps(ky2[k]), _mm512_set1_ps(ka[k]), x1, y1, x2, y2, a);
        sup |= _mm512_mask_cmp_ps_mask(live, o, thr, _CMP_GT_OQ);
      }
      if (!moved && sup == 0) {  // no gap so far: the row stays where it is
        w += __builtin_popcount(lm);
        continue;
      }
      moved = true;
      // w <= the first live lane of this row: the stores only write slots already read.
      const __mmask16 survive = live & (__mmask16)~sup;
      const int cnt = __builtin_popcount((unsigned)survive);
      const __mmask16 out_lanes = (__mmask16)((1u << cnt) - 1);
      _mm512_mask_storeu_ps(c.x1 + w, out_lanes, _mm512_maskz_compress_ps(survive, x1));
      _mm512_mask_storeu_ps(c.y1 + w, out_lanes, _mm512_maskz_compress_ps(survive, y1));
      _mm512_mask_storeu_ps(c.x2 + w, out_lanes, _mm512_maskz_compress_ps(survive, x2));
      _mm512_mask_storeu_ps(c.y2 + w, out_lanes, _mm512_maskz_compress_ps(survive, y2));
      _mm512_mask_storeu_ps(c.area + w, out_lanes, _mm512_maskz_compress_ps(survive, a));
      const __m512i id = _mm512_maskz_loadu_epi32(live, c.id + r);
      _mm512_mask_storeu_epi32(c.id + w, out_lanes, _mm512_maskz_compress_epi32(survive, id));
      w += cnt;
    }
    m = w - first;
    s = first;
  }
  return kept;
}

}  // namespace mrcnn_nms_cpu
