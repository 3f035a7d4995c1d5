// depth_to_space_2x2 native tests: CPU against a naive reference and emulated CUDA against
// the CPU, bit for bit (a permutation plus torch.relu's select), with and without ReLU, on
// ragged channel counts and multiples of 4 (scalar and float4 CUDA paths), misaligned
// pointers, NaN / signed zeros, a 1x1 map, the mask head's 14x14 map, empty shapes and bad
// calls. The Java test composes conv2d with this op and checks it against torch's
// ConvTranspose2d.
#include <cmath>
#include <vector>

#include "check.h"
#include "mrcnn/depth_to_space_2x2.h"
#include "mrcnn/device.h"
#include "small_ops_testing.h"

namespace {

using mrcnn_check::Rng;
using small_ops_testing::EmuFloats;
using small_ops_testing::same_bits;

struct Case { int n, h, w, c_out; };
const Case kCases[] = {{2, 3, 5, 7}, {1, 4, 4, 8}, {1, 1, 1, 1}, {1, 14, 14, 3}, {2, 2, 3, 12}};

std::vector<float> inputs(Rng& rng, size_t count) {
  std::vector<float> v(count);
  for (float& x : v) {
    const int k = rng.below(30);
    x = k == 0 ? NAN : k == 1 ? -0.f : k == 2 ? 0.f : k == 3 ? -INFINITY : rng.uniform(-2.f, 2.f);
  }
  return v;
}

std::vector<float> reference(const Case& t, const std::vector<float>& x, bool relu) {
  std::vector<float> y((size_t)t.n * 4 * t.h * t.w * t.c_out);
  for (int b = 0; b < t.n; ++b)
    for (int yy = 0; yy < t.h; ++yy)
      for (int xx = 0; xx < t.w; ++xx)
        for (int dy = 0; dy < 2; ++dy)
          for (int dx = 0; dx < 2; ++dx)
            for (int co = 0; co < t.c_out; ++co) {
              float v = x[(((size_t)b * t.h + yy) * t.w + xx) * 4 * t.c_out + (dy * 2 + dx) * t.c_out + co];
              if (relu && v < 0) v = 0.f;  // torch.relu keeps NaN and -0
              y[(((size_t)b * 2 * t.h + 2 * yy + dy) * 2 * t.w + 2 * xx + dx) * t.c_out + co] = v;
            }
  return y;
}

std::vector<float> run_emu(const Case& t, const std::vector<float>& x, bool relu, int shift) {
  EmuFloats dx(x, shift), dy(x.size(), shift);
  CHECK_OK(mrcnn_emu_depth_to_space_2x2(dx.p, t.n, t.h, t.w, t.c_out, dy.p, relu, nullptr));
  return dy.download();
}

}  // namespace

MRCNN_TEST(depth_to_space_2x2_cpu_matches_reference) {
  Rng rng(61);
  for (const Case& t : kCases) {
    const std::vector<float> x = inputs(rng, (size_t)t.n * t.h * t.w * 4 * t.c_out);
    for (int relu = 0; relu < 2; ++relu) {
      std::vector<float> y(x.size(), 1234.f);
      CHECK_OK(mrcnn_cpu_depth_to_space_2x2(x.data(), t.n, t.h, t.w, t.c_out, y.data(), relu, nullptr));
      if (!same_bits(reference(t, x, relu), y)) {
        fprintf(stderr, "  case %dx%dx%dx%d relu %d\n", t.n, t.h, t.w, t.c_out, relu);
        CHECK(false);
      }
    }
  }
}

MRCNN_TEST(depth_to_space_2x2_emulated_matches_cpu) {
  const long long misuse_before = mrcnn_emu_error_count();
  Rng rng(62);
  for (const Case& t : kCases) {
    const std::vector<float> x = inputs(rng, (size_t)t.n * t.h * t.w * 4 * t.c_out);
    for (int relu = 0; relu < 2; ++relu) {
      std::vector<float> cpu(x.size());
      CHECK_OK(mrcnn_cpu_depth_to_space_2x2(x.data(), t.n, t.h, t.w, t.c_out, cpu.data(), relu, nullptr));
      for (int shift : {0, 1}) {
        if (!same_bits(cpu, run_emu(t, x, relu, shift))) {
          fprintf(stderr, "  case %dx%dx%dx%d relu %d shift %d\n", t.n, t.h, t.w, t.c_out, relu, shift);
          CHECK(false);
        }
      }
    }
  }
  CHECK(mrcnn_emu_error_count() == misuse_before);  // no emulator misuse reports
}

MRCNN_TEST(depth_to_space_2x2_empty_and_bad_arguments) {
  float x[16] = {}, y[16] = {};
  CHECK_OK(mrcnn_cpu_depth_to_space_2x2(nullptr, 0, 3, 3, 2, nullptr, 1, nullptr));
  CHECK_OK(mrcnn_emu_depth_to_space_2x2(nullptr, 1, 3, 3, 0, nullptr, 0, nullptr));
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_depth_to_space_2x2 : mrcnn_emu_depth_to_space_2x2;
    CHECK(f(x, -1, 1, 1, 1, y, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 1, 1, 1, -1, y, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(nullptr, 1, 1, 1, 1, y, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 1, 1, 1, 1, nullptr, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 1, 1, 1, 2, x + 4, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);  // overlap
  }
}
