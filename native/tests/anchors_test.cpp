// anchors native tests: the CPU kernel against torchvision's grid_anchors written out here,
// and the emulated CUDA kernel against the CPU bit for bit (both add an int32 shift turned
// float to the base anchor: exact for these sizes). torchvision is the oracle of the Java
// golden tests (which also pin the cell anchors). Shapes: the FPN levels' 3 anchors per
// location on ragged grids and non-square strides, 9 and 64 anchors per location, a
// misaligned output (scalar CUDA stores), empty grids and bad calls.
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/anchors.h"
#include "mrcnn/device.h"

namespace {

using mrcnn_check::Rng;

struct Case {
  const char* name;
  int a, grid_h, grid_w, stride_h, stride_w;
};

const Case kCases[] = {
    {"p2_like_a3", 3, 25, 38, 4, 4},
    {"p6_like_a3_odd_strides", 3, 3, 5, 67, 61},
    {"a9_one_row", 9, 1, 37, 16, 16},
    {"a64_small", 64, 3, 2, 8, 5},
    {"one_cell", 3, 1, 1, 32, 32},
    {"zero_stride", 2, 4, 3, 0, 0},
};

std::vector<float> base_anchors(Rng& rng, int a) {
  std::vector<float> b((size_t)a * 4);
  for (int j = 0; j < a; ++j) {
    const float w = std::round(rng.uniform(1.f, 400.f)), h = std::round(rng.uniform(1.f, 400.f));
    b[j * 4 + 0] = -w;
    b[j * 4 + 1] = -h;
    b[j * 4 + 2] = w;
    b[j * 4 + 3] = h + 0.5f;  // a non-integer coordinate too
  }
  return b;
}

// torchvision: shifts (sx, sy, sx, sy) per cell in (y, x) order, plus every base anchor.
std::vector<float> reference(const Case& t, const std::vector<float>& base) {
  std::vector<float> out;
  for (int y = 0; y < t.grid_h; ++y)
    for (int x = 0; x < t.grid_w; ++x)
      for (int j = 0; j < t.a; ++j) {
        const int32_t sx = x * t.stride_w, sy = y * t.stride_h;
        const float s[4] = {(float)sx, (float)sy, (float)sx, (float)sy};
        for (int c = 0; c < 4; ++c) out.push_back(s[c] + base[j * 4 + c]);
      }
  return out;
}

size_t out_floats(const Case& t) { return (size_t)t.grid_h * t.grid_w * t.a * 4; }

std::vector<float> run_emu(const Case& t, const std::vector<float>& base, int shift) {
  const size_t n = out_floats(t);
  void* d = nullptr;
  std::vector<float> out(n, 1234.f);
  CHECK_OK(mrcnn_emu_malloc((n + shift) * sizeof(float), &d));
  float* fo = (float*)d + shift;
  CHECK_OK(mrcnn_emu_anchors(base.data(), t.a, t.grid_h, t.grid_w, t.stride_h, t.stride_w, fo, nullptr));
  CHECK_OK(mrcnn_emu_copy_to_host(out.data(), fo, n * sizeof(float), nullptr));
  mrcnn_emu_free(d);
  return out;
}

bool same(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace

MRCNN_TEST(anchors_cpu_matches_reference) {
  Rng rng(31);
  for (const Case& t : kCases) {
    const std::vector<float> base = base_anchors(rng, t.a);
    std::vector<float> got(out_floats(t), 1234.f);
    CHECK_OK(mrcnn_cpu_anchors(base.data(), t.a, t.grid_h, t.grid_w, t.stride_h, t.stride_w, got.data(), nullptr));
    if (!same(reference(t, base), got)) {
      fprintf(stderr, "  case %s\n", t.name);
      CHECK(false);
    }
  }
}

MRCNN_TEST(anchors_emulated_matches_cpu) {
  Rng rng(32);
  for (const Case& t : kCases) {
    const std::vector<float> base = base_anchors(rng, t.a);
    std::vector<float> cpu(out_floats(t));
    CHECK_OK(mrcnn_cpu_anchors(base.data(), t.a, t.grid_h, t.grid_w, t.stride_h, t.stride_w, cpu.data(), nullptr));
    for (int shift : {0, 1}) {
      if (!same(cpu, run_emu(t, base, shift))) {
        fprintf(stderr, "  case %s shift %d\n", t.name, shift);
        CHECK(false);
      }
    }
  }
}

MRCNN_TEST(anchors_empty_and_bad_arguments) {
  const float base[8] = {-1, -2, 1, 2, -3, -3, 3, 3};
  float out[64];
  CHECK_OK(mrcnn_cpu_anchors(base, 2, 0, 5, 4, 4, nullptr, nullptr));   // empty grid
  CHECK_OK(mrcnn_emu_anchors(base, 2, 5, 0, 4, 4, nullptr, nullptr));
  const float nan_base[4] = {NAN, 0, 1, 1};
  auto bad = [&](int st) { CHECK(st == MRCNN_ERR_INVALID_ARGUMENT); };
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_anchors : mrcnn_emu_anchors;
    bad(f(base, 0, 2, 2, 4, 4, out, nullptr));                               // no anchors
    bad(f(base, MRCNN_ANCHORS_MAX_PER_LOCATION + 1, 1, 1, 4, 4, out, nullptr));
    bad(f(base, 2, -1, 2, 4, 4, out, nullptr));
    bad(f(base, 2, 2, 2, -4, 4, out, nullptr));
    bad(f(base, 2, 3, 2, 1 << 30, 4, out, nullptr));                         // shift overflows int32
    bad(f(base, 2, 65536, 65536, 1, 1, out, nullptr));                       // count overflows int
    bad(f(nullptr, 2, 2, 2, 4, 4, out, nullptr));
    bad(f(base, 2, 2, 2, 4, 4, nullptr, nullptr));
    bad(f(nan_base, 1, 2, 2, 4, 4, out, nullptr));
  }
}
