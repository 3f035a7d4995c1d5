// upsample_nearest_add native tests: the CPU kernel against a naive reference (torch's
// nearest index written out independently here), and the emulated CUDA kernel against the
// CPU, bit for bit (one correctly rounded float add per element leaves no freedom).
// Sizes: FPN's exact 2x steps and the odd ones of non-multiple-of-32 images (25 -> 50 vs
// 13 -> 25, 7 -> 13), identity, 3x, shrinking, 1 -> many; channels ragged and multiple of 4
// (scalar and float4 CUDA paths), misaligned vectors; plain upsample (no lateral) and the
// in-place add (output == lateral); empty batches and bad calls. torchvision is the oracle
// of the Java golden tests.
#include <cmath>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/upsample_nearest_add.h"
#include "small_ops_testing.h"

namespace {

using mrcnn_check::Rng;
using small_ops_testing::EmuFloats;
using small_ops_testing::same_bits;

struct Case {
  const char* name;
  int n, in_h, in_w, c, out_h, out_w;
};

const Case kCases[] = {
    {"fpn_2x_c37", 2, 5, 7, 37, 10, 14},
    {"odd_13_to_25_c64", 1, 13, 7, 64, 25, 13},
    {"odd_25_to_50_c8", 1, 25, 4, 8, 50, 8},
    {"identity_c5", 1, 6, 5, 5, 6, 5},
    {"triple_c3", 2, 3, 4, 3, 9, 12},
    {"shrink_c16", 1, 9, 11, 16, 4, 5},
    {"one_pixel_to_many_c1", 1, 1, 1, 1, 7, 3},
    {"mixed_axes_c20", 1, 7, 19, 20, 13, 38},
};

// torch's rule, spelled out: identity, shift for exactly 2x, else floor(dst * (float)in/out).
int src_index(int dst, int in, int out) {
  if (out == in) return dst;
  if (out == 2 * in) return dst / 2;
  float scale = (float)in / (float)out;
  float f = (float)dst * scale;
  int s = (int)std::floor(f);
  return std::min(s, in - 1);
}

std::vector<float> reference(const Case& t, const std::vector<float>& top, const float* lateral) {
  std::vector<float> y((size_t)t.n * t.out_h * t.out_w * t.c);
  for (int b = 0; b < t.n; ++b)
    for (int oy = 0; oy < t.out_h; ++oy)
      for (int ox = 0; ox < t.out_w; ++ox)
        for (int ch = 0; ch < t.c; ++ch) {
          const size_t o = (((size_t)b * t.out_h + oy) * t.out_w + ox) * t.c + ch;
          const float v = top[(((size_t)b * t.in_h + src_index(oy, t.in_h, t.out_h)) * t.in_w +
                               src_index(ox, t.in_w, t.out_w)) * t.c + ch];
          y[o] = lateral ? lateral[o] + v : v;
        }
  return y;
}

std::vector<float> random_vec(Rng& rng, size_t count) {
  std::vector<float> v(count);
  for (float& x : v) x = rng.uniform(-2.f, 2.f);
  return v;
}

// mode 0: lateral + top into a separate output; 1: plain upsample; 2: in place on lateral.
std::vector<float> run_cpu(const Case& t, const std::vector<float>& top,
                           const std::vector<float>& lateral, int mode) {
  std::vector<float> out = mode == 2 ? lateral : std::vector<float>(lateral.size(), 1234.f);
  CHECK_OK(mrcnn_cpu_upsample_nearest_add(top.data(), t.n, t.in_h, t.in_w, t.c,
                                          mode == 1 ? nullptr : mode == 2 ? out.data() : lateral.data(),
                                          out.data(), t.out_h, t.out_w, nullptr));
  return out;
}

// The same on the emulated device; `shift` floats of offset misalign every buffer.
std::vector<float> run_emu(const Case& t, const std::vector<float>& top,
                           const std::vector<float>& lateral, int mode, int shift) {
  EmuFloats dt(top, shift), dl(lateral, shift), dout(lateral.size(), shift);
  float* fo = mode == 2 ? dl.p : dout.p;
  CHECK_OK(mrcnn_emu_upsample_nearest_add(dt.p, t.n, t.in_h, t.in_w, t.c, mode == 1 ? nullptr : dl.p,
                                          fo, t.out_h, t.out_w, nullptr));
  return dout.download(fo);
}

}  // namespace

MRCNN_TEST(upsample_nearest_add_cpu_matches_reference) {
  Rng rng(21);
  for (const Case& t : kCases) {
    const std::vector<float> top = random_vec(rng, (size_t)t.n * t.in_h * t.in_w * t.c);
    const std::vector<float> lat = random_vec(rng, (size_t)t.n * t.out_h * t.out_w * t.c);
    const std::vector<float> want_add = reference(t, top, lat.data());
    const std::vector<float> want_up = reference(t, top, nullptr);
    for (int mode = 0; mode < 3; ++mode) {
      if (!same_bits(mode == 1 ? want_up : want_add, run_cpu(t, top, lat, mode))) {
        fprintf(stderr, "  case %s mode %d\n", t.name, mode);
        CHECK(false);
      }
    }
  }
}

MRCNN_TEST(upsample_nearest_add_emulated_matches_cpu) {
  const long long misuse_before = mrcnn_emu_error_count();
  Rng rng(22);
  for (const Case& t : kCases) {
    const std::vector<float> top = random_vec(rng, (size_t)t.n * t.in_h * t.in_w * t.c);
    const std::vector<float> lat = random_vec(rng, (size_t)t.n * t.out_h * t.out_w * t.c);
    for (int mode = 0; mode < 3; ++mode) {
      const std::vector<float> cpu = run_cpu(t, top, lat, mode);
      for (int shift : {0, 1}) {
        if (!same_bits(cpu, run_emu(t, top, lat, mode, shift))) {
          fprintf(stderr, "  case %s mode %d shift %d\n", t.name, mode, shift);
          CHECK(false);
        }
      }
    }
  }
  CHECK(mrcnn_emu_error_count() == misuse_before);  // no emulator misuse reports
}

MRCNN_TEST(upsample_nearest_add_odd_sizes_pick_torch_rows) {
  // Source rows torch 1.13 picks (checked against F.interpolate): 13 -> 25 uses
  // scale 0.52: rows 0,0,1,1,2,2,3,3,4,4,5,5,6,6,7,7,8,8,9,9,10,10,11,11,12;
  // 7 -> 13: 0,0,1,1,2,2,3,3,4,4,5,5,6.
  const int want25[] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11, 12};
  const int want13[] = {0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5, 6};
  float top25[13], top13[7], out25[25], out13[13];
  for (int i = 0; i < 13; ++i) top25[i] = (float)i;
  for (int i = 0; i < 7; ++i) top13[i] = (float)i;
  CHECK_OK(mrcnn_cpu_upsample_nearest_add(top25, 1, 13, 1, 1, nullptr, out25, 25, 1, nullptr));
  CHECK_OK(mrcnn_cpu_upsample_nearest_add(top13, 1, 7, 1, 1, nullptr, out13, 13, 1, nullptr));
  for (int i = 0; i < 25; ++i) CHECK(out25[i] == (float)want25[i]);
  for (int i = 0; i < 13; ++i) CHECK(out13[i] == (float)want13[i]);
}

MRCNN_TEST(upsample_nearest_add_empty_and_bad_arguments) {
  float x[16] = {}, y[16] = {};
  CHECK_OK(mrcnn_cpu_upsample_nearest_add(nullptr, 0, 2, 2, 3, nullptr, nullptr, 4, 4, nullptr));
  CHECK_OK(mrcnn_emu_upsample_nearest_add(nullptr, 1, 2, 2, 0, nullptr, nullptr, 4, 4, nullptr));
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_upsample_nearest_add : mrcnn_emu_upsample_nearest_add;
    CHECK(f(x, 1, 0, 2, 1, nullptr, y, 2, 2, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 1, 2, 2, 1, nullptr, y, 2, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, -1, 2, 2, 1, nullptr, y, 2, 2, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 1, 2, 2, -1, nullptr, y, 2, 2, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(nullptr, 1, 2, 2, 1, y, y, 2, 2, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 1, 2, 2, 1, y, nullptr, 2, 2, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(x, 1, 2, 2, 1, y, x + 3, 2, 2, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);  // overlaps top
    CHECK(f(x, 1, 2, 2, 1, y, y + 1, 2, 2, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);  // part of lateral
  }
}
