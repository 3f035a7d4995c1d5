// max_pool2d native tests: the CPU kernel against a naive reference (torch's rule written
// out independently here), and the emulated CUDA kernel against the CPU, bit for bit: max
// pooling only selects, so every backend must return exactly the selected input float
// (NaN and the sign of zero included). torchvision is the oracle of the Java golden tests.
// Shapes: the ResNet stem (3x3/s2/p1) and FPN's LastLevelMaxPool (1x1/s2/p0) on ragged
// maps and channel counts (scalar and float4 CUDA paths), asymmetric kernels/strides, a
// misaligned channel vector, NaN / -inf / signed-zero inputs, empty batches and bad calls.
#include <cmath>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/max_pool2d.h"
#include "small_ops_testing.h"

namespace {

using mrcnn_check::Rng;
using small_ops_testing::EmuFloats;
using small_ops_testing::same_bits;

struct Case {
  const char* name;
  int n, h, w, c, kh, kw, sh, sw, ph, pw;
};

const Case kCases[] = {
    {"stem_3x3_s2_p1_c37", 2, 13, 17, 37, 3, 3, 2, 2, 1, 1},
    {"stem_3x3_s2_p1_c64_vec4", 1, 9, 12, 64, 3, 3, 2, 2, 1, 1},
    {"fpn_1x1_s2_p0_odd", 2, 7, 9, 20, 1, 1, 2, 2, 0, 0},
    {"fpn_1x1_s2_p0_c3", 1, 1, 5, 3, 1, 1, 2, 2, 0, 0},
    {"k2_s2_p1_even", 1, 8, 6, 5, 2, 2, 2, 2, 1, 1},
    {"k3_s1_p1_c1", 1, 6, 7, 1, 3, 3, 1, 1, 1, 1},
    {"k5x3_s3x2_p2x1", 2, 11, 10, 12, 5, 3, 3, 2, 2, 1},
    {"kernel_is_whole_map", 1, 4, 5, 8, 4, 5, 1, 1, 0, 0},
    {"c150_two_chunks_and_tail", 1, 7, 6, 150, 3, 3, 2, 2, 1, 1},
};

int out_size(int in, int k, int s, int p) { return (in + 2 * p - k) / s + 1; }

// torch's loop: start at -inf, row-major window, take v when v > m or v is NaN.
std::vector<float> reference(const Case& t, const std::vector<float>& x) {
  const int oh = out_size(t.h, t.kh, t.sh, t.ph), ow = out_size(t.w, t.kw, t.sw, t.pw);
  std::vector<float> y((size_t)t.n * oh * ow * t.c);
  for (int b = 0; b < t.n; ++b)
    for (int oy = 0; oy < oh; ++oy)
      for (int ox = 0; ox < ow; ++ox)
        for (int ch = 0; ch < t.c; ++ch) {
          float m = -INFINITY;
          for (int ky = 0; ky < t.kh; ++ky)
            for (int kx = 0; kx < t.kw; ++kx) {
              const int iy = oy * t.sh - t.ph + ky, ix = ox * t.sw - t.pw + kx;
              if (iy < 0 || iy >= t.h || ix < 0 || ix >= t.w) continue;
              const float v = x[(((size_t)b * t.h + iy) * t.w + ix) * t.c + ch];
              if (v > m || std::isnan(v)) m = v;
            }
          y[(((size_t)b * oh + oy) * ow + ox) * t.c + ch] = m;
        }
  return y;
}

// Random values with NaN, -inf, +inf and signed zeros sprinkled in.
std::vector<float> special_input(Rng& rng, size_t count) {
  std::vector<float> v(count);
  for (float& x : v) {
    const int k = rng.below(40);
    x = k == 0 ? NAN : k == 1 ? -INFINITY : k == 2 ? INFINITY : k == 3 ? 0.f : k == 4 ? -0.f
        : rng.uniform(-3.f, 3.f);
  }
  return v;
}

int run_cpu(const Case& t, const float* x, float* y) {
  return mrcnn_cpu_max_pool2d(x, t.n, t.h, t.w, t.c, t.kh, t.kw, t.sh, t.sw, t.ph, t.pw, y,
                              out_size(t.h, t.kh, t.sh, t.ph), out_size(t.w, t.kw, t.sw, t.pw),
                              nullptr);
}

// Emulated CUDA; `shift` floats of offset misalign both buffers (forces the scalar path).
std::vector<float> run_emu(const Case& t, const std::vector<float>& x, int shift) {
  const int oh = out_size(t.h, t.kh, t.sh, t.ph), ow = out_size(t.w, t.kw, t.sw, t.pw);
  EmuFloats dx(x, shift), dy((size_t)t.n * oh * ow * t.c, shift);
  CHECK_OK(mrcnn_emu_max_pool2d(dx.p, t.n, t.h, t.w, t.c, t.kh, t.kw, t.sh, t.sw, t.ph, t.pw, dy.p,
                                oh, ow, nullptr));
  return dy.download();
}

}  // namespace

MRCNN_TEST(max_pool2d_cpu_matches_reference) {
  Rng rng(11);
  for (const Case& t : kCases) {
    const std::vector<float> x = special_input(rng, (size_t)t.n * t.h * t.w * t.c);
    const std::vector<float> want = reference(t, x);
    std::vector<float> got(want.size(), 1234.f);
    CHECK_OK(run_cpu(t, x.data(), got.data()));
    if (!same_bits(want, got)) {
      fprintf(stderr, "  case %s\n", t.name);
      CHECK(same_bits(want, got));
    }
  }
}

MRCNN_TEST(max_pool2d_emulated_matches_cpu) {
  const long long misuse_before = mrcnn_emu_error_count();
  Rng rng(12);
  for (const Case& t : kCases) {
    const std::vector<float> x = special_input(rng, (size_t)t.n * t.h * t.w * t.c);
    std::vector<float> cpu(reference(t, x).size());
    CHECK_OK(run_cpu(t, x.data(), cpu.data()));
    for (int shift : {0, 1}) {
      if (!same_bits(cpu, run_emu(t, x, shift))) {
        fprintf(stderr, "  case %s shift %d\n", t.name, shift);
        CHECK(false);
      }
    }
  }
  CHECK(mrcnn_emu_error_count() == misuse_before);  // no emulator misuse reports
}

MRCNN_TEST(max_pool2d_nan_and_signed_zero_follow_torch) {
  // One 1x3 window over 3 channels: NaN anywhere wins; of -0/+0 the first stays.
  const float x[] = {-0.f, 1.f, 2.f,   0.f, NAN, 5.f,   -1.f, 3.f, NAN};
  float y[3] = {7, 7, 7};
  CHECK_OK(mrcnn_cpu_max_pool2d(x, 1, 1, 3, 3, 1, 3, 1, 1, 0, 0, y, 1, 1, nullptr));
  CHECK(y[0] == 0.f && std::signbit(y[0]));
  CHECK(std::isnan(y[1]));
  CHECK(std::isnan(y[2]));
}

MRCNN_TEST(max_pool2d_empty_and_bad_arguments) {
  float x[16] = {}, y[16] = {};
  // Empty batch / no channels: nothing to do, pointers may be null.
  CHECK_OK(mrcnn_cpu_max_pool2d(nullptr, 0, 5, 5, 3, 3, 3, 2, 2, 1, 1, nullptr, 3, 3, nullptr));
  CHECK_OK(mrcnn_emu_max_pool2d(nullptr, 2, 5, 5, 0, 3, 3, 2, 2, 1, 1, nullptr, 3, 3, nullptr));
  auto bad = [&](int st) { CHECK(st == MRCNN_ERR_INVALID_ARGUMENT); };
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_max_pool2d : mrcnn_emu_max_pool2d;
    bad(f(x, 1, 4, 4, 1, 3, 3, 2, 2, 2, 2, y, 3, 3, nullptr));   // pad > kernel/2
    bad(f(x, 1, 4, 4, 1, 3, 3, 2, 2, 1, 1, y, 3, 2, nullptr));   // wrong out_w
    bad(f(x, 1, 2, 2, 1, 5, 5, 1, 1, 1, 1, y, 1, 1, nullptr));   // kernel does not fit
    bad(f(x, 1, 4, 4, 1, 0, 3, 1, 1, 0, 0, y, 5, 2, nullptr));   // kernel 0
    bad(f(x, 1, 4, 4, 1, 3, 3, 0, 1, 1, 1, y, 4, 4, nullptr));   // stride 0
    bad(f(x, -1, 4, 4, 1, 3, 3, 1, 1, 1, 1, y, 4, 4, nullptr));  // negative batch
    bad(f(x, 1, 0, 4, 1, 1, 1, 1, 1, 0, 0, y, 0, 4, nullptr));   // zero height
    bad(f(nullptr, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1, y, 4, 4, nullptr));
    bad(f(x, 1, 4, 4, 1, 3, 3, 1, 1, 1, 1, nullptr, 4, 4, nullptr));
    bad(f(x, 1, 3, 3, 1, 3, 3, 1, 1, 1, 1, x + 4, 3, 3, nullptr));  // output overlaps input
  }
}
