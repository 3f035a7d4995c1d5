// add_relu native tests: CPU against a naive reference and emulated CUDA against the CPU,
// bit for bit (one correctly rounded add, then a select): counts that exercise the vector
// bodies and tails (0, 1, 3, 4, 5, ..., several OpenMP blocks), misaligned pointers, every
// in-place form (out == a, out == b, out == a == b), with and without ReLU, on inputs with
// NaN, +-inf (inf + -inf = NaN) and signed zeros (relu keeps -0 and NaN, as torch.relu).
#include <cmath>
#include <vector>

#include "check.h"
#include "mrcnn/add_relu.h"
#include "mrcnn/device.h"
#include "small_ops_testing.h"

namespace {

using mrcnn_check::Rng;
using small_ops_testing::EmuFloats;
using small_ops_testing::same_bits;

const size_t kCounts[] = {1, 3, 4, 5, 17, 1000, 2 * 16384 + 7};

std::vector<float> special(Rng& rng, size_t count) {
  std::vector<float> v(count);
  for (float& x : v) {
    const int k = rng.below(30);
    x = k == 0 ? NAN : k == 1 ? INFINITY : k == 2 ? -INFINITY : k == 3 ? 0.f : k == 4 ? -0.f
        : rng.uniform(-2.f, 2.f);
  }
  return v;
}

float ref(float a, float b, int relu) {
  float s = a + b;
  return relu && s < 0 ? 0.f : s;  // torch.relu: max(s, 0) with s first (NaN, -0 stay)
}

// form 0: out separate; 1: out == a; 2: out == b; 3: a == b == out.
std::vector<float> run_cpu(std::vector<float> a, std::vector<float> b, int relu, int form) {
  std::vector<float> out(a.size(), 1234.f);
  float* o = form == 0 ? out.data() : form == 2 ? b.data() : a.data();
  const float* pa = a.data();
  const float* pb = form == 3 ? a.data() : b.data();
  CHECK_OK(mrcnn_cpu_add_relu(pa, pb, o, a.size(), relu, nullptr));
  return std::vector<float>(o, o + a.size());
}

std::vector<float> run_emu(const std::vector<float>& a, const std::vector<float>& b, int relu,
                           int form, int shift) {
  EmuFloats da(a, shift), db(b, shift), dout(a.size(), shift);
  float* o = form == 0 ? dout.p : form == 2 ? db.p : da.p;
  CHECK_OK(mrcnn_emu_add_relu(da.p, form == 3 ? da.p : db.p, o, a.size(), relu, nullptr));
  return dout.download(o);
}

}  // namespace

MRCNN_TEST(add_relu_cpu_matches_reference) {
  Rng rng(31);
  for (size_t n : kCounts) {
    const std::vector<float> a = special(rng, n), b = special(rng, n);
    for (int relu = 0; relu < 2; ++relu)
      for (int form = 0; form < 4; ++form) {
        std::vector<float> want(n);
        for (size_t i = 0; i < n; ++i) want[i] = ref(a[i], form == 3 ? a[i] : b[i], relu);
        if (!same_bits(want, run_cpu(a, b, relu, form))) {
          fprintf(stderr, "  count %zu relu %d form %d\n", n, relu, form);
          CHECK(false);
        }
      }
  }
}

MRCNN_TEST(add_relu_emulated_matches_cpu) {
  const long long misuse_before = mrcnn_emu_error_count();
  Rng rng(32);
  for (size_t n : kCounts) {
    if (n > 5000) continue;  // the emulator is slow; the CPU test covers the OpenMP blocks
    const std::vector<float> a = special(rng, n), b = special(rng, n);
    for (int relu = 0; relu < 2; ++relu)
      for (int form = 0; form < 4; ++form)
        for (int shift : {0, 1}) {
          if (!same_bits(run_cpu(a, b, relu, form), run_emu(a, b, relu, form, shift))) {
            fprintf(stderr, "  count %zu relu %d form %d shift %d\n", n, relu, form, shift);
            CHECK(false);
          }
        }
  }
  CHECK(mrcnn_emu_error_count() == misuse_before);  // no emulator misuse reports
}

MRCNN_TEST(add_relu_empty_and_bad_arguments) {
  float x[8] = {}, y[8] = {};
  CHECK_OK(mrcnn_cpu_add_relu(nullptr, nullptr, nullptr, 0, 1, nullptr));
  CHECK_OK(mrcnn_emu_add_relu(nullptr, nullptr, nullptr, 0, 0, nullptr));
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_add_relu : mrcnn_emu_add_relu;
    CHECK(f(nullptr, y, y, 4, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, nullptr, y, 4, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, y, nullptr, 4, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, y, x + 1, 4, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);  // partly overlaps a
    CHECK(f(x, y, y + 2, 4, 1, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);  // partly overlaps b
  }
}
