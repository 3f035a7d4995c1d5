// A minimal test framework for the native test runner (native/tests/*.cpp, *.cu).
//   MRCNN_TEST(roi_align_emu_matches_cpu) { ...; CHECK(x); CHECK_NEAR(a, b, tol); }
// Tests register themselves; main() in runner.cpp runs them all (or those whose name
// contains argv[1]) and prints "N passed, N failed". A failing CHECK records the failure
// and continues, so one run shows every mismatch.
#pragma once
#include <cmath>
#include <cstdio>
#include <cstdint>
#include <vector>

namespace mrcnn_check {
struct TestCase { const char* name; void (*fn)(); };
std::vector<TestCase>& registry();
void record_failure(const char* file, int line, const char* what);
int failures_in_current_test();
struct Registrar { Registrar(const char* name, void (*fn)()) { registry().push_back({name, fn}); } };

// Deterministic inputs without <random>'s platform-dependent distributions.
struct Rng {
  uint64_t s;
  explicit Rng(uint64_t seed) : s(seed * 0x9E3779B97F4A7C15ull + 1) {}
  uint32_t next() { s ^= s << 13; s ^= s >> 7; s ^= s << 17; return (uint32_t)(s >> 32); }
  float uniform(float lo, float hi) { return lo + (hi - lo) * (next() / 4294967296.0f); }
  int below(int n) { return (int)(next() % (uint32_t)n); }
};

// Max |a-b| over n elements, with the index of the worst one for messages.
inline double max_abs_diff(const float* a, const float* b, size_t n, size_t* where = nullptr) {
  double m = 0; size_t at = 0;
  for (size_t i = 0; i < n; ++i) {
    double d = std::fabs((double)a[i] - (double)b[i]);
    if (d > m || (std::isnan(d) && !std::isnan(m))) { m = d; at = i; }
    if (std::isnan(a[i]) != std::isnan(b[i])) { m = INFINITY; at = i; }
  }
  if (where) *where = at;
  return m;
}
}  // namespace mrcnn_check

#define MRCNN_TEST(name)                                                           \
  static void mrcnn_test_##name();                                                 \
  static mrcnn_check::Registrar mrcnn_registrar_##name(#name, mrcnn_test_##name);  \
  static void mrcnn_test_##name()

#define CHECK(cond)                                                                \
  do { if (!(cond)) mrcnn_check::record_failure(__FILE__, __LINE__, #cond); } while (0)

#define CHECK_NEAR(a, b, tol)                                                      \
  do { double a_ = (a), b_ = (b);                                                  \
       if (!(std::fabs(a_ - b_) <= (tol))) {                                       \
         char m_[256]; snprintf(m_, sizeof m_, "%s = %.9g vs %s = %.9g (tol %g)",  \
                                #a, a_, #b, b_, (double)(tol));                   \
         mrcnn_check::record_failure(__FILE__, __LINE__, m_); } } while (0)

// Status check for mrcnn_* calls: prints the status and the detail message.
#define CHECK_OK(call)                                                             \
  do { int st_ = (call); if (st_ != 0) {                                           \
         char m_[512]; snprintf(m_, sizeof m_, "%s -> %s: %s", #call,               \
                                mrcnn_status_string(st_), mrcnn_last_error());      \
         mrcnn_check::record_failure(__FILE__, __LINE__, m_); } } while (0)
