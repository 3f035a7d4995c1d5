// NMS native tests: the CPU kernels (scalar and AVX-512 greedy passes) against a plain
// O(n^2) greedy loop written here, and the emulated CUDA kernels against the CPU, for nms,
// batched_nms (both of torchvision's paths) and Soft-NMS (linear, gaussian), on random and
// clustered boxes, ragged sizes (not multiples of the 64-box mask tile, the 16-lane rows or
// the 1024-key sort tile), tied scores, duplicate boxes, zero-area boxes, thresholds 0..1,
// top-k caps and bad arguments. The torchvision goldens are checked by the Java test.
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <numeric>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/math/nms.h"
#include "mrcnn/nms.h"

namespace {

using mrcnn_check::Rng;
namespace nm = mrcnn::nms_math;

// Tolerance: none. Indices must be identical, and Soft-NMS scores bit-identical: every
// backend evaluates the same float32 functions (mrcnn/math/nms.h) in the same order, with
// products kept out of FMAs and a portable exp, so no path may differ in any bit.
constexpr float kScoreTolerance = 0.0f;

const float kThresholds[] = {0.0f, 0.3f, 0.5f, 0.7f, 1.0f};

struct Input {
  int n = 0;
  std::vector<float> boxes;    // [n][4]
  std::vector<float> scores;   // [n]
  std::vector<int64_t> idxs;   // [n] classes
};

// Boxes inside a 1216x800 image with log-uniform sides (as the benchmark's generator).
void add_random_box(Input& in, Rng& rng) {
  const float w = std::exp(rng.uniform(std::log(16.f), std::log(600.f)));
  const float h = std::exp(rng.uniform(std::log(16.f), std::log(600.f)));
  const float x0 = rng.uniform(0.f, 1216.f - w), y0 = rng.uniform(0.f, 800.f - h);
  in.boxes.insert(in.boxes.end(), {x0, y0, x0 + w, y0 + h});
}

Input random_input(int n, Rng& rng, int classes = 1) {
  Input in;
  in.n = n;
  for (int i = 0; i < n; ++i) {
    add_random_box(in, rng);
    in.scores.push_back(rng.uniform(0.f, 1.f));
    in.idxs.push_back(rng.below(classes));
  }
  return in;
}

// Clusters of `per` jittered copies: heavy overlap. ties > 0 quantizes the scores to that
// many values; dup > 1 repeats each (box, score) dup times at random places.
Input clustered_input(int n, Rng& rng, int per = 8, float jitter = 0.15f, int ties = 0, int classes = 1) {
  Input in;
  in.n = n;
  Input centers;
  for (int i = 0; i < (n + per - 1) / per; ++i) add_random_box(centers, rng);
  for (int i = 0; i < n; ++i) {
    const float* c = &centers.boxes[4 * (i / per)];
    const float w = c[2] - c[0], h = c[3] - c[1];
    float b[4] = {c[0] + jitter * w * rng.uniform(-1.f, 1.f), c[1] + jitter * h * rng.uniform(-1.f, 1.f),
                  c[2] + jitter * w * rng.uniform(-1.f, 1.f), c[3] + jitter * h * rng.uniform(-1.f, 1.f)};
    b[2] = std::max(b[2], b[0] + 1.f);
    b[3] = std::max(b[3], b[1] + 1.f);
    in.boxes.insert(in.boxes.end(), b, b + 4);
    float s = rng.uniform(0.f, 1.f);
    if (ties > 0) s = (float)rng.below(ties) / (float)ties;
    in.scores.push_back(s);
    in.idxs.push_back(rng.below(classes));
  }
  return in;
}

Input duplicated_input(int distinct, int copies, Rng& rng) {
  Input base = clustered_input(distinct, rng, 4, 0.1f, 6);
  Input in;
  in.n = distinct * copies;
  std::vector<int> order(in.n);
  std::iota(order.begin(), order.end(), 0);
  for (int i = in.n - 1; i > 0; --i) std::swap(order[i], order[rng.below(i + 1)]);
  for (int k = 0; k < in.n; ++k) {
    const int src = order[k] % distinct;
    in.boxes.insert(in.boxes.end(), &base.boxes[4 * src], &base.boxes[4 * src] + 4);
    in.scores.push_back(base.scores[src]);
    in.idxs.push_back(src % 3);
  }
  return in;
}

// Normal, zero-width, zero-height and point boxes, and repeats of zero-area ones.
Input zero_area_input(int n, Rng& rng) {
  Input in = random_input(n, rng);
  for (int i = 0; i < n; ++i) {
    float* b = &in.boxes[4 * i];
    switch (i % 5) {
      case 1: b[2] = b[0]; break;
      case 2: b[3] = b[1]; break;
      case 3: b[2] = b[0]; b[3] = b[1]; break;
      case 4: if (i >= 5) std::memcpy(b, &in.boxes[4 * (i - 2)], 16); break;  // repeat of a zero-area box
      default: break;
    }
  }
  return in;
}

// ---- references: the definitions, written plainly ---------------------------------------
std::vector<int> rank_order(const Input& in) {
  std::vector<int> order(in.n);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](int a, int b) { return in.scores[a] > in.scores[b]; });
  return order;
}

float iou_of(const float* a, const float* b) {
  return nm::iou(a[0], a[1], a[2], a[3], nm::box_area(a[0], a[1], a[2], a[3]), b[0], b[1], b[2], b[3],
                 nm::box_area(b[0], b[1], b[2], b[3]));
}

// Greedy NMS; class_aware: only boxes of the same class suppress each other.
std::vector<int64_t> reference_nms(const Input& in, const std::vector<float>& boxes, float thr, int max_keep,
                                   bool class_aware) {
  const std::vector<int> order = rank_order(in);
  std::vector<char> gone(in.n, 0);
  std::vector<int64_t> keep;
  for (int p = 0; p < in.n; ++p) {
    const int i = order[p];
    if (gone[i]) continue;
    keep.push_back(i);
    if (max_keep > 0 && (int)keep.size() >= max_keep) break;
    for (int q = p + 1; q < in.n; ++q) {
      const int j = order[q];
      if (class_aware && in.idxs[i] != in.idxs[j]) continue;
      if (iou_of(&boxes[4 * i], &boxes[4 * j]) > thr) gone[j] = 1;
    }
  }
  return keep;
}

// batched_nms by definition of torchvision's two paths.
std::vector<int64_t> reference_batched(const Input& in, float thr, int max_keep) {
  if (in.n > nm::kBatchedTrickMaxBoxes) return reference_nms(in, in.boxes, thr, max_keep, true);
  float mx = in.boxes.empty() ? 0.f : in.boxes[0];
  for (float v : in.boxes) mx = nm::max_tv(mx, v);
  std::vector<float> shifted(in.boxes);
  for (int i = 0; i < in.n; ++i)
    for (int c = 0; c < 4; ++c) shifted[4 * i + c] = in.boxes[4 * i + c] + nm::class_offset(in.idxs[i], mx);
  return reference_nms(in, shifted, thr, max_keep, false);
}

void reference_soft(const Input& in, int method, float thr, float sigma, float score_thr, int max_keep,
                    std::vector<int64_t>* keep, std::vector<float>* kept_scores) {
  std::vector<float> cur(in.scores);
  std::vector<char> live(in.n);
  for (int i = 0; i < in.n; ++i) live[i] = cur[i] >= score_thr;
  keep->clear();
  kept_scores->clear();
  while (max_keep <= 0 || (int)keep->size() < max_keep) {
    int m = -1;
    for (int i = 0; i < in.n; ++i)
      if (live[i] && (m < 0 || cur[i] > cur[m])) m = i;  // first of equal maxima: lowest index
    if (m < 0) break;
    keep->push_back(m);
    kept_scores->push_back(cur[m]);
    live[m] = 0;
    for (int i = 0; i < in.n; ++i) {
      if (!live[i]) continue;
      cur[i] = cur[i] * nm::soft_weight(method, iou_of(&in.boxes[4 * m], &in.boxes[4 * i]), thr, sigma);
      if (cur[i] < score_thr) live[i] = 0;
    }
  }
}

// ---- runners --------------------------------------------------------------------------
struct Result {
  int status = -1;
  std::vector<int64_t> keep;
  std::vector<float> scores;
};

enum class Op { Nms, Batched, Soft };
struct Call {
  Op op = Op::Nms;
  float thr = 0.5f;
  int max_keep = 0;
  int method = nm::kSoftLinear;
  float sigma = 0.5f;
  float score_thr = 0.001f;
};

Result run_cpu(const Input& in, const Call& c) {
  Result r;
  std::vector<char> ws(mrcnn_cpu_nms_workspace_size(in.n));
  std::vector<int64_t> keep(std::max(in.n, 1), -7);
  std::vector<float> out_scores(std::max(in.n, 1), -7.f);
  int nk = -1;
  if (c.op == Op::Nms)
    r.status = mrcnn_cpu_nms(in.boxes.data(), in.scores.data(), in.n, c.thr, c.max_keep, keep.data(), &nk, ws.data(),
                             ws.size(), nullptr);
  else if (c.op == Op::Batched)
    r.status = mrcnn_cpu_batched_nms(in.boxes.data(), in.scores.data(), in.idxs.data(), in.n, c.thr, c.max_keep,
                                     keep.data(), &nk, ws.data(), ws.size(), nullptr);
  else
    r.status = mrcnn_cpu_soft_nms(in.boxes.data(), in.scores.data(), in.n, c.method, c.thr, c.sigma, c.score_thr,
                                  c.max_keep, keep.data(), out_scores.data(), &nk, ws.data(), ws.size(), nullptr);
  if (r.status == 0) {
    r.keep.assign(keep.begin(), keep.begin() + nk);
    if (c.op == Op::Soft) r.scores.assign(out_scores.begin(), out_scores.begin() + nk);
  }
  return r;
}

void* emu_upload(const void* host, size_t bytes) {
  void* d = nullptr;
  CHECK_OK(mrcnn_emu_malloc(bytes ? bytes : 1, &d));
  if (bytes) CHECK_OK(mrcnn_emu_copy_to_device(d, host, bytes, nullptr));
  return d;
}

Result run_emu(const Input& in, const Call& c, size_t ws_bytes = 0) {
  Result r;
  const size_t n = (size_t)in.n;
  void* boxes = emu_upload(in.boxes.data(), n * 16);
  void* scores = emu_upload(in.scores.data(), n * 4);
  void* idxs = emu_upload(in.idxs.data(), n * 8);
  void *keep = nullptr, *out_scores = nullptr, *num = nullptr, *ws = nullptr;
  CHECK_OK(mrcnn_emu_malloc(std::max<size_t>(n, 1) * 8, &keep));
  CHECK_OK(mrcnn_emu_malloc(std::max<size_t>(n, 1) * 4, &out_scores));
  CHECK_OK(mrcnn_emu_malloc(4, &num));
  if (ws_bytes == 0) ws_bytes = mrcnn_emu_nms_workspace_size(in.n);
  CHECK_OK(mrcnn_emu_malloc(ws_bytes, &ws));
  const long long errors_before = mrcnn_emu_error_count();
  if (c.op == Op::Nms)
    r.status = mrcnn_emu_nms((const float*)boxes, (const float*)scores, in.n, c.thr, c.max_keep, (int64_t*)keep,
                             (int*)num, ws, ws_bytes, nullptr);
  else if (c.op == Op::Batched)
    r.status = mrcnn_emu_batched_nms((const float*)boxes, (const float*)scores, (const int64_t*)idxs, in.n, c.thr,
                                     c.max_keep, (int64_t*)keep, (int*)num, ws, ws_bytes, nullptr);
  else
    r.status = mrcnn_emu_soft_nms((const float*)boxes, (const float*)scores, in.n, c.method, c.thr, c.sigma,
                                  c.score_thr, c.max_keep, (int64_t*)keep, (float*)out_scores, (int*)num, ws, ws_bytes,
                                  nullptr);
  CHECK(mrcnn_emu_error_count() == errors_before);
  if (r.status == 0) {
    int nk = -1;
    CHECK_OK(mrcnn_emu_copy_to_host(&nk, num, 4, nullptr));
    CHECK(nk >= 0 && nk <= in.n);
    if (nk >= 0 && nk <= in.n) {
      r.keep.resize(nk);
      CHECK_OK(mrcnn_emu_copy_to_host(r.keep.data(), keep, (size_t)nk * 8, nullptr));
      if (c.op == Op::Soft) {
        r.scores.resize(nk);
        CHECK_OK(mrcnn_emu_copy_to_host(r.scores.data(), out_scores, (size_t)nk * 4, nullptr));
      }
    }
  }
  for (void* p : {boxes, scores, idxs, keep, out_scores, num, ws}) CHECK_OK(mrcnn_emu_free(p));
  return r;
}

bool same(const std::vector<int64_t>& a, const std::vector<int64_t>& b, const char* what, const char* name, int n,
          float thr) {
  if (a == b) return true;
  size_t at = 0;
  while (at < a.size() && at < b.size() && a[at] == b[at]) ++at;
  char m[256];
  snprintf(m, sizeof m, "%s: %s n=%d thr=%g: %zu vs %zu kept, first difference at %zu", what, name, n, thr, a.size(),
           b.size(), at);
  mrcnn_check::record_failure(__FILE__, __LINE__, m);
  return false;
}

void check_scores(const std::vector<float>& a, const std::vector<float>& b, const char* name) {
  CHECK(a.size() == b.size());
  if (a.size() != b.size()) return;
  size_t where = 0;
  const double d = mrcnn_check::max_abs_diff(a.data(), b.data(), a.size(), &where);
  if (!(d <= kScoreTolerance)) {
    char m[200];
    snprintf(m, sizeof m, "soft scores %s differ at %zu: %.9g vs %.9g", name, where, a[where], b[where]);
    mrcnn_check::record_failure(__FILE__, __LINE__, m);
  }
}

// ---- math ----------------------------------------------------------------------------------

MRCNN_TEST(nms_math_iou_and_keys) {
  const float a[4] = {0, 0, 2, 1}, b[4] = {0, 0, 1, 1}, z[4] = {5, 5, 5, 9};
  CHECK(iou_of(a, b) == 0.5f);
  CHECK(iou_of(b, a) == 0.5f);
  CHECK(std::isnan(iou_of(z, z)));            // two zero-area boxes: 0/0
  CHECK(iou_of(a, z) == 0.0f);
  const float c[4] = {10, 0, 20, 1}, d[4] = {10, 0, 13, 1};
  CHECK(iou_of(c, d) == 0.3f);                // fl(3/10) = 0.300000012 > 0.3 as a double
  // Rank keys: descending score, -0 == +0, infinities at the ends.
  const float s[] = {INFINITY, 1.f, 0.5f, 1e-38f, 0.f, -0.f, -1e-38f, -0.5f, -INFINITY};
  for (size_t i = 0; i + 1 < sizeof s / sizeof s[0]; ++i) {
    if (s[i] == s[i + 1]) CHECK(nm::score_rank_key(s[i]) == nm::score_rank_key(s[i + 1]));
    else CHECK(nm::score_rank_key(s[i]) < nm::score_rank_key(s[i + 1]));
  }
  CHECK(nm::rank_key64(0.5f, 3) < nm::rank_key64(0.5f, 4));
}

MRCNN_TEST(nms_math_exp_nonpositive) {
  double worst = 0;
  for (int k = 0; k <= 200000; ++k) {
    const float x = -87.29f * (float)k / 200000.0f;
    const double want = std::exp((double)x), got = nm::exp_nonpositive(x);
    worst = std::max(worst, std::fabs(got - want) / want);
  }
  if (!(worst < 3.0 * 5.96e-8)) printf("  exp_nonpositive: worst relative error %.3g\n", worst);
  CHECK(worst < 3.0 * 5.96e-8);  // within 3 ulp of float
  CHECK(nm::exp_nonpositive(0.0f) == 1.0f);
  CHECK(nm::exp_nonpositive(-100.0f) == 0.0f);
  CHECK(nm::exp_nonpositive(-INFINITY) == 0.0f);
  CHECK(nm::soft_weight(nm::kSoftGaussian, NAN, 0.3f, 0.5f) == 1.0f);  // NaN IoU: no overlap
  CHECK(nm::soft_weight(nm::kSoftLinear, 0.3f, 0.3f, 0.5f) == 1.0f);   // not > threshold
}

// ---- CPU against the references ------------------------------------------------------------

MRCNN_TEST(nms_cpu_matches_reference) {
  Rng rng(11);
  const int sizes[] = {0, 1, 2, 5, 16, 17, 31, 33, 100, 257, 1000, 2047};
  for (int n : sizes) {
    const Input inputs[] = {random_input(n, rng), clustered_input(n, rng), clustered_input(n, rng, 20, 0.05f, 4),
                            zero_area_input(n, rng)};
    for (const Input& in : inputs)
      for (float thr : kThresholds) {
        const std::vector<int64_t> want = reference_nms(in, in.boxes, thr, 0, false);
        for (int cap : {0, 1, 7, 200}) {  // a cap keeps a prefix of the uncapped result
          Call c;
          c.thr = thr;
          c.max_keep = cap;
          const Result r = run_cpu(in, c);
          CHECK(r.status == 0);
          const size_t len = cap > 0 ? std::min(want.size(), (size_t)cap) : want.size();
          same(r.keep, std::vector<int64_t>(want.begin(), want.begin() + len), "cpu vs reference", "nms", n, thr);
        }
      }
  }
  Input dup = duplicated_input(70, 3, rng);
  for (float thr : kThresholds) {
    Call c;
    c.thr = thr;
    same(run_cpu(dup, c).keep, reference_nms(dup, dup.boxes, thr, 0, false), "cpu vs reference", "duplicates",
         dup.n, thr);
  }
}

// Both greedy passes on the same candidates (the AVX-512 one only where the CPU has it).
MRCNN_TEST(nms_cpu_avx512_pass_matches_scalar) {
  if (!__builtin_cpu_supports("avx512f") || !__builtin_cpu_supports("avx512vl") ||
      !__builtin_cpu_supports("avx512bw") || !__builtin_cpu_supports("avx512dq")) {
    printf("  (skipped: no AVX-512 on this CPU)\n");
    return;
  }
  Rng rng(12);
  for (int m : {1, 2, 15, 16, 17, 32, 33, 100, 511, 1500}) {
    for (int kind = 0; kind < 3; ++kind) {
      Input in = kind == 0 ? random_input(m, rng) : kind == 1 ? clustered_input(m, rng) : zero_area_input(m, rng);
      const std::vector<int> order = rank_order(in);
      for (float thr : kThresholds) {
        for (int cap : {0, 3, 40}) {
          std::vector<float> soa[2][5];
          std::vector<int32_t> id[2];
          std::vector<int64_t> out[2];
          int kept[2];
          for (int v = 0; v < 2; ++v) {
            for (auto& a : soa[v]) a.assign(m + 16, 0.f);
            id[v].assign(m + 16, 0);
            out[v].assign(m, -1);
            for (int r = 0; r < m; ++r) {
              const float* b = &in.boxes[4 * order[r]];
              soa[v][0][r] = b[0]; soa[v][1][r] = b[1]; soa[v][2][r] = b[2]; soa[v][3][r] = b[3];
              soa[v][4][r] = nm::box_area(b[0], b[1], b[2], b[3]);
              id[v][r] = order[r];
            }
            const mrcnn_nms_cpu::Candidates c{soa[v][0].data(), soa[v][1].data(), soa[v][2].data(),
                                              soa[v][3].data(), soa[v][4].data(), id[v].data()};
            kept[v] = v == 0 ? mrcnn_nms_cpu::greedy_scalar(c, m, thr, cap, out[v].data())
                             : mrcnn_nms_cpu::greedy_avx512(c, m, thr, cap, out[v].data());
          }
          CHECK(kept[0] == kept[1]);
          same(out[0], out[1], "scalar vs avx512", "greedy", m, thr);
        }
      }
    }
  }
}

MRCNN_TEST(nms_cpu_batched_matches_reference) {
  Rng rng(13);
  for (int n : {0, 1, 37, 300, 1000, 1001, 1700}) {
    for (int classes : {1, 3, 91}) {
      const Input inputs[] = {clustered_input(n, rng, 8, 0.15f, 0, classes),
                              clustered_input(n, rng, 10, 0.08f, 3, classes)};
      for (const Input& in : inputs)
        for (float thr : {0.0f, 0.7f, 1.0f}) {
          const std::vector<int64_t> want = reference_batched(in, thr, 0);
          for (int cap : {0, 50}) {
            Call c;
            c.op = Op::Batched;
            c.thr = thr;
            c.max_keep = cap;
            const Result r = run_cpu(in, c);
            CHECK(r.status == 0);
            const size_t len = cap > 0 ? std::min(want.size(), (size_t)cap) : want.size();
            same(r.keep, std::vector<int64_t>(want.begin(), want.begin() + len), "cpu vs reference", "batched", n,
                 thr);
          }
        }
    }
  }
  // Negative and huge class ids (the trick path shifts by them; per class groups them).
  for (int n : {200, 1200}) {
    Input in = clustered_input(n, rng);
    for (int i = 0; i < n; ++i) in.idxs[i] = (int64_t)rng.below(5) * 1000003 - 2000000;
    Call c;
    c.op = Op::Batched;
    same(run_cpu(in, c).keep, reference_batched(in, 0.5f, 0), "cpu vs reference", "batched odd ids", n, 0.5f);
  }
}

MRCNN_TEST(nms_cpu_soft_matches_reference) {
  Rng rng(14);
  for (int n : {0, 1, 2, 17, 150, 700}) {
    const Input inputs[] = {clustered_input(n, rng), clustered_input(n, rng, 20, 0.05f, 5), zero_area_input(n, rng)};
    for (const Input& in : inputs)
      for (int method : {nm::kSoftLinear, nm::kSoftGaussian})
        for (float score_thr : {0.0f, 0.001f, 0.3f})
          for (int cap : {0, 9}) {
            Call c;
            c.op = Op::Soft;
            c.method = method;
            c.thr = 0.3f;
            c.sigma = 0.5f;
            c.score_thr = score_thr;
            c.max_keep = cap;
            const Result r = run_cpu(in, c);
            CHECK(r.status == 0);
            std::vector<int64_t> keep;
            std::vector<float> scores;
            reference_soft(in, method, c.thr, c.sigma, score_thr, cap, &keep, &scores);
            same(r.keep, keep, "cpu vs reference", "soft", n, (float)method);
            check_scores(r.scores, scores, "cpu vs reference");
          }
  }
}

// ---- emulated CUDA against the CPU -----------------------------------------------------------

void emu_vs_cpu(const Input& in, const Call& c, const char* name) {
  const Result a = run_cpu(in, c), b = run_emu(in, c);
  CHECK(a.status == 0);
  if (b.status != 0) {
    char m[300];
    snprintf(m, sizeof m, "emu %s n=%d: status %d: %s", name, in.n, b.status, mrcnn_last_error());
    mrcnn_check::record_failure(__FILE__, __LINE__, m);
    return;
  }
  same(b.keep, a.keep, "emu vs cpu", name, in.n, c.thr);
  if (c.op == Op::Soft) check_scores(b.scores, a.scores, name);
}

MRCNN_TEST(nms_emu_matches_cpu) {
  Rng rng(21);
  for (int n : {0, 1, 2, 5, 63, 64, 65, 130, 700, 1025, 2000}) {
    Input in = n % 2 ? clustered_input(n, rng) : random_input(n, rng);
    for (float thr : kThresholds) {
      if (n >= 1000 && thr != 0.0f && thr != 0.7f) continue;  // keep the emulated run short
      Call c;
      c.thr = thr;
      emu_vs_cpu(in, c, "nms");
    }
    Call capped;
    capped.thr = 0.5f;
    capped.max_keep = n / 3 + 1;
    emu_vs_cpu(in, capped, "nms capped");
  }
  // Sort across several 1024-key tiles (global merge steps) with many ties.
  Input ties = clustered_input(2500, rng, 10, 0.08f, 7);
  Call c;
  c.thr = 0.5f;
  emu_vs_cpu(ties, c, "nms ties 2500");
  Input dup = duplicated_input(90, 3, rng);
  for (float thr : {0.5f, 1.0f}) {
    c.thr = thr;
    emu_vs_cpu(dup, c, "nms duplicates");
  }
  Input zero = zero_area_input(150, rng);
  for (float thr : {0.0f, 0.5f}) {
    c.thr = thr;
    emu_vs_cpu(zero, c, "nms zero area");
  }
  c.thr = 0.7f;
  c.max_keep = 1;
  emu_vs_cpu(clustered_input(200, rng), c, "nms top1");
}

MRCNN_TEST(nms_emu_batched_matches_cpu) {
  Rng rng(22);
  for (int n : {0, 3, 130, 1000, 1001, 1300}) {
    for (int classes : {3, 91}) {
      Input in = clustered_input(n, rng, 8, 0.15f, n % 2 ? 4 : 0, classes);
      for (float thr : {0.5f, 0.7f}) {
        Call c;
        c.op = Op::Batched;
        c.thr = thr;
        emu_vs_cpu(in, c, "batched");
      }
      Call capped;
      capped.op = Op::Batched;
      capped.max_keep = 40;
      emu_vs_cpu(in, capped, "batched capped");
    }
  }
}

MRCNN_TEST(nms_emu_soft_matches_cpu) {
  Rng rng(23);
  for (int n : {0, 1, 5, 70, 333}) {
    const Input in = n < 300 ? clustered_input(n, rng, 6, 0.1f, n % 2 ? 3 : 0) : clustered_input(n, rng);
    for (int method : {nm::kSoftLinear, nm::kSoftGaussian}) {
      Call c;
      c.op = Op::Soft;
      c.method = method;
      c.thr = 0.3f;
      c.sigma = 0.5f;
      c.score_thr = n >= 300 ? 0.05f : 0.001f;
      emu_vs_cpu(in, c, method == nm::kSoftLinear ? "soft linear" : "soft gaussian");
    }
  }
  Call capped;
  capped.op = Op::Soft;
  capped.method = nm::kSoftGaussian;
  capped.max_keep = 11;
  capped.score_thr = 0.0f;
  emu_vs_cpu(zero_area_input(90, rng), capped, "soft zero area capped");
}

// ---- bad arguments ---------------------------------------------------------------------------

MRCNN_TEST(nms_rejects_bad_arguments) {
  Rng rng(31);
  Input in = random_input(10, rng);
  std::vector<char> ws(mrcnn_cpu_nms_workspace_size(10));
  std::vector<int64_t> keep(10);
  std::vector<float> out(10);
  int nk = 0;
  const float* b = in.boxes.data();
  const float* s = in.scores.data();
  CHECK(mrcnn_cpu_nms(b, s, -1, 0.5f, 0, keep.data(), &nk, ws.data(), ws.size(), nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_nms(nullptr, s, 10, 0.5f, 0, keep.data(), &nk, ws.data(), ws.size(), nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_nms(b, s, 10, 0.5f, 0, keep.data(), nullptr, ws.data(), ws.size(), nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_nms(b, s, 10, NAN, 0, keep.data(), &nk, ws.data(), ws.size(), nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_nms(b, s, 10, 0.5f, 0, keep.data(), &nk, ws.data(), ws.size() - 1, nullptr) ==
        MRCNN_ERR_WORKSPACE_TOO_SMALL);
  CHECK(mrcnn_cpu_batched_nms(b, s, nullptr, 10, 0.5f, 0, keep.data(), &nk, ws.data(), ws.size(), nullptr) ==
        MRCNN_ERR_INVALID_ARGUMENT);
  Input nan_score = in, nan_box = in;
  nan_score.scores[3] = NAN;
  nan_box.boxes[13] = NAN;
  CHECK(mrcnn_cpu_nms(b, nan_score.scores.data(), 10, 0.5f, 0, keep.data(), &nk, ws.data(), ws.size(), nullptr) ==
        MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_nms(nan_box.boxes.data(), s, 10, 0.5f, 0, keep.data(), &nk, ws.data(), ws.size(), nullptr) ==
        MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_soft_nms(b, s, 10, 3, 0.3f, 0.5f, 0.f, 0, keep.data(), out.data(), &nk, ws.data(), ws.size(),
                           nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_soft_nms(b, s, 10, 2, 0.3f, 0.0f, 0.f, 0, keep.data(), out.data(), &nk, ws.data(), ws.size(),
                           nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_soft_nms(b, s, 10, 1, 0.3f, 0.5f, NAN, 0, keep.data(), out.data(), &nk, ws.data(), ws.size(),
                           nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  Input inf_score = in;
  inf_score.scores[0] = INFINITY;
  CHECK(mrcnn_cpu_soft_nms(b, inf_score.scores.data(), 10, 1, 0.3f, 0.5f, 0.f, 0, keep.data(), out.data(), &nk,
                           ws.data(), ws.size(), nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  // Emulated CUDA: argument checks before any launch.
  Call c;
  CHECK(run_emu(in, c, 64).status == MRCNN_ERR_WORKSPACE_TOO_SMALL);
  c.op = Op::Soft;
  c.method = 0;
  CHECK(run_emu(in, c).status == MRCNN_ERR_INVALID_ARGUMENT);
  int nk2 = 0;
  CHECK(mrcnn_emu_nms(nullptr, nullptr, -2, 0.5f, 0, nullptr, &nk2, nullptr, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
}

}  // namespace
