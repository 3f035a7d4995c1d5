// image_preprocess native tests: the CPU kernel against torch 1.13's bilinear arithmetic
// written out here per pixel (independent of the CPU's row cache), and the emulated CUDA kernel
// against the CPU bit for bit (same float and double operations, fmaf correctly rounded on
// both). torchvision's GeneralizedRCNNTransform is the oracle of the Java golden tests.
// Cases: up- and downsampling on ragged sizes, an axis that keeps its size, 1 and 4 channels,
// a slot with padding on both sides (which must become zeros), and bad calls.
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/image_preprocess.h"
#include "mrcnn/math/image_preprocess_cpu.h"

namespace {

using mrcnn_check::Rng;

struct Case {
  const char* name;
  int h, w, c, out_h, out_w, pad_h, pad_w;
};

const Case kCases[] = {
    {"upsample_rgb", 37, 53, 3, 61, 88, 64, 96},
    {"downsample_rgb", 120, 45, 3, 100, 37, 128, 64},
    {"same_height", 40, 30, 3, 40, 51, 64, 64},
    {"one_channel_tight_slot", 13, 17, 1, 21, 30, 21, 30},
    {"four_channels", 9, 70, 4, 20, 33, 32, 35},
    {"one_pixel_image", 1, 1, 3, 5, 7, 8, 8},
};

const float kMean[4] = {0.485f, 0.456f, 0.406f, 0.5f};
const float kStd[4] = {0.229f, 0.224f, 0.225f, 0.25f};

// torch's per-axis index and weights (see mrcnn/math/image_preprocess.h), written out.
void axis(int o, int in, int out, int* i0, int* i1, float* l0, float* l1) {
  if (in == out) {
    *i0 = *i1 = o;
    *l0 = 1.f;
    *l1 = 0.f;
    return;
  }
  const float scale = (float)in / (float)out;
  double src = (double)scale * (o + 0.5) - 0.5;
  if (src < 0) src = 0;
  *i0 = (int)src;
  *i1 = *i0 < in - 1 ? *i0 + 1 : *i0;
  *l1 = (float)std::min(std::max(src - *i0, 0.0), 1.0);
  *l0 = 1.f - *l1;
}

std::vector<float> reference(const Case& t, const std::vector<float>& img) {
  std::vector<float> out((size_t)t.pad_h * t.pad_w * t.c, 0.f);
  auto norm = [&](int y, int x, int ch) {
    volatile float d = img[((size_t)y * t.w + x) * t.c + ch] - kMean[ch];
    return (float)(d / kStd[ch]);
  };
  auto lerp = [](float a, float wa, float b, float wb) {
    volatile float p = b * wb;
    return std::fma(a, wa, (float)p);
  };
  for (int y = 0; y < t.out_h; ++y) {
    int y0, y1;
    float a0, a1;
    axis(y, t.h, t.out_h, &y0, &y1, &a0, &a1);
    for (int x = 0; x < t.out_w; ++x) {
      int x0, x1;
      float b0, b1;
      axis(x, t.w, t.out_w, &x0, &x1, &b0, &b1);
      for (int ch = 0; ch < t.c; ++ch) {
        const float r0 = lerp(norm(y0, x0, ch), b0, norm(y0, x1, ch), b1);
        const float r1 = lerp(norm(y1, x0, ch), b0, norm(y1, x1, ch), b1);
        out[((size_t)y * t.pad_w + x) * t.c + ch] = lerp(r0, a0, r1, a1);
      }
    }
  }
  return out;
}

std::vector<float> make_image(Rng& rng, const Case& t) {
  std::vector<float> img((size_t)t.h * t.w * t.c);
  for (float& v : img) v = rng.uniform(0.f, 1.f);
  return img;
}

// isa < 0: the public entry point (best build); else that build (0 = x86-64-v2, 1 = x86-64-v3).
std::vector<float> run_cpu(const Case& t, const std::vector<float>& img, int isa = -1) {
  std::vector<float> out((size_t)t.pad_h * t.pad_w * t.c, 1234.f);  // padding must be overwritten
  std::vector<char> ws(mrcnn_cpu_image_preprocess_workspace_size(t.h, t.w, t.c, t.out_h, t.out_w));
  if (isa < 0) {
    CHECK_OK(mrcnn_cpu_image_preprocess(img.data(), t.h, t.w, t.c, kMean, kStd, t.out_h, t.out_w, out.data(),
                                        t.pad_h, t.pad_w, ws.data(), ws.size(), nullptr));
  } else {
    CHECK_OK(mrcnn_cpu_image_preprocess_with_isa(isa, img.data(), t.h, t.w, t.c, kMean, kStd, t.out_h, t.out_w,
                                                 out.data(), t.pad_h, t.pad_w, ws.data(), ws.size()));
  }
  return out;
}

std::vector<float> run_emu(const Case& t, const std::vector<float>& img) {
  const size_t n = (size_t)t.pad_h * t.pad_w * t.c;
  const size_t wsb = mrcnn_emu_image_preprocess_workspace_size(t.h, t.w, t.c, t.out_h, t.out_w);
  void *di = nullptr, *dout = nullptr, *dws = nullptr;
  CHECK_OK(mrcnn_emu_malloc(img.size() * sizeof(float), &di));
  CHECK_OK(mrcnn_emu_malloc(n * sizeof(float), &dout));  // filled with 0xFF (NaN) by the emulator
  if (wsb) CHECK_OK(mrcnn_emu_malloc(wsb, &dws));
  CHECK_OK(mrcnn_emu_copy_to_device(di, img.data(), img.size() * sizeof(float), nullptr));
  CHECK_OK(mrcnn_emu_image_preprocess((const float*)di, t.h, t.w, t.c, kMean, kStd, t.out_h, t.out_w, (float*)dout,
                                      t.pad_h, t.pad_w, dws, wsb, nullptr));
  std::vector<float> out(n);
  CHECK_OK(mrcnn_emu_copy_to_host(out.data(), dout, n * sizeof(float), nullptr));
  mrcnn_emu_free(di);
  mrcnn_emu_free(dout);
  if (dws) mrcnn_emu_free(dws);
  return out;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b, const char* name) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i)
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      fprintf(stderr, "  %s: element %zu: %.9g vs %.9g\n", name, i, a[i], b[i]);
      return false;
    }
  return true;
}

}  // namespace

MRCNN_TEST(image_preprocess_cpu_builds_match_reference) {
  Rng rng(61);
  for (const Case& t : kCases) {
    const std::vector<float> img = make_image(rng, t);
    const std::vector<float> want = reference(t, img);
    for (int isa = 0; isa <= mrcnn_cpu_image_preprocess_best_isa(); ++isa)
      CHECK(same_bits(want, run_cpu(t, img, isa), t.name));
  }
  float img[3] = {0.5f, 0.5f, 0.5f}, out[3];
  CHECK(mrcnn_cpu_image_preprocess_with_isa(7, img, 1, 1, 3, kMean, kStd, 1, 1, out, 1, 1, nullptr, 0) ==
        MRCNN_ERR_UNSUPPORTED);
}

MRCNN_TEST(image_preprocess_emulated_matches_cpu) {
  Rng rng(62);
  for (const Case& t : kCases) {
    const std::vector<float> img = make_image(rng, t);
    CHECK(same_bits(run_cpu(t, img), run_emu(t, img), t.name));
  }
}

MRCNN_TEST(image_preprocess_bad_arguments) {
  float img[48] = {}, out[256];
  static char ws[1 << 16];
  const float zero_std[3] = {1.f, 0.f, 1.f};
  auto bad = [&](int st) { CHECK(st == MRCNN_ERR_INVALID_ARGUMENT); };
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_image_preprocess : mrcnn_emu_image_preprocess;
    CHECK_OK(f(img, 4, 4, 3, kMean, kStd, 6, 6, out, 8, 8, ws, sizeof ws, nullptr));
    bad(f(img, 0, 4, 3, kMean, kStd, 6, 6, out, 8, 8, ws, sizeof ws, nullptr));   // empty image
    bad(f(img, 4, 4, 5, kMean, kStd, 6, 6, out, 8, 8, ws, sizeof ws, nullptr));   // 5 channels
    bad(f(img, 4, 4, 3, kMean, kStd, 9, 6, out, 8, 8, ws, sizeof ws, nullptr));   // resized > slot
    bad(f(img, 4, 4, 3, kMean, kStd, 0, 6, out, 8, 8, ws, sizeof ws, nullptr));   // resized empty
    bad(f(img, 4, 4, 3, kMean, zero_std, 6, 6, out, 8, 8, ws, sizeof ws, nullptr));
    bad(f(img, 4, 4, 3, nullptr, kStd, 6, 6, out, 8, 8, ws, sizeof ws, nullptr));
    bad(f(nullptr, 4, 4, 3, kMean, kStd, 6, 6, out, 8, 8, ws, sizeof ws, nullptr));
    bad(f(img, 4, 4, 3, kMean, kStd, 2, 2, img + 4, 2, 2, ws, sizeof ws, nullptr));  // out overlaps image
  }
  CHECK(mrcnn_cpu_image_preprocess(img, 4, 4, 3, kMean, kStd, 6, 6, out, 8, 8, ws, 16, nullptr) ==
        MRCNN_ERR_WORKSPACE_TOO_SMALL);
}
