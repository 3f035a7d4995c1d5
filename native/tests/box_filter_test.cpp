// box_filter native tests: the CPU kernel against the predicate written out here, and the
// emulated CUDA kernel against the CPU (the same indices in the same order, the same count).
// Cases: RPN-like (min_size 1e-3, score >= 0) and box-head-like (1e-2, score > 0.05) filters,
// values exactly at the thresholds, NaN coordinates and scores, no scores, inputs spanning
// many CUDA blocks (the block offsets), large enough for the CPU's threaded path, misaligned
// boxes (scalar CUDA loads), an empty input (count 0) and bad calls.
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/box_filter.h"
#include "mrcnn/device.h"

namespace {

using mrcnn_check::Rng;

struct Case {
  const char* name;
  int n;
  float min_size, thresh;
  int strict, with_scores;
};

const Case kCases[] = {
    {"rpn_like", 4999, 1e-3f, 0.0f, 0, 1},
    {"box_head_like", 3001, 1e-2f, 0.05f, 1, 1},
    {"no_scores", 777, 0.5f, 0.0f, 0, 0},
    {"many_blocks", 600000, 1e-3f, 0.5f, 0, 1},
    {"one", 1, 0.0f, 0.0f, 1, 1},
};

struct Input {
  std::vector<float> boxes, scores;
};

Input make_input(Rng& rng, const Case& t) {
  Input in;
  in.boxes.resize((size_t)t.n * 4);
  in.scores.resize(t.n);
  for (int i = 0; i < t.n; ++i) {
    const float x = rng.uniform(0.f, 500.f), y = rng.uniform(0.f, 500.f);
    float w = rng.uniform(0.f, 3.f), h = rng.uniform(0.f, 3.f);
    const int s = rng.below(30);
    if (s == 0) w = 0.f;
    if (s == 1) h = t.min_size;  // exactly at the threshold (if representable after the subtraction)
    if (s == 2) w = -1.f;
    float* b = &in.boxes[(size_t)i * 4];
    b[0] = x;
    b[1] = y;
    b[2] = x + w;
    b[3] = y + h;
    if (s == 3) b[2] = NAN;
    float sc = rng.uniform(0.f, 1.f);
    if (s == 4) sc = t.thresh;
    if (s == 5) sc = NAN;
    in.scores[i] = sc;
  }
  return in;
}

std::vector<int64_t> reference(const Case& t, const Input& in) {
  std::vector<int64_t> keep;
  for (int i = 0; i < t.n; ++i) {
    const float* b = &in.boxes[(size_t)i * 4];
    const volatile float w = b[2] - b[0], h = b[3] - b[1];
    bool k = w >= t.min_size && h >= t.min_size;
    if (t.with_scores) k = k && (t.strict ? in.scores[i] > t.thresh : in.scores[i] >= t.thresh);
    if (k) keep.push_back(i);
  }
  return keep;
}

std::vector<int64_t> run_cpu(const Case& t, const Input& in) {
  std::vector<int64_t> keep(t.n + 1, -7);
  int count = -1;
  CHECK_OK(mrcnn_cpu_box_filter(in.boxes.data(), t.with_scores ? in.scores.data() : nullptr, t.n, t.min_size,
                                t.thresh, t.strict, keep.data(), &count, nullptr, 0, nullptr));
  CHECK(count >= 0 && count <= t.n);
  keep.resize(count < 0 ? 0 : count);
  return keep;
}

std::vector<int64_t> run_emu(const Case& t, const Input& in, int shift) {
  const size_t wsb = mrcnn_emu_box_filter_workspace_size(t.n);
  void *db = nullptr, *ds = nullptr, *dk = nullptr, *dc = nullptr, *dw = nullptr;
  CHECK_OK(mrcnn_emu_malloc((in.boxes.size() + shift) * sizeof(float), &db));
  CHECK_OK(mrcnn_emu_malloc(in.scores.size() * sizeof(float) + 4, &ds));
  CHECK_OK(mrcnn_emu_malloc(((size_t)t.n + 1) * sizeof(int64_t), &dk));
  CHECK_OK(mrcnn_emu_malloc(sizeof(int), &dc));
  CHECK_OK(mrcnn_emu_malloc(wsb, &dw));
  float* fb = (float*)db + shift;
  CHECK_OK(mrcnn_emu_copy_to_device(fb, in.boxes.data(), in.boxes.size() * sizeof(float), nullptr));
  CHECK_OK(mrcnn_emu_copy_to_device(ds, in.scores.data(), in.scores.size() * sizeof(float), nullptr));
  CHECK_OK(mrcnn_emu_box_filter(fb, t.with_scores ? (const float*)ds : nullptr, t.n, t.min_size, t.thresh, t.strict,
                                (int64_t*)dk, (int*)dc, dw, wsb, nullptr));
  int count = -1;
  CHECK_OK(mrcnn_emu_copy_to_host(&count, dc, sizeof(int), nullptr));
  std::vector<int64_t> keep(count > 0 ? count : 0);
  CHECK(count >= 0 && count <= t.n);
  if (count > 0) CHECK_OK(mrcnn_emu_copy_to_host(keep.data(), dk, count * sizeof(int64_t), nullptr));
  for (void* p : {db, ds, dk, dc, dw}) mrcnn_emu_free(p);
  return keep;
}

}  // namespace

MRCNN_TEST(box_filter_cpu_matches_reference) {
  Rng rng(51);
  for (const Case& t : kCases) {
    const Input in = make_input(rng, t);
    if (run_cpu(t, in) != reference(t, in)) {
      fprintf(stderr, "  case %s\n", t.name);
      CHECK(false);
    }
  }
}

MRCNN_TEST(box_filter_emulated_matches_cpu) {
  Rng rng(52);
  for (const Case& t : kCases) {
    const Input in = make_input(rng, t);
    const std::vector<int64_t> cpu = run_cpu(t, in);
    for (int shift : {0, 1}) {
      if (t.n > 100000 && shift) continue;  // one misaligned run of the big case is enough: skip it
      if (run_emu(t, in, shift) != cpu) {
        fprintf(stderr, "  case %s shift %d\n", t.name, shift);
        CHECK(false);
      }
    }
  }
}

MRCNN_TEST(box_filter_thresholds_and_nan) {
  // Box 0: w = h = 1 exactly at min_size, score at the threshold: kept by >=, dropped by >.
  const float boxes[12] = {0, 0, 1, 1,  0, 0, NAN, 2,  0, 0, 2, 2};
  const float scores[3] = {0.25f, 0.9f, NAN};
  int64_t keep[3];
  int count = -1;
  CHECK_OK(mrcnn_cpu_box_filter(boxes, scores, 3, 1.0f, 0.25f, 0, keep, &count, nullptr, 0, nullptr));
  CHECK(count == 1 && keep[0] == 0);
  CHECK_OK(mrcnn_cpu_box_filter(boxes, scores, 3, 1.0f, 0.25f, 1, keep, &count, nullptr, 0, nullptr));
  CHECK(count == 0);
  CHECK_OK(mrcnn_cpu_box_filter(boxes, nullptr, 3, 1.0f, 0.25f, 1, keep, &count, nullptr, 0, nullptr));
  CHECK(count == 2 && keep[0] == 0 && keep[1] == 2);
}

MRCNN_TEST(box_filter_empty_and_bad_arguments) {
  float boxes[16] = {}, scores[4] = {};
  int64_t keep[4];
  int count = -1;
  char ws[4096];
  CHECK_OK(mrcnn_cpu_box_filter(nullptr, nullptr, 0, 0.f, 0.f, 0, nullptr, &count, nullptr, 0, nullptr));
  CHECK(count == 0);
  void* dc = nullptr;
  CHECK_OK(mrcnn_emu_malloc(sizeof(int), &dc));  // filled with 0xFF: must be overwritten with 0
  CHECK_OK(mrcnn_emu_box_filter(nullptr, nullptr, 0, 0.f, 0.f, 0, nullptr, (int*)dc, ws, sizeof ws, nullptr));
  CHECK_OK(mrcnn_emu_copy_to_host(&count, dc, sizeof(int), nullptr));
  CHECK(count == 0);
  mrcnn_emu_free(dc);
  auto bad = [&](int st) { CHECK(st == MRCNN_ERR_INVALID_ARGUMENT); };
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_box_filter : mrcnn_emu_box_filter;
    bad(f(boxes, scores, -1, 0.f, 0.f, 0, keep, &count, ws, sizeof ws, nullptr));
    bad(f(boxes, scores, 4, NAN, 0.f, 0, keep, &count, ws, sizeof ws, nullptr));
    bad(f(boxes, scores, 4, 0.f, NAN, 0, keep, &count, ws, sizeof ws, nullptr));
    bad(f(nullptr, scores, 4, 0.f, 0.f, 0, keep, &count, ws, sizeof ws, nullptr));
    bad(f(boxes, scores, 4, 0.f, 0.f, 0, nullptr, &count, ws, sizeof ws, nullptr));
    bad(f(boxes, scores, 4, 0.f, 0.f, 0, keep, nullptr, ws, sizeof ws, nullptr));
    bad(f(boxes, scores, 4, 0.f, 0.f, 0, (int64_t*)boxes, &count, ws, sizeof ws, nullptr));  // keep overlaps boxes
    bad(f(boxes, scores, 4, 0.f, 0.f, 0, keep, (int*)keep, ws, sizeof ws, nullptr));         // count inside keep
  }
  CHECK(mrcnn_emu_box_filter(boxes, scores, 4, 0.f, 0.f, 0, keep, &count, ws, 4, nullptr) ==
        MRCNN_ERR_WORKSPACE_TOO_SMALL);
}
