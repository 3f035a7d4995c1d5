// roi_align native tests: the CPU kernel for every ISA this CPU has, and the emulated CUDA
// kernels, single-level and multi-level (FPN LevelMapper), on ragged sizes (channels not
// multiples of 4 or 16, odd map sizes), boxes partly/wholly outside, negative, zero-area,
// inverted and huge, sampling ratios 0..3, aligned on/off, spatial scales 1 .. 1/32.
// torchvision itself is the oracle of the Java golden tests; here an analytic case (a
// linear ramp, which bilinear sampling reproduces exactly) anchors the values, and the
// backends are checked against each other.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/math/roi_align.h"
#include "mrcnn/roi_align.h"

namespace {

using mrcnn_check::Rng;

// Tolerance. Each output is the mean of S sample values, each a weighted sum of 4 inputs
// with weights in [0, 1] summing to <= 1. In fp32 the recursive sum of S terms of size
// <= M is within (S - 1) u S M of the exact sum, so the mean is within (S + 3) u M
// counting the 4-term tap sums, u = 2^-24; two backends that sum in different orders
// (FMA on AVX-512 and GPUs, plain mul+add elsewhere) differ by at most twice that,
// (S + 3) 2^-23 M. S comes from each case's largest sampling grid.
constexpr double kEps32 = 1.1920928955078125e-07;  // 2^-23

double tolerance(long long max_samples, double max_abs_input) {
  return (double)(max_samples + 3) * kEps32 * max_abs_input;
}

// Largest sampling grid of a set of rois (an upper bound: adaptive grids use +1 margins).
long long max_samples(const std::vector<float>& rois, float scale, int ph, int pw, int sr) {
  if (sr > 0) return (long long)sr * sr;
  long long m = 1;
  for (size_t i = 0; i + 4 < rois.size(); i += 5) {
    const double rw = std::fabs((double)rois[i + 3] - rois[i + 1]) * scale + 2;
    const double rh = std::fabs((double)rois[i + 4] - rois[i + 2]) * scale + 2;
    const long long s = (long long)std::ceil(rh / ph) * (long long)std::ceil(rw / pw);
    if (s > m) m = s;
  }
  return m;
}

// Device buffer of the emulated backend, freed on scope exit.
struct EmuBuf {
  void* p = nullptr;
  explicit EmuBuf(size_t bytes) { CHECK_OK(mrcnn_emu_malloc(bytes, &p)); }
  EmuBuf(const void* host, size_t bytes) : EmuBuf(bytes) {
    CHECK_OK(mrcnn_emu_copy_to_device(p, host, bytes, nullptr));
  }
  ~EmuBuf() { mrcnn_emu_free(p); }
  float* f() const { return (float*)p; }
};

std::vector<float> random_map(Rng& rng, size_t count) {
  std::vector<float> v(count);
  for (float& x : v) x = rng.uniform(-1.f, 1.f);
  return v;
}

// Boxes of every kind for an image of img_w x img_h (in box coordinates).
std::vector<float> edge_boxes(Rng& rng, int k, int n, float img_w, float img_h) {
  std::vector<float> r;
  for (int i = 0; i < k; ++i) {
    float b = (float)rng.below(n), x1, y1, x2, y2;
    switch (i % 10) {
      case 0:  // whole image
        x1 = 0; y1 = 0; x2 = img_w; y2 = img_h; break;
      case 1:  // partly outside, negative coordinates
        x1 = -0.3f * img_w; y1 = -0.2f * img_h; x2 = 0.4f * img_w; y2 = 0.5f * img_h; break;
      case 2:  // wholly outside to the right and below
        x1 = 1.2f * img_w; y1 = 1.1f * img_h; x2 = 1.5f * img_w; y2 = 1.6f * img_h; break;
      case 3:  // zero area (a point)
        x1 = x2 = rng.uniform(0, img_w); y1 = y2 = rng.uniform(0, img_h); break;
      case 4:  // inverted
        x1 = 0.7f * img_w; x2 = 0.2f * img_w; y1 = 0.6f * img_h; y2 = 0.1f * img_h; break;
      case 5:  // straddles the far edges
        x1 = 0.8f * img_w; y1 = 0.7f * img_h; x2 = 1.3f * img_w; y2 = 1.2f * img_h; break;
      case 6:  // wholly outside, negative
        x1 = -2.f * img_w; y1 = -img_h; x2 = -1.2f * img_w; y2 = -0.5f * img_h; break;
      case 7:  // integer corners exactly on the border
        x1 = 0; y1 = 0; x2 = (float)(int)img_w; y2 = (float)(int)img_h - 1; break;
      default:  // random inside
        x1 = rng.uniform(0, img_w); y1 = rng.uniform(0, img_h);
        x2 = x1 + rng.uniform(0.5f, img_w - x1 + 1); y2 = y1 + rng.uniform(0.5f, img_h - y1 + 1);
    }
    r.insert(r.end(), {b, x1, y1, x2, y2});
  }
  return r;
}

struct Single {
  const char* name;
  int n, h, w, c, k, ph, pw, sr, aligned;
  float scale;
};

// Kept small: the emulator runs every CUDA thread as a fiber (and ASan multiplies that).
// k = 10 covers every kind of edge_boxes once.
const Single kSingle[] = {
    {"ragged_c13_sr2", 2, 13, 17, 13, 10, 7, 7, 2, 0, 0.5f},
    {"vec4_c12_adaptive_aligned", 1, 9, 14, 12, 10, 7, 7, 0, 1, 0.25f},
    {"c3_sr1_scale1", 2, 11, 5, 3, 10, 3, 5, 1, 0, 1.f},
    {"c1_sr3_aligned", 1, 6, 7, 1, 10, 4, 2, 3, 1, 1.f},
    {"c2_adaptive_14x14", 1, 8, 11, 2, 10, 14, 14, -1, 0, 0.5f},
    {"c16_1x1_pooled", 2, 5, 5, 16, 10, 1, 1, 0, 1, 0.25f},
    {"scale_1_32", 1, 3, 4, 8, 10, 7, 7, 2, 1, 0.03125f},
    {"one_pixel_map", 1, 1, 1, 5, 10, 2, 3, 0, 0, 1.f},
};

void run_single(const Single& s, int isa, std::vector<float>& out, const std::vector<float>& x,
                const std::vector<float>& rois) {
  out.assign((size_t)s.k * s.ph * s.pw * s.c, NAN);
  CHECK_OK(mrcnn_cpu_roi_align_with_isa(isa, x.data(), s.n, s.h, s.w, s.c, rois.data(), s.k,
                                        s.ph, s.pw, s.scale, s.sr, s.aligned, out.data()));
}

void report(const char* what, const char* name, double diff, double tol) {
  if (!(diff <= tol)) {
    char m[256];
    snprintf(m, sizeof m, "%s %s: max |diff| %.3g > tol %.3g", what, name, diff, tol);
    mrcnn_check::record_failure(__FILE__, __LINE__, m);
  }
}

}  // namespace

// Every CPU ISA and the emulated CUDA kernel (float4 and scalar paths) agree.
MRCNN_TEST(roi_align_single_level_backends_agree) {
  for (const Single& s : kSingle) {
    Rng rng(11);
    const std::vector<float> x = random_map(rng, (size_t)s.n * s.h * s.w * s.c);
    const std::vector<float> rois = edge_boxes(rng, s.k, s.n, s.w / s.scale, s.h / s.scale);
    const double tol = tolerance(max_samples(rois, s.scale, s.ph, s.pw, s.sr), 1.0);
    std::vector<float> ref, out;
    run_single(s, MRCNN_ROI_ALIGN_ISA_BASELINE, ref, x, rois);
    for (int isa = 1; isa <= mrcnn_cpu_roi_align_best_isa(); ++isa) {
      run_single(s, isa, out, x, rois);
      report("cpu isa vs baseline", s.name, mrcnn_check::max_abs_diff(out.data(), ref.data(), ref.size()), tol);
    }
    // Emulated CUDA; when c % 4 == 0 a second pass offsets the buffers by one float to force
    // the scalar path.
    for (int misalign = 0; misalign < (s.c % 4 == 0 ? 2 : 1); ++misalign) {
      const size_t nx = x.size() + misalign, no = ref.size() + misalign;
      EmuBuf dx(nx * 4), dr(rois.data(), rois.size() * 4), dout(no * 4);
      CHECK_OK(mrcnn_emu_copy_to_device(dx.f() + misalign, x.data(), x.size() * 4, nullptr));
      CHECK_OK(mrcnn_emu_roi_align(dx.f() + misalign, s.n, s.h, s.w, s.c, dr.f(), s.k, s.ph, s.pw,
                                   s.scale, s.sr, s.aligned, dout.f() + misalign, nullptr));
      out.assign(ref.size(), NAN);
      CHECK_OK(mrcnn_emu_copy_to_host(out.data(), dout.f() + misalign, ref.size() * 4, nullptr));
      report(misalign ? "emu (scalar) vs cpu" : "emu vs cpu", s.name,
             mrcnn_check::max_abs_diff(out.data(), ref.data(), ref.size()), tol);
    }
  }
}

// A map linear in (y, x) is reproduced exactly by bilinear sampling, so inside the map a
// bin's output is the ramp at the mean of its sample coordinates.
MRCNN_TEST(roi_align_linear_ramp_is_exact) {
  const int h = 12, w = 15, c = 6, ph = 3, pw = 4, sr = 2;
  std::vector<float> x((size_t)h * w * c);
  for (int y = 0; y < h; ++y)
    for (int xx = 0; xx < w; ++xx)
      for (int ch = 0; ch < c; ++ch) x[((size_t)y * w + xx) * c + ch] = ch + 0.5f * y + 0.25f * xx;
  const std::vector<float> rois = {0, 2.f, 1.f, 12.f, 9.f};  // samples stay inside [0, h-1]x[0, w-1]
  for (int aligned = 0; aligned < 2; ++aligned) {
    std::vector<float> out((size_t)ph * pw * c);
    for (int isa = 0; isa <= mrcnn_cpu_roi_align_best_isa(); ++isa) {
      CHECK_OK(mrcnn_cpu_roi_align_with_isa(isa, x.data(), 1, h, w, c, rois.data(), 1, ph, pw,
                                            1.f, sr, aligned, out.data()));
      const double off = aligned ? 0.5 : 0.0;
      const double y0 = 1.0 - off, x0 = 2.0 - off, bh = 8.0 / ph, bw = 10.0 / pw;
      for (int i = 0; i < ph; ++i)
        for (int j = 0; j < pw; ++j)
          for (int ch = 0; ch < c; ++ch) {
            const double ey = y0 + (i + 0.5) * bh, ex = x0 + (j + 0.5) * bw;
            CHECK_NEAR(out[((size_t)i * pw + j) * c + ch], ch + 0.5 * ey + 0.25 * ex, 1e-5);
          }
    }
  }
}

// The LevelMapper: canonical boxes land on their level; clamps; zero and negative area.
MRCNN_TEST(roi_align_level_mapper) {
  using mrcnn::roi_align_math::roi_level;
  auto lvl = [](float side) { return roi_level(10.f, 20.f, 10.f + side, 20.f + side, 224, 4, 2, 5, 1e-6f, 4); };
  CHECK(lvl(224.f) == 2);  // level 4 -> index 2
  CHECK(lvl(223.9f) == 1);
  CHECK(lvl(112.f) == 1);
  CHECK(lvl(448.f) == 3);
  CHECK(lvl(56.f) == 0);   // level 2
  CHECK(lvl(1.f) == 0);    // clamped to k_min
  CHECK(lvl(5000.f) == 3); // clamped to k_max
  CHECK(lvl(0.f) == 0);    // log2(0) = -inf -> k_min
  CHECK(roi_level(10.f, 0.f, 5.f, 8.f, 224, 4, 2, 5, 1e-6f, 4) == -1);  // negative area: no level
  CHECK(roi_level(10.f, 0.f, 5.f, 8.f, 224, 4, 2, 2, 1e-6f, 1) == 0);   // one level: always 0
}

namespace {

// P2..P5 of a 67x93 image (ragged sizes), channels not a multiple of 4 or 16.
struct Pyramid {
  int n = 2, c;
  int h[4] = {17, 9, 5, 3}, w[4] = {24, 12, 6, 3};
  float scale[4] = {0.25f, 0.125f, 0.0625f, 0.03125f};
  std::vector<float> maps[4];
  explicit Pyramid(int channels, Rng& rng) : c(channels) {
    for (int l = 0; l < 4; ++l) maps[l] = random_map(rng, (size_t)n * h[l] * w[l] * c);
  }
};

// Boxes of every size class (so each level is used) plus the edge kinds.
std::vector<float> pyramid_boxes(Rng& rng, int k) {
  std::vector<float> r = edge_boxes(rng, k / 2, 2, 93.f, 67.f);
  const float sides[] = {8.f, 60.f, 112.f, 150.f, 224.f, 300.f, 500.f, 700.f};  // levels 2,2,*,3,*,4,*,5
  for (int i = (int)r.size() / 5; i < k; ++i) {
    const float s = sides[i % 8] * rng.uniform(0.8f, 1.25f);
    const float x1 = rng.uniform(-10.f, 90.f), y1 = rng.uniform(-10.f, 60.f);
    r.insert(r.end(), {(float)rng.below(2), x1, y1, x1 + s * rng.uniform(0.9f, 1.1f), y1 + s});
  }
  return r;
}

}  // namespace

MRCNN_TEST(roi_align_multi_level_backends_agree) {
  struct Cfg { int c, k, pooled, sr, aligned; };
  const Cfg cfgs[] = {{12, 24, 7, 2, 0}, {2, 16, 14, 2, 0}, {8, 16, 7, 0, 1}, {3, 16, 3, 1, 0}};
  for (const Cfg& cfg : cfgs) {
    Rng rng(5 + cfg.c);
    Pyramid p(cfg.c, rng);
    const std::vector<float> rois = pyramid_boxes(rng, cfg.k);
    const float* feats[4] = {p.maps[0].data(), p.maps[1].data(), p.maps[2].data(), p.maps[3].data()};
    const size_t no = (size_t)cfg.k * cfg.pooled * cfg.pooled * cfg.c;
    // Every level is used by some box.
    int used[4] = {0, 0, 0, 0};
    for (int i = 0; i < cfg.k; ++i) {
      const float* r = &rois[i * 5];
      const int l = mrcnn::roi_align_math::roi_level(r[1], r[2], r[3], r[4], 224, 4, 2, 5, 1e-6f, 4);
      if (l >= 0) used[l]++;
    }
    for (int l = 0; l < 4; ++l) CHECK(used[l] > 0);
    long long smax = 1;
    for (int l = 0; l < 4; ++l) smax = std::max(smax, max_samples(rois, p.scale[l], cfg.pooled, cfg.pooled, cfg.sr));
    const double tol = tolerance(smax, 1.0);
    std::vector<float> ref(no, NAN), out(no, NAN);
    CHECK_OK(mrcnn_cpu_multilevel_roi_align_with_isa(
        MRCNN_ROI_ALIGN_ISA_BASELINE, feats, p.h, p.w, p.scale, 4, p.n, p.c, rois.data(), cfg.k,
        cfg.pooled, cfg.pooled, cfg.sr, cfg.aligned, 224, 4, 2, 5, 1e-6f, ref.data()));
    for (int isa = 1; isa <= mrcnn_cpu_roi_align_best_isa(); ++isa) {
      CHECK_OK(mrcnn_cpu_multilevel_roi_align_with_isa(
          isa, feats, p.h, p.w, p.scale, 4, p.n, p.c, rois.data(), cfg.k, cfg.pooled, cfg.pooled,
          cfg.sr, cfg.aligned, 224, 4, 2, 5, 1e-6f, out.data()));
      report("multi-level cpu isa vs baseline", "pyramid",
             mrcnn_check::max_abs_diff(out.data(), ref.data(), no), tol);
    }
    // Each roi equals a single-level call on its level (the mapper picks, nothing else changes).
    for (int i = 0; i < cfg.k; ++i) {
      const float* r = &rois[i * 5];
      const int l = mrcnn::roi_align_math::roi_level(r[1], r[2], r[3], r[4], 224, 4, 2, 5, 1e-6f, 4);
      std::vector<float> one((size_t)cfg.pooled * cfg.pooled * cfg.c, NAN);
      if (l < 0) {
        std::fill(one.begin(), one.end(), 0.f);
      } else {
        CHECK_OK(mrcnn_cpu_roi_align_with_isa(MRCNN_ROI_ALIGN_ISA_BASELINE, feats[l], p.n, p.h[l],
                                              p.w[l], p.c, r, 1, cfg.pooled, cfg.pooled, p.scale[l],
                                              cfg.sr, cfg.aligned, one.data()));
      }
      CHECK(mrcnn_check::max_abs_diff(one.data(), &ref[i * one.size()], one.size()) == 0);
    }
    // Emulated CUDA.
    EmuBuf d0(feats[0], p.maps[0].size() * 4), d1(feats[1], p.maps[1].size() * 4),
        d2(feats[2], p.maps[2].size() * 4), d3(feats[3], p.maps[3].size() * 4),
        dr(rois.data(), rois.size() * 4), dout(no * 4);
    const float* dfeats[4] = {d0.f(), d1.f(), d2.f(), d3.f()};
    CHECK_OK(mrcnn_emu_multilevel_roi_align(dfeats, p.h, p.w, p.scale, 4, p.n, p.c, dr.f(), cfg.k,
                                            cfg.pooled, cfg.pooled, cfg.sr, cfg.aligned, 224, 4, 2,
                                            5, 1e-6f, dout.f(), nullptr));
    CHECK_OK(mrcnn_emu_copy_to_host(out.data(), dout.f(), no * 4, nullptr));
    report("multi-level emu vs cpu", "pyramid", mrcnn_check::max_abs_diff(out.data(), ref.data(), no), tol);
  }
}

// Out-of-range batch indices and non-finite coordinates give zeros (the Java layer rejects
// them first; the kernels must stay in bounds anyway).
MRCNN_TEST(roi_align_bad_rois_give_zeros) {
  const int n = 2, h = 4, w = 5, c = 8, k = 6;
  Rng rng(3);
  const std::vector<float> x = random_map(rng, (size_t)n * h * w * c);
  const std::vector<float> rois = {-1, 0, 0, 3, 3,   2, 0, 0, 3, 3,   NAN, 0, 0, 3, 3,
                                   0, NAN, 0, 3, 3,  1, 0, 0, INFINITY, 3,  1, -INFINITY, 0, 2, 2};
  std::vector<float> out((size_t)k * 2 * 2 * c, NAN);
  for (int aligned = 0; aligned < 2; ++aligned) {
    CHECK_OK(mrcnn_cpu_roi_align(x.data(), n, h, w, c, rois.data(), k, 2, 2, 1.f, 0, aligned, out.data(), nullptr));
    for (float v : out) CHECK(v == 0.f);
    EmuBuf dx(x.data(), x.size() * 4), dr(rois.data(), rois.size() * 4), dout(out.size() * 4);
    CHECK_OK(mrcnn_emu_roi_align(dx.f(), n, h, w, c, dr.f(), k, 2, 2, 1.f, 0, aligned, dout.f(), nullptr));
    std::fill(out.begin(), out.end(), NAN);
    CHECK_OK(mrcnn_emu_copy_to_host(out.data(), dout.f(), out.size() * 4, nullptr));
    for (float v : out) CHECK(v == 0.f);
  }
}

// Empty work (k = 0 or c = 0) succeeds and writes nothing; bad arguments are refused.
MRCNN_TEST(roi_align_empty_and_invalid_arguments) {
  // The emulator's misuse counter is process-wide (other tests provoke misuse on purpose): compare deltas.
  const long long emu_errors_before = mrcnn_emu_error_count();
  float x[8] = {0}, roi[5] = {0, 0, 0, 1, 1}, out[4] = {7, 7, 7, 7};
  CHECK_OK(mrcnn_cpu_roi_align(x, 1, 2, 2, 2, nullptr, 0, 2, 2, 1.f, 0, 0, nullptr, nullptr));
  CHECK_OK(mrcnn_emu_roi_align(nullptr, 1, 2, 2, 2, nullptr, 0, 2, 2, 1.f, 0, 0, nullptr, nullptr));
  CHECK_OK(mrcnn_cpu_roi_align(x, 1, 2, 2, 0, roi, 1, 2, 2, 1.f, 0, 0, out, nullptr));
  CHECK(out[0] == 7.f);
  const float* f[1] = {x};
  int hh[1] = {2}, ww[1] = {2};
  float sc[1] = {1.f};
  CHECK_OK(mrcnn_cpu_multilevel_roi_align(f, hh, ww, sc, 1, 1, 2, nullptr, 0, 7, 7, 2, 0, 224, 4, 4, 4, 1e-6f, nullptr, nullptr));
  const int bad = MRCNN_ERR_INVALID_ARGUMENT;
  CHECK(mrcnn_cpu_roi_align(x, 1, 2, 2, 2, roi, -1, 2, 2, 1.f, 0, 0, out, nullptr) == bad);
  CHECK(mrcnn_cpu_roi_align(x, 1, 2, 2, 2, roi, 1, 0, 2, 1.f, 0, 0, out, nullptr) == bad);
  CHECK(mrcnn_cpu_roi_align(x, 1, 0, 2, 2, roi, 1, 2, 2, 1.f, 0, 0, out, nullptr) == bad);
  CHECK(mrcnn_cpu_roi_align(x, 0, 2, 2, 2, roi, 1, 2, 2, 1.f, 0, 0, out, nullptr) == bad);
  CHECK(mrcnn_cpu_roi_align(x, 1, 2, 2, 2, roi, 1, 2, 2, NAN, 0, 0, out, nullptr) == bad);
  CHECK(mrcnn_cpu_roi_align(nullptr, 1, 2, 2, 2, roi, 1, 2, 2, 1.f, 0, 0, out, nullptr) == bad);
  CHECK(mrcnn_emu_roi_align(x, 1, 2, 2, 2, roi, 1, -3, 2, 1.f, 0, 0, out, nullptr) == bad);
  CHECK(mrcnn_cpu_multilevel_roi_align(f, hh, ww, sc, 0, 1, 2, roi, 1, 2, 2, 2, 0, 224, 4, 4, 4, 1e-6f, out, nullptr) == bad);
  CHECK(mrcnn_cpu_multilevel_roi_align(f, hh, ww, sc, 9, 1, 2, roi, 1, 2, 2, 2, 0, 224, 4, 4, 4, 1e-6f, out, nullptr) == bad);
  const float* f2[2] = {x, x};
  int h2[2] = {2, 2}, w2[2] = {2, 2};
  float s2[2] = {1.f, 0.5f};
  CHECK(mrcnn_cpu_multilevel_roi_align(f2, h2, w2, s2, 2, 1, 2, roi, 1, 2, 2, 2, 0, 224, 4, 2, 4, 1e-6f, out, nullptr) == bad);
  CHECK(mrcnn_cpu_multilevel_roi_align(f2, h2, w2, s2, 2, 1, 2, roi, 1, 2, 2, 2, 0, 224, 4, 3, 2, 1e-6f, out, nullptr) == bad);
  CHECK(mrcnn_emu_multilevel_roi_align(f2, h2, w2, s2, 2, 1, 2, roi, 1, 2, 2, 2, 0, 0, 4, 2, 3, 1e-6f, out, nullptr) == bad);
  CHECK(mrcnn_cpu_roi_align_with_isa(7, x, 1, 2, 2, 2, roi, 1, 2, 2, 1.f, 0, 0, out) == bad);
  CHECK(mrcnn_emu_error_count() == emu_errors_before);
}
