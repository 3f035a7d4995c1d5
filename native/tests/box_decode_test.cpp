// box_decode native tests: the CPU kernel against torchvision's formula written out here
// (each tensor op rounded to float32 through a volatile), and the emulated CUDA kernel
// against the CPU bit for bit (both call libm's expf and round every product on its own).
// torchvision itself is the oracle of the Java golden tests. Shapes: the RPN (k = 1, unit
// weights) and the box head (k = num_classes, weights 10/10/5/5), clipped and not, ragged
// row counts, misaligned buffers (scalar CUDA path), NaN / inf deltas, degenerate boxes,
// empty input and bad calls.
#include <cmath>
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/box_decode.h"
#include "mrcnn/device.h"

namespace {

using mrcnn_check::Rng;

const float kClip = 4.135166556742356f;  // log(1000 / 16), torchvision's bbox_xform_clip

struct Case {
  const char* name;
  int n, k;
  float w[4];
  int clip, image_h, image_w;
};

const Case kCases[] = {
    {"rpn_k1", 333, 1, {1, 1, 1, 1}, 0, 0, 0},
    {"rpn_k1_clipped", 257, 1, {1, 1, 1, 1}, 1, 61, 83},
    {"box_head_k91_clipped", 13, 91, {10, 10, 5, 5}, 1, 800, 1199},
    {"box_head_k5", 37, 5, {10, 10, 5, 5}, 0, 0, 0},
    {"one_box", 1, 3, {2, 3, 0.5f, 7}, 1, 0, 5},
};

float rnd(volatile float v) { return v; }

// torchvision's decode_single + clip_boxes_to_image, one rounded op at a time.
std::vector<float> reference(const Case& t, const std::vector<float>& deltas, const std::vector<float>& boxes) {
  std::vector<float> out((size_t)t.n * t.k * 4);
  for (int i = 0; i < t.n; ++i) {
    const float* b = &boxes[(size_t)i * 4];
    const float w = rnd(b[2] - b[0]), h = rnd(b[3] - b[1]);
    const float cx = rnd(b[0] + rnd(0.5f * w)), cy = rnd(b[1] + rnd(0.5f * h));
    for (int j = 0; j < t.k; ++j) {
      const float* d = &deltas[((size_t)i * t.k + j) * 4];
      float dx = rnd(d[0] / t.w[0]), dy = rnd(d[1] / t.w[1]);
      float dw = rnd(d[2] / t.w[2]), dh = rnd(d[3] / t.w[3]);
      if (dw > kClip) dw = kClip;
      if (dh > kClip) dh = kClip;
      const float px = rnd(rnd(dx * w) + cx), py = rnd(rnd(dy * h) + cy);
      const float pw = rnd(rnd(expf(dw)) * w), ph = rnd(rnd(expf(dh)) * h);
      const float cw = rnd(0.5f * pw), ch = rnd(0.5f * ph);
      float o[4] = {rnd(px - cw), rnd(py - ch), rnd(px + cw), rnd(py + ch)};
      if (t.clip) {
        for (int c = 0; c < 4; ++c) {
          const float hi = (float)(c % 2 ? t.image_h : t.image_w);
          if (o[c] < 0.f) o[c] = 0.f;
          if (o[c] > hi) o[c] = hi;
        }
      }
      std::memcpy(&out[((size_t)i * t.k + j) * 4], o, sizeof o);
    }
  }
  return out;
}

// Anchor-like reference boxes (x2 >= x1 mostly; every 50th box degenerate or inverted).
std::vector<float> make_boxes(Rng& rng, int n) {
  std::vector<float> b((size_t)n * 4);
  for (int i = 0; i < n; ++i) {
    const float x = rng.uniform(-40.f, 900.f), y = rng.uniform(-40.f, 700.f);
    float w = rng.uniform(1.f, 300.f), h = rng.uniform(1.f, 300.f);
    if (i % 50 == 7) w = 0.f;
    if (i % 50 == 19) h = -3.5f;
    b[i * 4 + 0] = x;
    b[i * 4 + 1] = y;
    b[i * 4 + 2] = x + w;
    b[i * 4 + 3] = y + h;
  }
  return b;
}

// Deltas: mostly N(0,1)-ish, some beyond the dw/dh clip, a few NaN and infinities.
std::vector<float> make_deltas(Rng& rng, size_t count) {
  std::vector<float> d(count);
  for (float& v : d) {
    const int s = rng.below(200);
    v = s == 0 ? NAN : s == 1 ? INFINITY : s == 2 ? -INFINITY : s < 10 ? rng.uniform(-60.f, 60.f)
        : rng.uniform(-2.5f, 2.5f);
  }
  return d;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::isnan(a[i]) && std::isnan(b[i])) continue;  // NaN payloads may differ
    if (std::memcmp(&a[i], &b[i], sizeof(float)) != 0) {
      fprintf(stderr, "  element %zu: %.9g vs %.9g\n", i, a[i], b[i]);
      return false;
    }
  }
  return true;
}

int run_cpu(const Case& t, const float* d, const float* b, float* o) {
  return mrcnn_cpu_box_decode(d, b, t.n, t.k, t.w[0], t.w[1], t.w[2], t.w[3], kClip, t.clip, t.image_h,
                              t.image_w, o, nullptr);
}

// Emulated CUDA; `shift` floats of offset misalign every buffer (the scalar path).
std::vector<float> run_emu(const Case& t, const std::vector<float>& d, const std::vector<float>& b, int shift) {
  const size_t out_n = (size_t)t.n * t.k * 4;
  void *dd = nullptr, *db = nullptr, *dout = nullptr;
  std::vector<float> out(out_n, 1234.f);
  CHECK_OK(mrcnn_emu_malloc((d.size() + shift) * sizeof(float), &dd));
  CHECK_OK(mrcnn_emu_malloc((b.size() + shift) * sizeof(float), &db));
  CHECK_OK(mrcnn_emu_malloc((out_n + shift) * sizeof(float), &dout));
  float* fd = (float*)dd + shift;
  float* fb = (float*)db + shift;
  float* fo = (float*)dout + shift;
  CHECK_OK(mrcnn_emu_copy_to_device(fd, d.data(), d.size() * sizeof(float), nullptr));
  CHECK_OK(mrcnn_emu_copy_to_device(fb, b.data(), b.size() * sizeof(float), nullptr));
  CHECK_OK(mrcnn_emu_box_decode(fd, fb, t.n, t.k, t.w[0], t.w[1], t.w[2], t.w[3], kClip, t.clip, t.image_h,
                                t.image_w, fo, nullptr));
  CHECK_OK(mrcnn_emu_copy_to_host(out.data(), fo, out_n * sizeof(float), nullptr));
  mrcnn_emu_free(dd);
  mrcnn_emu_free(db);
  mrcnn_emu_free(dout);
  return out;
}

}  // namespace

MRCNN_TEST(box_decode_cpu_matches_reference) {
  Rng rng(21);
  for (const Case& t : kCases) {
    const std::vector<float> b = make_boxes(rng, t.n);
    const std::vector<float> d = make_deltas(rng, (size_t)t.n * t.k * 4);
    std::vector<float> got((size_t)t.n * t.k * 4, 1234.f);
    CHECK_OK(run_cpu(t, d.data(), b.data(), got.data()));
    if (!same_bits(reference(t, d, b), got)) {
      fprintf(stderr, "  case %s\n", t.name);
      CHECK(false);
    }
  }
}

MRCNN_TEST(box_decode_emulated_matches_cpu) {
  Rng rng(22);
  for (const Case& t : kCases) {
    const std::vector<float> b = make_boxes(rng, t.n);
    const std::vector<float> d = make_deltas(rng, (size_t)t.n * t.k * 4);
    std::vector<float> cpu((size_t)t.n * t.k * 4);
    CHECK_OK(run_cpu(t, d.data(), b.data(), cpu.data()));
    for (int shift : {0, 1}) {
      if (!same_bits(cpu, run_emu(t, d, b, shift))) {
        fprintf(stderr, "  case %s shift %d\n", t.name, shift);
        CHECK(false);
      }
    }
  }
}

MRCNN_TEST(box_decode_special_values) {
  // dw = +inf is clamped to the clip (pw = 62.5 * w); NaN propagates; clipping keeps NaN.
  const float box[4] = {10.f, 20.f, 30.f, 60.f};  // w 20, h 40, centre (20, 40)
  const float d[8] = {0.f, 0.f, INFINITY, 0.f, NAN, 0.f, 0.f, 0.f};
  float o[8];
  CHECK_OK(mrcnn_cpu_box_decode(d, box, 1, 2, 1, 1, 1, 1, kClip, 0, 0, 0, o, nullptr));
  const float half = 0.5f * (expf(kClip) * 20.f);
  CHECK(o[0] == 20.f - half && o[2] == 20.f + half);
  CHECK(o[1] == 20.f && o[3] == 60.f);
  CHECK(std::isnan(o[4]) && std::isnan(o[6]) && o[5] == 20.f && o[7] == 60.f);
  CHECK_OK(mrcnn_cpu_box_decode(d, box, 1, 2, 1, 1, 1, 1, kClip, 1, 50, 25, o, nullptr));
  CHECK(o[0] == 0.f && o[2] == 25.f && std::isnan(o[4]) && std::isnan(o[6]) && o[7] == 50.f);
}

MRCNN_TEST(box_decode_empty_and_bad_arguments) {
  float d[16] = {}, b[8] = {}, o[16] = {};
  CHECK_OK(mrcnn_cpu_box_decode(nullptr, nullptr, 0, 3, 1, 1, 1, 1, kClip, 0, 0, 0, nullptr, nullptr));
  CHECK_OK(mrcnn_emu_box_decode(nullptr, nullptr, 0, 3, 1, 1, 1, 1, kClip, 0, 0, 0, nullptr, nullptr));
  auto bad = [&](int st) { CHECK(st == MRCNN_ERR_INVALID_ARGUMENT); };
  for (int backend = 0; backend < 2; ++backend) {
    auto f = backend == 0 ? mrcnn_cpu_box_decode : mrcnn_emu_box_decode;
    bad(f(d, b, -1, 1, 1, 1, 1, 1, kClip, 0, 0, 0, o, nullptr));        // negative n
    bad(f(d, b, 2, 0, 1, 1, 1, 1, kClip, 0, 0, 0, o, nullptr));         // k = 0
    bad(f(d, b, 2, 1, 0, 1, 1, 1, kClip, 0, 0, 0, o, nullptr));         // zero weight
    bad(f(d, b, 2, 1, 1, 1, NAN, 1, kClip, 0, 0, 0, o, nullptr));       // NaN weight
    bad(f(d, b, 2, 1, 1, 1, 1, INFINITY, kClip, 0, 0, 0, o, nullptr));  // infinite weight
    bad(f(d, b, 2, 1, 1, 1, 1, 1, NAN, 0, 0, 0, o, nullptr));           // NaN clip
    bad(f(d, b, 2, 1, 1, 1, 1, 1, kClip, 1, -1, 5, o, nullptr));        // negative image size
    bad(f(nullptr, b, 2, 1, 1, 1, 1, 1, kClip, 0, 0, 0, o, nullptr));
    bad(f(d, b, 2, 1, 1, 1, 1, 1, kClip, 0, 0, 0, nullptr, nullptr));
    bad(f(d, b, 2, 2, 1, 1, 1, 1, kClip, 0, 0, 0, d + 4, nullptr));     // out overlaps deltas
    bad(f(d, b, 2, 1, 1, 1, 1, 1, kClip, 0, 0, 0, b, nullptr));         // out overlaps boxes
  }
}
