// softmax native tests: CPU against a double-precision reference, and emulated CUDA (one
// warp per row, shuffle reductions) against the CPU: row lengths around the warp size and
// the box head's 91 classes, wide value ranges (exp underflow), rows with NaN, -inf and
// +inf entries, in place (y == x), empty shapes and bad calls.
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/softmax.h"
#include "small_ops_testing.h"

namespace {

using mrcnn_check::Rng;
using small_ops_testing::EmuFloats;

// Tolerance, relative to |y|, for a row of `cols` values. With an expf of at most k ulp
// error, every e_j is within k 2^-23 of exact; their float sum within a further
// (cols - 1) 2^-24 (positive terms, any order); the reciprocal and the product add one
// rounding each: y is within (2k 2^-24 + 2k 2^-24 + (cols - 1) 2^-24 + 2 2^-24)
// = (cols + 4k + 1) 2^-24 of exact. Against the double reference k = 1 (libm); between
// two backends k = 1 and k = 2 (CUDA's expf), i.e. (2 cols + 14) 2^-24 = (cols + 7) 2^-23.
// Results below FLT_MIN are subnormal, without relative precision: absolute FLT_MIN there.
constexpr double kU = 5.9604644775390625e-08;  // 2^-24
constexpr double kAbs = 1.1754943508222875e-38;  // FLT_MIN
double tol_vs_exact(int cols) { return (cols + 5) * kU; }
double tol_backends(int cols) { return (2.0 * cols + 14) * kU; }

struct Case { int rows, cols; float range; };
const Case kCases[] = {{3, 1, 5}, {4, 2, 5}, {5, 31, 10}, {3, 32, 10}, {7, 33, 10},
                       {9, 91, 8}, {2, 200, 60}, {2, 1000, 120}};

std::vector<float> inputs(Rng& rng, const Case& t) {
  std::vector<float> v((size_t)t.rows * t.cols);
  for (float& x : v) x = rng.uniform(-t.range, t.range);
  return v;
}

bool close(float want, float got, double rel) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  return std::fabs((double)want - got) <= rel * std::fabs((double)want) + kAbs;
}

std::vector<float> reference(const std::vector<float>& x, int rows, int cols) {
  std::vector<float> y(x.size());
  for (int r = 0; r < rows; ++r) {
    const float* xr = &x[(size_t)r * cols];
    double m = -INFINITY, s = 0;
    bool nan = false;
    for (int j = 0; j < cols; ++j) { nan |= std::isnan(xr[j]); m = std::max(m, (double)xr[j]); }
    for (int j = 0; j < cols; ++j) s += std::exp((double)xr[j] - m);
    for (int j = 0; j < cols; ++j)
      y[(size_t)r * cols + j] = nan || std::isinf(m) ? NAN : (float)(std::exp((double)xr[j] - m) / s);
  }
  return y;
}

std::vector<float> run_emu(const std::vector<float>& x, int rows, int cols, bool in_place) {
  EmuFloats dx(x, 0), dy(x.size(), 0);
  float* fy = in_place ? dx.p : dy.p;
  CHECK_OK(mrcnn_emu_softmax(dx.p, rows, cols, fy, nullptr));
  return dy.download(fy);
}

int count_mismatches(const std::vector<float>& want, const std::vector<float>& got, double rel) {
  int bad = 0;
  for (size_t i = 0; i < want.size(); ++i)
    if (!close(want[i], got[i], rel) && bad++ < 5)
      fprintf(stderr, "  element %zu: %.9g, expected %.9g\n", i, got[i], want[i]);
  return bad;
}

}  // namespace

MRCNN_TEST(softmax_cpu_matches_double_reference) {
  Rng rng(51);
  for (const Case& t : kCases) {
    const std::vector<float> x = inputs(rng, t);
    std::vector<float> y(x.size(), 1234.f), z = x;
    CHECK_OK(mrcnn_cpu_softmax(x.data(), t.rows, t.cols, y.data(), nullptr));
    CHECK_OK(mrcnn_cpu_softmax(z.data(), t.rows, t.cols, z.data(), nullptr));  // in place
    CHECK(count_mismatches(reference(x, t.rows, t.cols), y, tol_vs_exact(t.cols)) == 0);
    CHECK(std::memcmp(y.data(), z.data(), y.size() * sizeof(float)) == 0);
  }
}

MRCNN_TEST(softmax_special_rows_follow_torch) {
  // Row 0: a NaN -> all NaN. Row 1: -inf entries -> exactly 0 there. Row 2: all -inf -> NaN.
  // Row 3: a +inf -> NaN (inf - inf). Row 4: equal values -> uniform.
  const float inf = INFINITY;
  std::vector<float> x = {1, NAN, 2, 3,   -inf, 0, -inf, 0,   -inf, -inf, -inf, -inf,
                          1, inf, 2, 3,   7, 7, 7, 7};
  for (int backend = 0; backend < 2; ++backend) {
    std::vector<float> y(x.size());
    if (backend == 0)
      CHECK_OK(mrcnn_cpu_softmax(x.data(), 5, 4, y.data(), nullptr));
    else
      y = run_emu(x, 5, 4, false);
    for (int j = 0; j < 4; ++j) {
      CHECK(std::isnan(y[j]));
      CHECK(std::isnan(y[8 + j]));
      CHECK(std::isnan(y[12 + j]));
      CHECK(y[16 + j] == 0.25f);
    }
    CHECK(y[4] == 0.f && y[6] == 0.f && y[5] == 0.5f && y[7] == 0.5f);
  }
}

MRCNN_TEST(softmax_emulated_matches_cpu) {
  const long long misuse_before = mrcnn_emu_error_count();
  Rng rng(52);
  for (const Case& t : kCases) {
    const std::vector<float> x = inputs(rng, t);
    std::vector<float> cpu(x.size());
    CHECK_OK(mrcnn_cpu_softmax(x.data(), t.rows, t.cols, cpu.data(), nullptr));
    for (int in_place = 0; in_place < 2; ++in_place) {
      const int bad = count_mismatches(cpu, run_emu(x, t.rows, t.cols, in_place), tol_backends(t.cols));
      if (bad) fprintf(stderr, "  %dx%d in_place %d\n", t.rows, t.cols, in_place);
      CHECK(bad == 0);
    }
  }
  CHECK(mrcnn_emu_error_count() == misuse_before);  // no emulator misuse reports
}

MRCNN_TEST(softmax_empty_and_bad_arguments) {
  float x[8] = {};
  CHECK_OK(mrcnn_cpu_softmax(nullptr, 0, 5, nullptr, nullptr));
  CHECK_OK(mrcnn_emu_softmax(nullptr, 3, 0, nullptr, nullptr));
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_softmax : mrcnn_emu_softmax;
    CHECK(f(x, -1, 2, x, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 2, -1, x, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(nullptr, 2, 2, x, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 2, 2, nullptr, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 2, 2, x + 1, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  }
}
