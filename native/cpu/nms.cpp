// CPU NMS, batched NMS and Soft-NMS (semantics in mrcnn/nms.h, math in mrcnn/math/nms.h).
//
// nms: rank the boxes with a stable LSD radix sort of (score key, index), copy them in rank
// order into structure-of-arrays candidates (x1, y1, x2, y2, area, id) in the workspace,
// then greedy suppression by in-place compaction: the front candidate is kept, one pass
// over the remaining ones drops those whose IoU with it is > threshold and closes the
// gaps, so the next front is the next kept box. On CPUs with AVX-512 (nms_avx512.cpp) one
// pass serves up to 16 kept boxes and tests 16 candidates per step; scalar otherwise.
// batched_nms: n <= 1000 shifts the boxes by class as torchvision does, then nms; larger n
// groups the ranked boxes by class, runs nms per class and merges the kept ones by rank.
// soft_nms: the live boxes in index order; one pass per selected box decays the others,
// drops those below the score threshold, compacts the rest and finds the next maximum.
// Everything runs on the calling thread (the suppression is a chain of dependent passes;
// 12000 clustered boxes take about 6 ms).
#include <algorithm>
#include <cmath>
#include <cstring>
#include "mrcnn/math/nms.h"
#include "mrcnn/nms.h"

namespace mrcnn_nms_cpu {
// Scalar greedy pass (see the file comment); the AVX-512 one is its 16-lane twin.
int greedy_scalar(const Candidates& c, int m, float thr, int max_keep, int64_t* out) {
  int kept = 0;
  int s = 0;  // the live candidates are [s, s + m), in rank order
  while (m > 0) {
    out[kept++] = c.id[s];
    if (max_keep > 0 && kept >= max_keep) break;
    const float fx1 = c.x1[s], fy1 = c.y1[s], fx2 = c.x2[s], fy2 = c.y2[s], fa = c.area[s];
    const int end = s + m;
    int w = s + 1;
    for (int r = s + 1; r < end; ++r) {
      const float o = mrcnn::nms_math::iou(fx1, fy1, fx2, fy2, fa, c.x1[r], c.y1[r], c.x2[r], c.y2[r], c.area[r]);
      if (o > thr) continue;
      if (w != r) {
        c.x1[w] = c.x1[r]; c.y1[w] = c.y1[r]; c.x2[w] = c.x2[r]; c.y2[w] = c.y2[r];
        c.area[w] = c.area[r]; c.id[w] = c.id[r];
      }
      ++w;
    }
    m = w - (s + 1);
    s += 1;
  }
  return kept;
}
}  // namespace mrcnn_nms_cpu

namespace {
using mrcnn_nms_cpu::Candidates;
namespace nm = mrcnn::nms_math;

constexpr int kPad = 16;

struct ClassRank {  // batched_nms grouping: class of the box, its rank
  int64_t cls;
  int32_t rank;
  int32_t unused;
};

// Workspace layout, computed the same way for the size query and for the call.
struct Layout {
  size_t keys, keys_tmp, x1, y1, x2, y2, area, id, score, groups, flags, total;
};
size_t carve(size_t* at, size_t bytes) {
  size_t off = *at;
  *at = off + (bytes + 63) / 64 * 64;
  return off;
}
Layout layout_for(int n) {
  Layout l;
  size_t at = 0;
  const size_t nn = (size_t)(n > 0 ? n : 0), np = nn + kPad;
  l.keys = carve(&at, nn * 8);
  l.keys_tmp = carve(&at, nn * 8);
  l.x1 = carve(&at, np * 4);
  l.y1 = carve(&at, np * 4);
  l.x2 = carve(&at, np * 4);
  l.y2 = carve(&at, np * 4);
  l.area = carve(&at, np * 4);
  l.id = carve(&at, np * 4);
  l.score = carve(&at, np * 4);
  l.groups = carve(&at, nn * sizeof(ClassRank));
  l.flags = carve(&at, nn);
  l.total = at + 64;  // + 64: the caller's pointer is aligned up to 64 bytes
  return l;
}

struct Work {
  uint64_t* keys;
  uint64_t* keys_tmp;
  Candidates c;
  float* score;
  ClassRank* groups;
  uint8_t* flags;
};

int bind_workspace(int n, void* workspace, size_t bytes, const char* op, Work* w) {
  const Layout l = layout_for(n);
  if (bytes < l.total)
    return mrcnn_fail(MRCNN_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes, needs %zu for n=%d",
                      op, bytes, l.total, n);
  if (!workspace) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null workspace", op);
  char* base = (char*)(((uintptr_t)workspace + 63) & ~(uintptr_t)63);
  w->keys = (uint64_t*)(base + l.keys);
  w->keys_tmp = (uint64_t*)(base + l.keys_tmp);
  w->c.x1 = (float*)(base + l.x1);
  w->c.y1 = (float*)(base + l.y1);
  w->c.x2 = (float*)(base + l.x2);
  w->c.y2 = (float*)(base + l.y2);
  w->c.area = (float*)(base + l.area);
  w->c.id = (int32_t*)(base + l.id);
  w->score = (float*)(base + l.score);
  w->groups = (ClassRank*)(base + l.groups);
  w->flags = (uint8_t*)(base + l.flags);
  return MRCNN_OK;
}

int check_common(const char* op, const float* boxes, const float* scores, int n, int64_t* keep,
                 int* num_kept, float iou_threshold) {
  if (!num_kept) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null num_kept", op);
  if (n < 0) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: n=%d < 0", op, n);
  if (n > 0 && (!boxes || !scores || !keep))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null boxes, scores or keep with n=%d", op, n);
  if (std::isnan(iou_threshold)) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: iou_threshold is NaN", op);
  for (int i = 0; i < n; ++i) {
    if (std::isnan(scores[i])) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: score %d is NaN", op, i);
    const float* b = boxes + 4 * (size_t)i;
    if (std::isnan(b[0]) || std::isnan(b[1]) || std::isnan(b[2]) || std::isnan(b[3]))
      return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: box %d has a NaN coordinate", op, i);
  }
  return MRCNN_OK;
}

// Stable LSD radix sort of keys[0..n) by their upper 32 bits (the score key); the lower
// 32 bits (the index) start ascending, so equal scores stay in index order.
void rank_sort(uint64_t* keys, uint64_t* tmp, int n) {
  constexpr int kBits = 11, kBuckets = 1 << kBits;
  int count[kBuckets];
  uint64_t* src = keys;
  uint64_t* dst = tmp;
  for (int shift = 32; shift < 64; shift += kBits) {
    std::memset(count, 0, sizeof count);
    for (int i = 0; i < n; ++i) ++count[(src[i] >> shift) & (kBuckets - 1)];
    if (count[(src[0] >> shift) & (kBuckets - 1)] == n) continue;  // one digit: nothing moves
    int sum = 0;
    for (int b = 0; b < kBuckets; ++b) { int c = count[b]; count[b] = sum; sum += c; }
    for (int i = 0; i < n; ++i) dst[count[(src[i] >> shift) & (kBuckets - 1)]++] = src[i];
    std::swap(src, dst);
  }
  if (src != keys) std::memcpy(keys, src, (size_t)n * sizeof *keys);
}

void rank_boxes(const float* scores, int n, Work* w) {
  for (int i = 0; i < n; ++i) w->keys[i] = nm::rank_key64(scores[i], (uint32_t)i);
  rank_sort(w->keys, w->keys_tmp, n);
}

inline int key_index(uint64_t k) { return (int)(uint32_t)k; }

// Candidate slot r <- box (x1, y1, x2, y2) with output id.
inline void put(const Candidates& c, int r, const float* b, int32_t id) {
  c.x1[r] = b[0]; c.y1[r] = b[1]; c.x2[r] = b[2]; c.y2[r] = b[3];
  c.area[r] = nm::box_area(b[0], b[1], b[2], b[3]);
  c.id[r] = id;
}

bool have_avx512() {
  static const bool yes = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
                          __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
  return yes;
}

int greedy(const Candidates& c, int m, float thr, int max_keep, int64_t* out) {
  if (m >= 32 && have_avx512()) return mrcnn_nms_cpu::greedy_avx512(c, m, thr, max_keep, out);
  return mrcnn_nms_cpu::greedy_scalar(c, m, thr, max_keep, out);
}

}  // namespace

MRCNN_API size_t mrcnn_cpu_nms_workspace_size(int n) { return layout_for(n).total; }

MRCNN_API int mrcnn_cpu_nms(const float* boxes, const float* scores, int n, float iou_threshold,
                            int max_keep, int64_t* keep, int* num_kept, void* workspace,
                            size_t workspace_bytes, void*) {
  int st = check_common("nms", boxes, scores, n, keep, num_kept, iou_threshold);
  if (st) return st;
  Work w;
  if ((st = bind_workspace(n, workspace, workspace_bytes, "nms", &w))) return st;
  *num_kept = 0;
  if (n == 0) return MRCNN_OK;
  rank_boxes(scores, n, &w);
  for (int r = 0; r < n; ++r) {
    const int i = key_index(w.keys[r]);
    put(w.c, r, boxes + 4 * (size_t)i, i);
  }
  *num_kept = greedy(w.c, n, iou_threshold, max_keep, keep);
  return MRCNN_OK;
}

MRCNN_API int mrcnn_cpu_batched_nms(const float* boxes, const float* scores, const int64_t* idxs, int n,
                                    float iou_threshold, int max_keep, int64_t* keep, int* num_kept,
                                    void* workspace, size_t workspace_bytes, void*) {
  int st = check_common("batched_nms", boxes, scores, n, keep, num_kept, iou_threshold);
  if (st) return st;
  if (n > 0 && !idxs) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "batched_nms: null idxs with n=%d", n);
  Work w;
  if ((st = bind_workspace(n, workspace, workspace_bytes, "batched_nms", &w))) return st;
  *num_kept = 0;
  if (n == 0) return MRCNN_OK;
  rank_boxes(scores, n, &w);

  if (n <= nm::kBatchedTrickMaxBoxes) {
    // torchvision's coordinate trick: one NMS over boxes shifted apart by class.
    float max_coord = boxes[0];
    for (size_t k = 1; k < 4 * (size_t)n; ++k) max_coord = nm::max_tv(max_coord, boxes[k]);
    for (int r = 0; r < n; ++r) {
      const int i = key_index(w.keys[r]);
      const float off = nm::class_offset(idxs[i], max_coord);
      const float* b = boxes + 4 * (size_t)i;
      const float shifted[4] = {b[0] + off, b[1] + off, b[2] + off, b[3] + off};
      put(w.c, r, shifted, i);
    }
    *num_kept = greedy(w.c, n, iou_threshold, max_keep, keep);
    return MRCNN_OK;
  }

  // Per class: group the ranks by class (rank order inside each class), NMS each group
  // (the kept ranks go to keep[] as scratch), then emit the kept boxes in rank order.
  for (int r = 0; r < n; ++r) w.groups[r] = ClassRank{idxs[key_index(w.keys[r])], r, 0};
  std::sort(w.groups, w.groups + n, [](const ClassRank& a, const ClassRank& b) {
    return a.cls < b.cls || (a.cls == b.cls && a.rank < b.rank);
  });
  std::memset(w.flags, 0, (size_t)n);
  for (int a = 0; a < n;) {
    int b = a + 1;
    while (b < n && w.groups[b].cls == w.groups[a].cls) ++b;
    for (int k = a; k < b; ++k) {
      const int r = w.groups[k].rank;
      put(w.c, k - a, boxes + 4 * (size_t)key_index(w.keys[r]), r);
    }
    const int kept = greedy(w.c, b - a, iou_threshold, max_keep, keep);
    for (int k = 0; k < kept; ++k) w.flags[keep[k]] = 1;
    a = b;
  }
  int count = 0;
  for (int r = 0; r < n && (max_keep <= 0 || count < max_keep); ++r)
    if (w.flags[r]) keep[count++] = key_index(w.keys[r]);
  *num_kept = count;
  return MRCNN_OK;
}

MRCNN_API int mrcnn_cpu_soft_nms(const float* boxes, const float* scores, int n, int method,
                                 float iou_threshold, float sigma, float score_threshold, int max_keep,
                                 int64_t* keep, float* out_scores, int* num_kept, void* workspace,
                                 size_t workspace_bytes, void*) {
  int st = check_common("soft_nms", boxes, scores, n, keep, num_kept, iou_threshold);
  if (st) return st;
  if (method != nm::kSoftLinear && method != nm::kSoftGaussian)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "soft_nms: method=%d (1 = linear, 2 = gaussian)", method);
  if (method == nm::kSoftGaussian && !(sigma > 0.0f && std::isfinite(sigma)))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "soft_nms: gaussian sigma=%g must be finite and > 0", sigma);
  if (std::isnan(score_threshold)) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "soft_nms: score_threshold is NaN");
  if (n > 0 && !out_scores) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "soft_nms: null out_scores with n=%d", n);
  for (int i = 0; i < n; ++i)
    if (!std::isfinite(scores[i])) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "soft_nms: score %d is not finite", i);
  Work w;
  if ((st = bind_workspace(n, workspace, workspace_bytes, "soft_nms", &w))) return st;
  *num_kept = 0;
  const Candidates& c = w.c;
  float* cur = w.score;
  // Live candidates in index order; the ones below score_threshold never enter.
  int m = 0, best = -1;
  for (int i = 0; i < n; ++i) {
    if (scores[i] < score_threshold) continue;
    put(c, m, boxes + 4 * (size_t)i, i);
    cur[m] = scores[i];
    if (best < 0 || nm::soft_before(cur[m], i, cur[best], c.id[best])) best = m;
    ++m;
  }
  int kept = 0;
  while (m > 0 && (max_keep <= 0 || kept < max_keep)) {
    keep[kept] = c.id[best];
    out_scores[kept] = cur[best];
    ++kept;
    const float bx1 = c.x1[best], by1 = c.y1[best], bx2 = c.x2[best], by2 = c.y2[best], ba = c.area[best];
    int wpos = 0, next = -1;
    for (int r = 0; r < m; ++r) {
      if (r == best) continue;
      const float o = nm::iou(bx1, by1, bx2, by2, ba, c.x1[r], c.y1[r], c.x2[r], c.y2[r], c.area[r]);
      const float s = cur[r] * nm::soft_weight(method, o, iou_threshold, sigma);
      if (s < score_threshold) continue;
      c.x1[wpos] = c.x1[r]; c.y1[wpos] = c.y1[r]; c.x2[wpos] = c.x2[r]; c.y2[wpos] = c.y2[r];
      c.area[wpos] = c.area[r]; c.id[wpos] = c.id[r]; cur[wpos] = s;
      if (next < 0 || nm::soft_before(s, c.id[wpos], cur[next], c.id[next])) next = wpos;
      ++wpos;
    }
    m = wpos;
    best = next;
  }
  *num_kept = kept;
  return MRCNN_OK;
}
