// topk native tests: the CPU kernel against a plain reference (stable sort by value
// descending, NaN first, -0 == +0, then the first k), and the emulated CUDA kernel against
// the CPU, values bit for bit and indices exactly. Cases: random rows, heavy ties (a few
// distinct values, all equal), NaN / inf / signed zeros, k = 1 and k = n, a row stride
// larger than n, an RPN-sized row (182,400 anchors, k = 1000: many blocks per row), and k
// above 4096 (the multi-pass bitonic sort), empty calls and bad arguments.
#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/topk.h"

namespace {

using mrcnn_check::Rng;

enum Kind { kUniform, kFewValues, kAllEqual, kSpecial };

struct Case {
  const char* name;
  int rows, n, ld, k;
  Kind kind;
};

const Case kCases[] = {
    {"random_3x1000_k50", 3, 1000, 1000, 50, kUniform},
    {"few_values_ties_2x3000_k700", 2, 3000, 3001, 700, kFewValues},
    {"all_equal_k9", 1, 500, 500, 9, kAllEqual},
    {"special_values", 2, 777, 800, 400, kSpecial},
    {"k_equals_n", 2, 37, 40, 37, kUniform},
    {"k1", 4, 333, 333, 1, kSpecial},
    {"n1", 3, 1, 5, 1, kUniform},
    {"rpn_level_p2", 1, 182400, 182400, 1000, kUniform},
    {"k5000_global_sort", 1, 9000, 9000, 5000, kFewValues},
    {"k9000_global_sort_two_merges", 1, 20000, 20000, 9000, kSpecial},
};

std::vector<float> make_input(Rng& rng, const Case& t) {
  std::vector<float> x((size_t)t.rows * t.ld, -777.f);  // the gap between n and ld must not be read
  for (int r = 0; r < t.rows; ++r)
    for (int i = 0; i < t.n; ++i) {
      float v;
      switch (t.kind) {
        case kFewValues: v = (float)rng.below(6) - 2.f; break;
        case kAllEqual: v = 1.5f; break;
        case kSpecial: {
          const int s = rng.below(20);
          v = s == 0 ? NAN : s == 1 ? INFINITY : s == 2 ? -INFINITY : s == 3 ? 0.f : s == 4 ? -0.f
              : s == 5 ? 1e-40f : rng.uniform(-3.f, 3.f);
          break;
        }
        default: v = rng.uniform(-10.f, 10.f);
      }
      x[(size_t)r * t.ld + i] = v;
    }
  return x;
}

// torch's order with ties broken by the lower index.
bool before(float a, int ia, float b, int ib) {
  const bool na = std::isnan(a), nb = std::isnan(b);
  if (na != nb) return na;
  if (!na && a != b) return a > b;
  return ia < ib;
}

void reference(const Case& t, const std::vector<float>& x, std::vector<float>& vals, std::vector<int64_t>& idx) {
  vals.assign((size_t)t.rows * t.k, 0.f);
  idx.assign((size_t)t.rows * t.k, 0);
  std::vector<int> order(t.n);
  for (int r = 0; r < t.rows; ++r) {
    const float* row = &x[(size_t)r * t.ld];
    std::iota(order.begin(), order.end(), 0);
    std::sort(order.begin(), order.end(), [&](int a, int b) { return before(row[a], a, row[b], b); });
    for (int j = 0; j < t.k; ++j) {
      vals[(size_t)r * t.k + j] = row[order[j]];
      idx[(size_t)r * t.k + j] = order[j];
    }
  }
}

// Equal elements: floats bit for bit (any NaN equals any NaN), indices exactly.
bool same_element(float a, float b) { return (std::isnan(a) && std::isnan(b)) || std::memcmp(&a, &b, sizeof a) == 0; }
bool same_element(int64_t a, int64_t b) { return a == b; }

template <class T>
bool same(const std::vector<T>& a, const std::vector<T>& b, const char* what) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (!same_element(a[i], b[i])) {
      fprintf(stderr, "  %s %zu: %.9g vs %.9g\n", what, i, (double)a[i], (double)b[i]);
      return false;
    }
  return true;
}

void run_cpu(const Case& t, const std::vector<float>& x, std::vector<float>& vals, std::vector<int64_t>& idx) {
  vals.assign((size_t)t.rows * t.k, 1234.f);
  idx.assign((size_t)t.rows * t.k, -5);
  std::vector<char> ws(mrcnn_cpu_topk_workspace_size(t.rows, t.n, t.k));
  CHECK_OK(mrcnn_cpu_topk(x.data(), t.rows, t.n, t.ld, t.k, vals.data(), idx.data(), ws.data(), ws.size(), nullptr));
}

void run_emu(const Case& t, const std::vector<float>& x, std::vector<float>& vals, std::vector<int64_t>& idx) {
  const size_t nk = (size_t)t.rows * t.k;
  const size_t wsb = mrcnn_emu_topk_workspace_size(t.rows, t.n, t.k);
  void *dx = nullptr, *dv = nullptr, *di = nullptr, *dw = nullptr;
  CHECK_OK(mrcnn_emu_malloc(x.size() * sizeof(float), &dx));
  CHECK_OK(mrcnn_emu_malloc(nk * sizeof(float), &dv));
  CHECK_OK(mrcnn_emu_malloc(nk * sizeof(int64_t), &di));
  CHECK_OK(mrcnn_emu_malloc(wsb, &dw));
  CHECK_OK(mrcnn_emu_copy_to_device(dx, x.data(), x.size() * sizeof(float), nullptr));
  CHECK_OK(mrcnn_emu_topk((const float*)dx, t.rows, t.n, t.ld, t.k, (float*)dv, (int64_t*)di, dw, wsb, nullptr));
  vals.assign(nk, 0.f);
  idx.assign(nk, 0);
  CHECK_OK(mrcnn_emu_copy_to_host(vals.data(), dv, nk * sizeof(float), nullptr));
  CHECK_OK(mrcnn_emu_copy_to_host(idx.data(), di, nk * sizeof(int64_t), nullptr));
  for (void* p : {dx, dv, di, dw}) mrcnn_emu_free(p);
}

typedef void (*Runner)(const Case&, const std::vector<float>&, std::vector<float>&, std::vector<int64_t>&);

// Every case through `expected` and `actual`: the same values (bits) and indices.
void compare(uint64_t seed, Runner expected, Runner actual) {
  Rng rng(seed);
  for (const Case& t : kCases) {
    const std::vector<float> x = make_input(rng, t);
    std::vector<float> ev, av;
    std::vector<int64_t> ei, ai;
    expected(t, x, ev, ei);
    actual(t, x, av, ai);
    if (!same(ev, av, "value") || !same(ei, ai, "index")) {
      fprintf(stderr, "  case %s\n", t.name);
      CHECK(false);
    }
  }
}

}  // namespace

MRCNN_TEST(topk_cpu_matches_reference) { compare(41, reference, run_cpu); }

MRCNN_TEST(topk_emulated_matches_cpu) { compare(42, run_cpu, run_emu); }

MRCNN_TEST(topk_order_of_special_values) {
  // NaN first, then +inf, ...; -0 and +0 tie (lower index first); values keep their bits.
  const float x[7] = {-0.f, 1.f, NAN, 0.f, -INFINITY, INFINITY, 1.f};
  float v[7];
  int64_t i[7];
  std::vector<char> ws(mrcnn_cpu_topk_workspace_size(1, 7, 7));
  CHECK_OK(mrcnn_cpu_topk(x, 1, 7, 7, 7, v, i, ws.data(), ws.size(), nullptr));
  const int64_t want[7] = {2, 5, 1, 6, 0, 3, 4};
  for (int j = 0; j < 7; ++j) CHECK(i[j] == want[j]);
  CHECK(std::signbit(v[4]) && !std::signbit(v[5]));
}

MRCNN_TEST(topk_empty_and_bad_arguments) {
  float x[64] = {}, v[64];
  int64_t idx[64];
  static char ws[1 << 15];  // enough for every backend at rows = 1, k = 2
  CHECK_OK(mrcnn_cpu_topk(nullptr, 0, 10, 10, 3, nullptr, nullptr, nullptr, 0, nullptr));
  CHECK_OK(mrcnn_emu_topk(nullptr, 3, 10, 10, 0, nullptr, nullptr, nullptr, 0, nullptr));
  CHECK(mrcnn_cpu_topk_workspace_size(0, 10, 3) == 0 && mrcnn_emu_topk_workspace_size(2, 10, 0) == 0);
  auto bad = [&](int st) { CHECK(st == MRCNN_ERR_INVALID_ARGUMENT); };
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_topk : mrcnn_emu_topk;
    bad(f(x, 1, 8, 8, 9, v, idx, ws, sizeof ws, nullptr));    // k > n
    bad(f(x, 1, 8, 8, -1, v, idx, ws, sizeof ws, nullptr));   // k < 0
    bad(f(x, -1, 8, 8, 2, v, idx, ws, sizeof ws, nullptr));   // rows < 0
    bad(f(x, 2, 8, 7, 2, v, idx, ws, sizeof ws, nullptr));    // ld < n
    bad(f(nullptr, 1, 8, 8, 2, v, idx, ws, sizeof ws, nullptr));
    bad(f(x, 1, 8, 8, 2, nullptr, idx, ws, sizeof ws, nullptr));
    bad(f(x, 1, 8, 8, 2, x + 6, idx, ws, sizeof ws, nullptr));        // values overlap input
    bad(f(x, 1, 8, 8, 2, v, (int64_t*)v, ws, sizeof ws, nullptr));     // indices overlap values
    CHECK(f(x, 1, 8, 8, 2, v, idx, ws, 8, nullptr) == MRCNN_ERR_WORKSPACE_TOO_SMALL);
  }
}
