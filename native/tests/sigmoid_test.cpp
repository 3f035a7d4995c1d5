// sigmoid native tests: CPU against a double-precision reference, and emulated CUDA
// against the CPU, on counts that exercise vector bodies and tails, misaligned pointers,
// in place (y == x), large |x| (exp overflow/underflow: results 0 and 1 exactly, and
// subnormal results) and NaN/+-inf.
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/sigmoid.h"
#include "small_ops_testing.h"

namespace {

using mrcnn_check::Rng;
using small_ops_testing::EmuFloats;

// Tolerance, relative to |y|. A float32 evaluation of 1 / (1 + exp(-x)) with an expf of
// at most 2 ulp error (CUDA's bound; libm's is < 1) carries that 2-ulp relative error into
// y (|dy/y| = e/(1+e) |de/e| <= |de/e|) plus two roundings: within 3 * 2^-23 of the exact
// value; the double-precision reference is exact to float precision. Results below
// FLT_MIN are subnormal and have no relative precision: absolute FLT_MIN there.
constexpr double kRel = 3 * 1.1920928955078125e-07;
constexpr double kAbs = 1.1754943508222875e-38;  // FLT_MIN

const size_t kCounts[] = {1, 3, 4, 5, 17, 1000, 3 * 4096 + 5};

std::vector<float> inputs(Rng& rng, size_t count) {
  std::vector<float> v(count);
  for (float& x : v) {
    const int k = rng.below(40);
    x = k == 0 ? NAN : k == 1 ? INFINITY : k == 2 ? -INFINITY : k == 3 ? rng.uniform(-110.f, -80.f)
        : k == 4 ? rng.uniform(80.f, 110.f) : k == 5 ? -0.f : rng.uniform(-12.f, 12.f);
  }
  return v;
}

bool close(float want, float got, double rel) {
  if (std::isnan(want) || std::isnan(got)) return std::isnan(want) && std::isnan(got);
  return std::fabs((double)want - got) <= rel * std::fabs((double)want) + kAbs;
}

std::vector<float> run_emu(const std::vector<float>& x, bool in_place, int shift) {
  EmuFloats dx(x, shift), dy(x.size(), shift);
  float* fy = in_place ? dx.p : dy.p;
  CHECK_OK(mrcnn_emu_sigmoid(dx.p, fy, x.size(), nullptr));
  return dy.download(fy);
}

}  // namespace

MRCNN_TEST(sigmoid_cpu_matches_double_reference) {
  Rng rng(41);
  for (size_t n : kCounts) {
    const std::vector<float> x = inputs(rng, n);
    std::vector<float> y(n, 1234.f), z = x;
    CHECK_OK(mrcnn_cpu_sigmoid(x.data(), y.data(), n, nullptr));
    CHECK_OK(mrcnn_cpu_sigmoid(z.data(), z.data(), n, nullptr));  // in place
    int bad = 0;
    for (size_t i = 0; i < n; ++i) {
      const float want = (float)(1.0 / (1.0 + std::exp(-(double)x[i])));
      if (!close(want, y[i], kRel) && bad++ < 5)
        fprintf(stderr, "  x=%.9g: %.9g, expected %.9g\n", x[i], y[i], want);
    }
    CHECK(bad == 0);
    CHECK(std::memcmp(y.data(), z.data(), n * sizeof(float)) == 0);
  }
  float edge[3] = {-INFINITY, INFINITY, 0.f};
  CHECK_OK(mrcnn_cpu_sigmoid(edge, edge, 3, nullptr));
  CHECK(edge[0] == 0.f && edge[1] == 1.f && edge[2] == 0.5f);
}

MRCNN_TEST(sigmoid_emulated_matches_cpu) {
  const long long misuse_before = mrcnn_emu_error_count();
  Rng rng(42);
  for (size_t n : kCounts) {
    if (n > 5000) continue;  // emulation is slow; the CPU test covers the OpenMP blocks
    const std::vector<float> x = inputs(rng, n);
    std::vector<float> cpu(n);
    CHECK_OK(mrcnn_cpu_sigmoid(x.data(), cpu.data(), n, nullptr));
    for (int in_place = 0; in_place < 2; ++in_place)
      for (int shift : {0, 1}) {
        const std::vector<float> emu = run_emu(x, in_place, shift);
        int bad = 0;
        for (size_t i = 0; i < n; ++i) bad += !close(cpu[i], emu[i], 2 * kRel);
        if (bad) fprintf(stderr, "  count %zu in_place %d shift %d: %d mismatches\n", n, in_place, shift, bad);
        CHECK(bad == 0);
      }
  }
  CHECK(mrcnn_emu_error_count() == misuse_before);  // no emulator misuse reports
}

MRCNN_TEST(sigmoid_empty_and_bad_arguments) {
  float x[8] = {};
  CHECK_OK(mrcnn_cpu_sigmoid(nullptr, nullptr, 0, nullptr));
  CHECK_OK(mrcnn_emu_sigmoid(nullptr, nullptr, 0, nullptr));
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_sigmoid : mrcnn_emu_sigmoid;
    CHECK(f(nullptr, x, 4, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, nullptr, 4, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, x + 1, 4, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  }
}
