// paste_masks native tests: the emulated CUDA kernel against the CPU kernel, and every CPU
// ISA path against a plain per-pixel loop over the shared math (mrcnn/math/paste_masks.h),
// on ragged image sizes, boxes inside / partly / wholly outside / tiny / zero-area /
// inverted / negative / huge / NaN, mask sizes 28, 14, non-square and larger than the CPU's
// stack staging, paddings 0..2, soft+binary, soft only, binary only, several thresholds,
// few masks (row-block split), wide rows (column chunks) and a large output (non-temporal
// zero fill). The torchvision goldens are checked by the Java test.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/math/paste_masks.h"
#include "mrcnn/paste_masks.h"

namespace {

using mrcnn_check::Rng;

// Tolerance: none. Every backend evaluates the same functions with the same IEEE operations:
// float32 box expansion with the multiply rounded on its own (never fused), float64 source
// indices and sums whose products are exact (so FMA contraction by g++ -march=x86-64-v4 or
// nvcc changes no bit), float32 weights. So CPU, emulated and real GPU outputs are bit-equal.
constexpr float kTolerance = 0.0f;

struct Case {
  const char* name;
  int k, mask_h, mask_w, img_h, img_w, padding;
};

// Ragged sizes: image widths not multiples of the 256-thread block or of 16-lane vectors.
const Case kCases[] = {
    {"ragged_37x53", 14, 28, 28, 37, 53, 1},
    {"mask14_40x29", 9, 14, 14, 40, 29, 1},
    {"k1_row_blocks_61x70", 1, 28, 28, 61, 70, 1},
    {"k2_nonsquare_27x34", 2, 12, 20, 27, 34, 1},
    {"padding0_23x19", 5, 28, 28, 23, 19, 0},
    {"padding2_33x45", 5, 28, 28, 33, 45, 2},
    {"image_1x1", 4, 28, 28, 1, 1, 1},
    {"single_row_1x300", 3, 28, 28, 1, 300, 1},
    {"single_column_200x1", 3, 28, 28, 200, 1, 1},
    {"wide_9x600_chunks", 3, 28, 28, 9, 600, 1},
    {"mask1x1", 4, 1, 1, 15, 17, 1},
};

// Boxes: a fixed list of edge cases relative to the image, then random ones.
std::vector<float> make_boxes(int k, int img_h, int img_w, Rng& rng) {
  const float H = (float)img_h, W = (float)img_w;
  const float edge[][4] = {
      {0.2f * W, 0.1f * H, 0.8f * W, 0.7f * H},      // inside
      {-8.4f, 0.3f * H, 0.4f * W, 0.9f * H},         // partly left
      {W - 6.2f, -6.7f, W + 9.1f, 0.5f * H},         // partly right and top
      {-30.f, -20.f, -10.f, -5.f},                   // wholly outside, negative
      {W + 7.f, 2.f, W + 27.f, H},                   // wholly right
      {1.f, H + 3.f, W, H + 23.f},                   // wholly below
      {0.3f * W, 0.3f * H, 0.3f * W + 0.2f, 0.3f * H + 0.2f},  // tiny
      {0.5f * W, 0.5f * H, 0.5f * W, 0.5f * H},      // zero area
      {0.7f * W, 0.7f * H, 0.2f * W, 0.3f * H},      // inverted
      {-3.f, 0.2f * H, -0.9f, 0.6f * H},             // negative x truncating to 0
      {-500.f, -400.f, W + 600.f, H + 700.f},        // huge
      {NAN, 1.f, 5.f, 5.f},                          // NaN: all zero
      {-1e30f, -1e30f, 1e30f, 1e30f},                // beyond the coordinate clamp
      {W - 1.2f, H - 1.3f, W - 0.4f, H - 0.2f},      // last pixel
  };
  const int n_edge = (int)(sizeof edge / sizeof edge[0]);
  std::vector<float> b((size_t)k * 4);
  for (int i = 0; i < k; ++i) {
    if (i < n_edge) {
      for (int c = 0; c < 4; ++c) b[4 * i + c] = edge[i][c];
    } else {
      const float x0 = rng.uniform(-0.2f * W, 1.1f * W), y0 = rng.uniform(-0.2f * H, 1.1f * H);
      b[4 * i + 0] = x0;
      b[4 * i + 1] = y0;
      b[4 * i + 2] = x0 + rng.uniform(0.f, 1.2f * W);
      b[4 * i + 3] = y0 + rng.uniform(0.f, 1.2f * H);
    }
  }
  return b;
}

std::vector<float> make_masks(int k, int mh, int mw, Rng& rng) {
  std::vector<float> m((size_t)k * mh * mw);
  for (float& v : m) {
    v = rng.uniform(0.f, 1.f);
    if (rng.below(8) == 0) v = 0.5f;  // exact threshold values exercise the strict '>'
  }
  return m;
}

// The definition, pixel by pixel, straight from the shared math.
void reference(const Case& c, const float* masks, const float* boxes, float threshold,
               std::vector<float>& soft, std::vector<uint8_t>& bin) {
  using namespace mrcnn_paste;
  const size_t plane = (size_t)c.img_h * c.img_w;
  soft.assign((size_t)c.k * plane, 0.f);
  bin.assign((size_t)c.k * plane, 0);
  const int in_h = c.mask_h + 2 * c.padding, in_w = c.mask_w + 2 * c.padding;
  const float es = paste_expand_scale(c.mask_w, c.padding);
  for (int m = 0; m < c.k; ++m) {
    const PasteBox b = paste_box(boxes + 4 * m, es, in_h, in_w, c.img_h, c.img_w);
    for (int y = 0; y < c.img_h; ++y)
      for (int x = 0; x < c.img_w; ++x) {
        if (y < b.cy0 || y >= b.cy1 || x < b.cx0 || x >= b.cx1) continue;
        const PasteTap ty = paste_tap(in_h, b.h, b.scale_y, y - b.y0);
        const PasteTap tx = paste_tap(in_w, b.w, b.scale_x, x - b.x0);
        const float v = paste_pixel(masks + (size_t)m * c.mask_h * c.mask_w, c.mask_h, c.mask_w,
                                    c.padding, ty, tx);
        soft[m * plane + (size_t)y * c.img_w + x] = v;
        bin[m * plane + (size_t)y * c.img_w + x] = v > threshold ? 1 : 0;
      }
  }
}

struct EmuBuf {
  void* p = nullptr;
  explicit EmuBuf(size_t bytes) { CHECK_OK(mrcnn_emu_malloc(bytes, &p)); }
  ~EmuBuf() { mrcnn_emu_free(p); }
  float* f() const { return (float*)p; }
  uint8_t* u8() const { return (uint8_t*)p; }
};

void compare(const char* what, const Case& c, const std::vector<float>* soft, const std::vector<float>* soft_ref,
             const std::vector<uint8_t>* bin, const std::vector<uint8_t>* bin_ref) {
  if (soft) {
    size_t at = 0;
    const double d = mrcnn_check::max_abs_diff(soft->data(), soft_ref->data(), soft_ref->size(), &at);
    if (!(d <= kTolerance)) {
      char m[256];
      snprintf(m, sizeof m, "%s %s: soft differs by %g at %zu (%.9g vs %.9g)", what, c.name, d, at,
               (double)(*soft)[at], (double)(*soft_ref)[at]);
      mrcnn_check::record_failure(__FILE__, __LINE__, m);
    }
  }
  if (bin) {
    size_t bad = 0, first = 0;
    for (size_t i = 0; i < bin_ref->size(); ++i)
      if ((*bin)[i] != (*bin_ref)[i] && bad++ == 0) first = i;
    if (bad) {
      char m[256];
      snprintf(m, sizeof m, "%s %s: %zu binary pixels differ, first at %zu", what, c.name, bad, first);
      mrcnn_check::record_failure(__FILE__, __LINE__, m);
    }
  }
}

// Every CPU ISA and output combination against the per-pixel definition; guard elements
// after each output must stay untouched.
MRCNN_TEST(paste_masks_cpu_isas_match_definition) {
  const int best = mrcnn_cpu_paste_masks_best_isa();
  uint64_t seed = 11;
  for (const Case& c : kCases) {
    Rng rng(seed++);
    const std::vector<float> masks = make_masks(c.k, c.mask_h, c.mask_w, rng);
    const std::vector<float> boxes = make_boxes(c.k, c.img_h, c.img_w, rng);
    const float thresholds[] = {0.5f, 0.0f, 0.9f};
    {
      const float th = thresholds[(&c - kCases) % 3];
      std::vector<float> sref;
      std::vector<uint8_t> bref;
      reference(c, masks.data(), boxes.data(), th, sref, bref);
      const size_t n = sref.size(), guard = 16;
      for (int isa = 0; isa <= best; ++isa)
        for (int outputs = 1; outputs <= 3; ++outputs) {  // 1 soft, 2 binary, 3 both
          std::vector<float> soft(n + guard, -3.f);
          std::vector<uint8_t> bin(n + guard, 7);
          CHECK_OK(mrcnn_cpu_paste_masks_with_isa(isa, masks.data(), c.k, c.mask_h, c.mask_w,
                                                  boxes.data(), c.img_h, c.img_w, c.padding, th,
                                                  (outputs & 1) ? soft.data() : nullptr,
                                                  (outputs & 2) ? bin.data() : nullptr));
          for (size_t i = n; i < n + guard; ++i) CHECK(soft[i] == -3.f && bin[i] == 7);
          if (!(outputs & 1)) CHECK(soft[0] == -3.f);
          if (!(outputs & 2)) CHECK(bin[0] == 7);
          soft.resize(n);
          bin.resize(n);
          compare(isa ? "cpu avx512" : "cpu baseline", c, (outputs & 1) ? &soft : nullptr, &sref,
                  (outputs & 2) ? &bin : nullptr, &bref);
        }
    }
  }
}

// The CPU paths the small cases do not reach: a padded mask too big for the stack staging
// (bounds-checked reads), boxes wider than one column chunk, and an output above the
// non-temporal threshold (16 MiB) split in row blocks (k = 2 < 2 * threads).
MRCNN_TEST(paste_masks_cpu_large_paths_match_definition) {
  const Case cases[] = {
      {"big_mask_70x66", 3, 70, 66, 45, 52, 1},
      {"wide_chunks_7x1300", 3, 28, 28, 7, 1300, 1},
      {"stream_1200x1400", 2, 28, 28, 1200, 1400, 1},
  };
  const int best = mrcnn_cpu_paste_masks_best_isa();
  Rng rng(99);
  for (const Case& c : cases) {
    const std::vector<float> masks = make_masks(c.k, c.mask_h, c.mask_w, rng);
    std::vector<float> boxes((size_t)c.k * 4);
    const float W = (float)c.img_w, H = (float)c.img_h;
    const float b[3][4] = {{-5.f, 0.1f * H, 0.95f * W, 0.8f * H}, {0.3f * W, -2.f, W + 40.f, H + 1.f},
                           {0.1f * W, 0.2f * H, 0.15f * W, 0.3f * H}};
    // The large output tests the zero fill; small boxes keep the reference loop short.
    const float shrink = c.img_h * c.img_w > 1000000 ? 0.25f : 1.0f;
    for (int i = 0; i < c.k; ++i)
      for (int j = 0; j < 4; ++j) boxes[4 * i + j] = b[i][j] * shrink;
    std::vector<float> sref;
    std::vector<uint8_t> bref;
    reference(c, masks.data(), boxes.data(), 0.5f, sref, bref);
    for (int isa = 0; isa <= best; ++isa) {
      std::vector<float> soft(sref.size(), -3.f);
      std::vector<uint8_t> bin(sref.size(), 7);
      CHECK_OK(mrcnn_cpu_paste_masks_with_isa(isa, masks.data(), c.k, c.mask_h, c.mask_w, boxes.data(),
                                              c.img_h, c.img_w, c.padding, 0.5f, soft.data(), bin.data()));
      compare(isa ? "cpu avx512" : "cpu baseline", c, &soft, &sref, &bin, &bref);
    }
  }
}

// The emulated CUDA kernel against the CPU kernel, every output combination.
MRCNN_TEST(paste_masks_emu_matches_cpu) {
  uint64_t seed = 101;
  for (const Case& c : kCases) {
    Rng rng(seed++);
    const std::vector<float> masks = make_masks(c.k, c.mask_h, c.mask_w, rng);
    const std::vector<float> boxes = make_boxes(c.k, c.img_h, c.img_w, rng);
    const float th = c.k % 2 ? 0.5f : 0.3f;
    const size_t n = (size_t)c.k * c.img_h * c.img_w;
    std::vector<float> cs(n);
    std::vector<uint8_t> cb(n);
    CHECK_OK(mrcnn_cpu_paste_masks(masks.data(), c.k, c.mask_h, c.mask_w, boxes.data(), c.img_h,
                                   c.img_w, c.padding, th, cs.data(), cb.data(), nullptr));
    EmuBuf dm(masks.size() * 4), db(boxes.size() * 4), ds(n * 4), dbin(n);
    CHECK_OK(mrcnn_emu_copy_to_device(dm.p, masks.data(), masks.size() * 4, nullptr));
    CHECK_OK(mrcnn_emu_copy_to_device(db.p, boxes.data(), boxes.size() * 4, nullptr));
    // Both outputs for every case; soft only and binary only on the first two (the emulator
    // under ASan costs ~0.1 ms per emulated thread, so the thread count is kept small).
    for (int outputs = 3; outputs >= (&c - kCases < 2 ? 1 : 3); --outputs) {
      // The emulator's allocations start as 0xFF: every pixel must be written.
      CHECK_OK(mrcnn_emu_memset(ds.p, 0xFF, n * 4, nullptr));
      CHECK_OK(mrcnn_emu_memset(dbin.p, 0xAB, n, nullptr));
      CHECK_OK(mrcnn_emu_paste_masks(dm.f(), c.k, c.mask_h, c.mask_w, db.f(), c.img_h, c.img_w,
                                     c.padding, th, (outputs & 1) ? ds.f() : nullptr,
                                     (outputs & 2) ? dbin.u8() : nullptr, nullptr));
      std::vector<float> es(n);
      std::vector<uint8_t> eb(n);
      CHECK_OK(mrcnn_emu_copy_to_host(es.data(), ds.p, n * 4, nullptr));
      CHECK_OK(mrcnn_emu_copy_to_host(eb.data(), dbin.p, n, nullptr));
      if (!(outputs & 1)) CHECK(n == 0 || std::isnan(es[0]));  // untouched 0xFF bytes
      if (!(outputs & 2)) CHECK(n == 0 || eb[0] == 0xAB);
      compare("emu vs cpu", c, (outputs & 1) ? &es : nullptr, &cs, (outputs & 2) ? &eb : nullptr, &cb);
    }
  }
}

// Empty inputs are defined results (nothing written, OK), bad arguments fail cleanly on
// every backend.
MRCNN_TEST(paste_masks_arguments) {
  using Fn = int (*)(const float*, int, int, int, const float*, int, int, int, float, float*, uint8_t*, void*);
  const Fn fns[] = {mrcnn_cpu_paste_masks, mrcnn_emu_paste_masks};
  float masks[28 * 28] = {0}, boxes[4] = {1, 1, 5, 5}, soft[4 * 6];
  uint8_t bin[4 * 6];
  for (Fn f : fns) {
    // Defined no-ops.
    CHECK(f(nullptr, 0, 28, 28, nullptr, 4, 6, 1, 0.5f, soft, bin, nullptr) == MRCNN_OK);
    CHECK(f(masks, 1, 28, 28, boxes, 0, 6, 1, 0.5f, soft, bin, nullptr) == MRCNN_OK);
    CHECK(f(masks, 1, 28, 28, boxes, 4, 0, 1, 0.5f, soft, bin, nullptr) == MRCNN_OK);
    CHECK(f(masks, 1, 28, 28, boxes, 4, 6, 1, 0.5f, nullptr, nullptr, nullptr) == MRCNN_OK);
    // Invalid.
    CHECK(f(masks, -1, 28, 28, boxes, 4, 6, 1, 0.5f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(masks, 1, 0, 28, boxes, 4, 6, 1, 0.5f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(masks, 1, 28, -2, boxes, 4, 6, 1, 0.5f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(masks, 1, 28, 28, boxes, -4, 6, 1, 0.5f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(masks, 1, 28, 28, boxes, 4, -6, 1, 0.5f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(masks, 1, 28, 28, boxes, 4, 6, -1, 0.5f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(masks, 1, 28, 28, boxes, 4, 6, 40000, 0.5f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(masks, 1, 28, 28, boxes, 4, 6, 1, NAN, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(masks, 1, 28, 28, boxes, 4, 6, 1, -0.1f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(nullptr, 1, 28, 28, boxes, 4, 6, 1, 0.5f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(f(masks, 1, 28, 28, nullptr, 4, 6, 1, 0.5f, soft, bin, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
    CHECK(std::strlen(mrcnn_last_error()) > 0);
  }
  CHECK(mrcnn_cpu_paste_masks_with_isa(7, masks, 1, 28, 28, boxes, 4, 6, 1, 0.5f, soft, bin) ==
        MRCNN_ERR_INVALID_ARGUMENT);
}

// The shared math itself on torchvision facts checked in Python (tools/goldens): truncation
// toward zero after expanding, w = max(x1 - x0 + 1, 1), the 30/28 scale rounded to float32,
// the clamp of negative source indices, the copy taps when sizes are equal.
MRCNN_TEST(paste_masks_math_facts) {
  using namespace mrcnn_paste;
  const float es = paste_expand_scale(28, 1);
  CHECK(es == (float)(30.0 / 28.0));
  const float zero_area[4] = {7.f, 9.f, 7.f, 9.f};
  PasteBox b = paste_box(zero_area, es, 30, 30, 37, 53);
  CHECK(b.x0 == 7 && b.y0 == 9 && b.w == 1 && b.h == 1 && b.cx0 == 7 && b.cx1 == 8);
  const float negative[4] = {-3.f, 3.f, -0.9f, 9.f};  // expands to x in (-3.075, -0.825)
  b = paste_box(negative, es, 30, 30, 37, 53);
  CHECK(b.x0 == -3 && b.w == 4 && b.cx0 == 0 && b.cx1 == 1);
  const float inverted[4] = {20.f, 20.f, 14.f, 16.f};
  b = paste_box(inverted, es, 30, 30, 37, 53);
  CHECK(b.w == 1 && b.h == 1 && b.cx1 == b.cx0 && b.cy1 == b.cy0);
  const float nan_box[4] = {1.f, NAN, 3.f, 4.f};
  b = paste_box(nan_box, es, 30, 30, 37, 53);
  CHECK(b.cx1 == b.cx0 && b.cy1 == b.cy0);
  PasteTap t = paste_tap(30, 30, 1.0f, 17);
  CHECK(t.i0 == 17 && t.i1 == 17 && t.l0 == 1.f && t.l1 == 0.f);
  t = paste_tap(30, 100, 0.3f, 0);  // 0.3 * 0.5 - 0.5 < 0 -> clamped to 0
  CHECK(t.i0 == 0 && t.i1 == 1 && t.l1 == 0.f);
  t = paste_tap(30, 1, 30.f, 0);  // one output pixel samples the centre 14.5
  CHECK(t.i0 == 14 && t.i1 == 15 && t.l1 == 0.5f);
  t = paste_tap(30, 100, 0.3f, 99);  // 0.3 * 99.5 - 0.5 = 29.35: i1 stays at the last index
  CHECK(t.i0 == 29 && t.i1 == 29);
}

}  // namespace
