// conv2d native tests: every CPU ISA path (AVX-512, AVX2, scalar) against a float64
// reference loop, and the emulated CUDA kernels (fp32 implicit GEMM and TF32 WMMA)
// against the CPU, on ragged sizes (channels not multiples of 16/32, widths not
// multiples of the tile widths), every kernel size 1/3/7, strides 1/2, padding 0/1/3,
// dilation 1/2, with and without bias, residual and ReLU.
#include <cmath>
#include <cstdio>
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/conv2d.h"
#include "mrcnn/device.h"
#include "mrcnn/math/conv2d.h"

namespace {

using mrcnn_check::Rng;

// Tolerance. An fp32 sum of K products computed in any order is within K*u*S of the exact
// value, u = 2^-24 (unit roundoff) and S = sum |x_i*w_i| + |bias| + |residual| (the
// classical bound gamma_K ~ K*u for recursive summation; FMA and blocked orders only
// tighten it). Two fp32 results (e.g. CPU vs emulated GPU) each obey it, so their
// difference is within 2*K*u*S = K*eps*S with eps = 2^-23. It is a bound, not a
// statistical guess, and a single dropped or doubled product (about S/K) still exceeds
// it for the K < 2000 used here.
constexpr double kEps32 = 1.1920928955078125e-07;  // 2^-23
// TF32 keeps 10 of fp32's 23 mantissa bits: rounding (the kernel's __float_to_tf32) or
// truncating (how the tensor unit reads raw fp32) each operand is off by less than 2^-10
// relative, so each product x*w by less than 2*2^-10 (+2^-20) of |x*w|.
constexpr double kTf32ProductRel = 2.0 * 9.765625e-04 + 1e-6;  // 2 * 2^-10

struct Case {
  const char* name;
  int n, h, w, c_in, c_out, kh, kw, sh, sw, ph, pw, dh, dw;
  bool bias, residual, relu;
};

// Ragged and edge cases; total MACs stay below ~2e6 so the emulator runs them quickly.
const Case kCases[] = {
    {"1x1_s1_ragged", 1, 17, 23, 5, 33, 1, 1, 1, 1, 0, 0, 1, 1, true, false, false},
    {"1x1_s2_downsample", 2, 13, 11, 33, 40, 1, 1, 2, 2, 0, 0, 1, 1, false, true, true},
    {"3x3_s1_p1_bias_relu", 1, 17, 23, 5, 33, 3, 3, 1, 1, 1, 1, 1, 1, true, false, true},
    {"3x3_s1_p1_residual", 2, 9, 19, 33, 17, 3, 3, 1, 1, 1, 1, 1, 1, true, true, true},
    {"3x3_s2_p1", 1, 17, 23, 16, 64, 3, 3, 2, 2, 1, 1, 1, 1, true, false, false},
    {"3x3_s1_p0", 1, 10, 31, 7, 3, 3, 3, 1, 1, 0, 0, 1, 1, false, false, false},
    {"3x3_d2_p2", 1, 15, 21, 9, 35, 3, 3, 1, 1, 2, 2, 2, 2, true, true, false},
    {"3x3_d2_p1_s2", 2, 14, 15, 6, 12, 3, 3, 2, 2, 1, 1, 2, 2, false, false, true},
    {"7x7_s2_p3_stem", 1, 37, 45, 3, 64, 7, 7, 2, 2, 3, 3, 1, 1, true, false, true},
    {"7x7_s1_p3_ragged", 1, 11, 13, 5, 33, 7, 7, 1, 1, 3, 3, 1, 1, false, true, false},
    {"7x7_p0_small", 1, 8, 9, 4, 7, 7, 7, 1, 1, 0, 0, 1, 1, true, false, true},
    {"5x3_mixed", 1, 12, 29, 11, 19, 5, 3, 2, 1, 2, 0, 1, 2, true, true, true},
    {"pad_bigger_than_input", 1, 2, 3, 4, 5, 3, 3, 1, 1, 3, 3, 1, 1, true, true, false},
    {"one_pixel", 1, 1, 1, 3, 2, 1, 1, 1, 1, 0, 0, 1, 1, true, false, false},
    {"wide_row_tiles", 1, 3, 61, 8, 48, 3, 3, 1, 1, 1, 1, 1, 1, false, false, false},
    {"3x3_d2_c20_border_tiles", 1, 9, 15, 20, 33, 3, 3, 1, 1, 2, 2, 2, 2, true, false, true},
    {"5x5_s2_c17_border_tiles", 1, 8, 11, 17, 5, 5, 5, 2, 2, 2, 2, 1, 1, false, true, true},
};

struct Data {
  int oh, ow;
  std::vector<float> input, weight, bias, residual;
  std::vector<double> ref, scale;  // float64 reference and its error scale S per element
  long long K;
};

Data make_data(const Case& c, uint64_t seed) {
  Data d;
  d.oh = mrcnn_conv2d::out_size(c.h, c.kh, c.sh, c.ph, c.dh);
  d.ow = mrcnn_conv2d::out_size(c.w, c.kw, c.sw, c.pw, c.dw);
  Rng rng(seed);
  d.input.resize((size_t)c.n * c.h * c.w * c.c_in);
  for (float& v : d.input) v = rng.uniform(-1.f, 1.f);
  d.weight.resize((size_t)c.c_out * c.c_in * c.kh * c.kw);
  for (float& v : d.weight) v = rng.uniform(-0.5f, 0.5f);
  if (c.bias) { d.bias.resize(c.c_out); for (float& v : d.bias) v = rng.uniform(-1.f, 1.f); }
  const size_t on = (size_t)c.n * d.oh * d.ow * c.c_out;
  if (c.residual) { d.residual.resize(on); for (float& v : d.residual) v = rng.uniform(-1.f, 1.f); }
  d.ref.assign(on, 0.0);
  d.scale.assign(on, 0.0);
  d.K = (long long)c.c_in * c.kh * c.kw;
  for (int b = 0; b < c.n; ++b)
    for (int oy = 0; oy < d.oh; ++oy)
      for (int ox = 0; ox < d.ow; ++ox)
        for (int co = 0; co < c.c_out; ++co) {
          double acc = 0, s = 0;
          for (int ky = 0; ky < c.kh; ++ky)
            for (int kx = 0; kx < c.kw; ++kx) {
              const int iy = oy * c.sh - c.ph + ky * c.dh, ix = ox * c.sw - c.pw + kx * c.dw;
              if (iy < 0 || iy >= c.h || ix < 0 || ix >= c.w) continue;
              for (int ci = 0; ci < c.c_in; ++ci) {
                const double p = (double)d.input[(((size_t)b * c.h + iy) * c.w + ix) * c.c_in + ci] *
                                 d.weight[(((size_t)co * c.c_in + ci) * c.kh + ky) * c.kw + kx];
                acc += p;
                s += std::fabs(p);
              }
            }
          const size_t o = (((size_t)b * d.oh + oy) * d.ow + ox) * c.c_out + co;
          if (c.bias) { acc += d.bias[co]; s += std::fabs(d.bias[co]); }
          if (c.residual) { acc += d.residual[o]; s += std::fabs(d.residual[o]); }
          if (c.relu && acc < 0) acc = 0;
          d.ref[o] = acc;
          d.scale[o] = s;
        }
  return d;
}

// Max over elements of |got - want| / (K*u*S) style ratio: <= 1 passes.
double worst_ratio(const float* got, const double* want, const double* scale, size_t n,
                   double rel_per_unit_scale, size_t* where) {
  double worst = 0;
  *where = 0;
  for (size_t i = 0; i < n; ++i) {
    const double tol = rel_per_unit_scale * scale[i] + 1e-30;
    const double r = std::isfinite(got[i]) ? std::fabs(got[i] - want[i]) / tol : INFINITY;
    if (r > worst) { worst = r; *where = i; }
  }
  return worst;
}

int run_cpu(int isa, const Case& c, const Data& d, const float* packed, float* out) {
  return mrcnn_cpu_conv2d_with_isa(isa, d.input.data(), c.n, c.h, c.w, c.c_in, packed, c.c_out,
                                   c.kh, c.kw, c.bias ? d.bias.data() : nullptr,
                                   c.residual ? d.residual.data() : nullptr, out, d.oh, d.ow, c.sh,
                                   c.sw, c.ph, c.pw, c.dh, c.dw, c.relu ? 1 : 0);
}

void report(const char* what, const Case& c, double ratio, size_t where, const float* got,
            const double* want) {
  if (ratio <= 1.0) return;
  char m[320];
  snprintf(m, sizeof m, "%s case %s: element %zu got %.9g want %.9g (%.3g x tolerance)", what,
           c.name, where, (double)got[where], want[where], ratio);
  mrcnn_check::record_failure(__FILE__, __LINE__, m);
}

// Every ISA this CPU has, against the float64 reference (each within K*u*S, i.e. half the
// two-sided bound).
void check_isas(const Case* cases, size_t count, uint64_t seed) {
  const int best = mrcnn_cpu_conv2d_best_isa();
  const char* names[] = {"scalar", "avx2", "avx512"};
  for (size_t i = 0; i < count; ++i) {
    const Case& c = cases[i];
    Data d = make_data(c, seed);
    std::vector<float> packed(mrcnn_cpu_conv2d_packed_weight_size(c.c_out, c.c_in, c.kh, c.kw));
    CHECK_OK(mrcnn_cpu_conv2d_pack_weight(d.weight.data(), c.c_out, c.c_in, c.kh, c.kw, packed.data()));
    for (int isa = 0; isa <= best; ++isa) {
      std::vector<float> out(d.ref.size(), NAN);
      CHECK_OK(run_cpu(isa, c, d, packed.data(), out.data()));
      size_t where;
      double r = worst_ratio(out.data(), d.ref.data(), d.scale.data(), out.size(),
                             d.K * kEps32 / 2, &where);
      report(names[isa], c, r, where, out.data(), d.ref.data());
    }
  }
}

}  // namespace

MRCNN_TEST(conv2d_cpu_isas_match_reference) {
  check_isas(kCases, sizeof kCases / sizeof kCases[0], 11);
}

// The public entry point (best ISA, workspace/stream ignored) agrees with the forced one.
MRCNN_TEST(conv2d_cpu_public_entry) {
  const Case& c = kCases[3];
  Data d = make_data(c, 5);
  std::vector<float> packed(mrcnn_cpu_conv2d_packed_weight_size(c.c_out, c.c_in, c.kh, c.kw));
  CHECK_OK(mrcnn_cpu_conv2d_pack_weight(d.weight.data(), c.c_out, c.c_in, c.kh, c.kw, packed.data()));
  std::vector<float> a(d.ref.size()), b(d.ref.size());
  CHECK_OK(run_cpu(mrcnn_cpu_conv2d_best_isa(), c, d, packed.data(), a.data()));
  CHECK(mrcnn_cpu_conv2d_workspace_size(c.n, c.h, c.w, c.c_in, c.c_out, c.kh, c.kw, d.oh, d.ow,
                                        c.sh, c.sw, c.ph, c.pw, c.dh, c.dw) == 0);
  CHECK_OK(mrcnn_cpu_conv2d(d.input.data(), c.n, c.h, c.w, c.c_in, packed.data(), c.c_out, c.kh,
                            c.kw, d.bias.data(), d.residual.data(), b.data(), d.oh, d.ow, c.sh,
                            c.sw, c.ph, c.pw, c.dh, c.dw, 1, nullptr, 0, nullptr));
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);
  CHECK_OK(mrcnn_cpu_conv2d_tf32(d.input.data(), c.n, c.h, c.w, c.c_in, packed.data(), c.c_out, c.kh,
                                 c.kw, d.bias.data(), d.residual.data(), b.data(), d.oh, d.ow, c.sh,
                                 c.sw, c.ph, c.pw, c.dh, c.dw, 1, nullptr, 0, nullptr));
  CHECK(std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0);  // fp32 on the CPU
}

// Larger channel counts and a long K on the vector paths, including the 1x1 GEMM path
// whose rows are joined (the ResNet bottleneck shapes, shrunk spatially).
MRCNN_TEST(conv2d_cpu_wide_channels) {
  const Case cases[] = {
      {"1x1_512_to_100", 1, 5, 7, 512, 100, 1, 1, 1, 1, 0, 0, 1, 1, true, true, true},
      {"3x3_128_to_70", 1, 6, 17, 128, 70, 3, 3, 1, 1, 1, 1, 1, 1, true, false, true},
      {"1x1_s2_64_to_96", 2, 9, 10, 64, 96, 1, 1, 2, 2, 0, 0, 1, 1, false, false, false},
      {"3x3_14x14_mask_head_like", 2, 14, 14, 32, 40, 3, 3, 1, 1, 1, 1, 1, 1, true, true, true},
      {"3x3_1100_zero_row_chunks", 1, 3, 5, 1100, 20, 3, 3, 1, 1, 1, 1, 1, 1, true, false, false},
  };
  check_isas(cases, sizeof cases / sizeof cases[0], 3);
}

// ReLU keeps NaN (as torch.relu does) and the batch of zero images is a no-op.
MRCNN_TEST(conv2d_cpu_nan_and_empty_batch) {
  const int best = mrcnn_cpu_conv2d_best_isa();
  const int h = 3, w = 17, ci = 2, co = 20;
  std::vector<float> in((size_t)h * w * ci, 1.0f), wt((size_t)co * ci * 9, -1.0f);
  in[(size_t)(1 * w + 8) * ci] = NAN;
  std::vector<float> packed(mrcnn_cpu_conv2d_packed_weight_size(co, ci, 3, 3));
  CHECK_OK(mrcnn_cpu_conv2d_pack_weight(wt.data(), co, ci, 3, 3, packed.data()));
  for (int isa = 0; isa <= best; ++isa) {
    std::vector<float> out((size_t)h * w * co, 7.0f);
    CHECK_OK(mrcnn_cpu_conv2d_with_isa(isa, in.data(), 1, h, w, ci, packed.data(), co, 3, 3,
                                       nullptr, nullptr, out.data(), h, w, 1, 1, 1, 1, 1, 1, 1));
    CHECK(std::isnan(out[(size_t)(1 * w + 8) * co + 5]));
    CHECK(out[(size_t)(0 * w + 0) * co] == 0.0f);          // negative -> 0
    CHECK(!std::isnan(out[(size_t)(1 * w + 12) * co]));    // outside the NaN's reach
    std::vector<float> untouched(4, 3.0f);
    CHECK_OK(mrcnn_cpu_conv2d_with_isa(isa, nullptr, 0, h, w, ci, packed.data(), co, 3, 3,
                                       nullptr, nullptr, untouched.data(), h, w, 1, 1, 1, 1, 1, 1, 1));
    CHECK(untouched[0] == 3.0f);
  }
}

MRCNN_TEST(conv2d_cpu_rejects_bad_arguments) {
  std::vector<float> in(2 * 5 * 5 * 3, 0.f), out(2 * 5 * 5 * 4, 0.f);
  std::vector<float> packed(mrcnn_cpu_conv2d_packed_weight_size(4, 3, 3, 3));
  const float* i = in.data(); const float* p = packed.data(); float* o = out.data();
  auto call = [&](const float* ii, int n, int h, int w, int c_in, const float* pp, int c_out, int k,
                  float* oo, int oh, int ow, int s, int pad, int dil) {
    return mrcnn_cpu_conv2d(ii, n, h, w, c_in, pp, c_out, k, k, nullptr, nullptr, oo, oh, ow, s, s,
                            pad, pad, dil, dil, 0, nullptr, 0, nullptr);
  };
  CHECK(call(i, 2, 5, 5, 3, p, 4, 3, o, 5, 5, 1, 1, 1) == MRCNN_OK);
  CHECK(call(i, 2, 5, 5, 3, p, 4, 3, o, 4, 5, 1, 1, 1) == MRCNN_ERR_INVALID_ARGUMENT);  // wrong out_h
  CHECK(call(i, 2, 5, 5, 3, p, 4, 3, o, 5, 5, 0, 1, 1) == MRCNN_ERR_INVALID_ARGUMENT);  // stride 0
  CHECK(call(i, 2, 5, 5, 3, p, 4, 3, o, 5, 5, 1, -1, 1) == MRCNN_ERR_INVALID_ARGUMENT); // pad < 0
  CHECK(call(i, 2, 5, 5, 3, p, 4, 3, o, 5, 5, 1, 1, 0) == MRCNN_ERR_INVALID_ARGUMENT);  // dil 0
  CHECK(call(i, -1, 5, 5, 3, p, 4, 3, o, 5, 5, 1, 1, 1) == MRCNN_ERR_INVALID_ARGUMENT); // n < 0
  CHECK(call(i, 2, 5, 5, 0, p, 4, 3, o, 5, 5, 1, 1, 1) == MRCNN_ERR_INVALID_ARGUMENT);  // c_in 0
  CHECK(call(i, 2, 5, 5, 3, p, 0, 3, o, 5, 5, 1, 1, 1) == MRCNN_ERR_INVALID_ARGUMENT);  // c_out 0
  CHECK(call(nullptr, 2, 5, 5, 3, p, 4, 3, o, 5, 5, 1, 1, 1) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(call(i, 2, 5, 5, 3, nullptr, 4, 3, o, 5, 5, 1, 1, 1) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(call(i, 2, 5, 5, 3, p, 4, 3, nullptr, 5, 5, 1, 1, 1) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(call(i, 2, 2, 2, 3, p, 4, 7, o, 0, 0, 1, 0, 1) == MRCNN_ERR_INVALID_ARGUMENT);  // kernel > input
  CHECK(mrcnn_cpu_conv2d_pack_weight(nullptr, 4, 3, 3, 3, packed.data()) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_conv2d_pack_weight(in.data(), 0, 3, 3, 3, packed.data()) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_conv2d_packed_weight_size(4, 3, 0, 3) == 0);
  CHECK(mrcnn_cpu_conv2d_with_isa(99, i, 2, 5, 5, 3, p, 4, 3, 3, nullptr, nullptr, o, 5, 5, 1, 1,
                                  1, 1, 1, 1, 0) == MRCNN_ERR_INVALID_ARGUMENT);
}

// ---- emulated CUDA against the CPU -------------------------------------------------------

namespace {

// Device copy of a host vector in the emulated backend (nullptr for an empty vector).
struct EmuBuf {
  void* p = nullptr;
  EmuBuf() = default;
  explicit EmuBuf(size_t bytes) { if (bytes) CHECK_OK(mrcnn_emu_malloc(bytes, &p)); }
  EmuBuf(const float* src, size_t count) {
    if (count == 0) return;
    CHECK_OK(mrcnn_emu_malloc(count * sizeof(float), &p));
    CHECK_OK(mrcnn_emu_copy_to_device(p, src, count * sizeof(float), nullptr));
  }
  ~EmuBuf() { if (p) mrcnn_emu_free(p); }
  EmuBuf(const EmuBuf&) = delete;
  EmuBuf& operator=(const EmuBuf&) = delete;
  float* f() const { return static_cast<float*>(p); }
};

using ConvFn = int (*)(const float*, int, int, int, int, const float*, int, int, int, const float*,
                       const float*, float*, int, int, int, int, int, int, int, int, int, void*,
                       size_t, void*);

// Runs case c through an emulated conv2d entry point; returns the NHWC output.
std::vector<float> run_emu(ConvFn fn, const Case& c, const Data& d) {
  std::vector<float> packed(mrcnn_emu_conv2d_packed_weight_size(c.c_out, c.c_in, c.kh, c.kw));
  CHECK_OK(mrcnn_emu_conv2d_pack_weight(d.weight.data(), c.c_out, c.c_in, c.kh, c.kw, packed.data()));
  EmuBuf in(d.input.data(), d.input.size()), wt(packed.data(), packed.size());
  EmuBuf bias(d.bias.data(), d.bias.size()), res(d.residual.data(), d.residual.size());
  EmuBuf out(d.ref.size() * sizeof(float));
  const size_t ws = mrcnn_emu_conv2d_workspace_size(c.n, c.h, c.w, c.c_in, c.c_out, c.kh, c.kw, d.oh,
                                                    d.ow, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw);
  EmuBuf work(ws);
  CHECK_OK(fn(in.f(), c.n, c.h, c.w, c.c_in, wt.f(), c.c_out, c.kh, c.kw, bias.f(), res.f(), out.f(),
              d.oh, d.ow, c.sh, c.sw, c.ph, c.pw, c.dh, c.dw, c.relu ? 1 : 0, work.p, ws, nullptr));
  std::vector<float> host(d.ref.size(), NAN);
  CHECK_OK(mrcnn_emu_copy_to_host(host.data(), out.p, host.size() * sizeof(float), nullptr));
  return host;
}

}  // namespace

namespace {
// Every case through an emulated entry point against the CPU: within
// (extra_rel + K*eps) * S, extra_rel being the kernel's own input rounding.
void check_emu_against_cpu(ConvFn fn, const char* what, double extra_rel, uint64_t seed) {
  (void)mrcnn_emu_synchronize(nullptr);  // drain a failure an earlier test left pending
  const long long errors_before = mrcnn_emu_error_count();
  for (const Case& c : kCases) {
    Data d = make_data(c, seed);
    std::vector<float> packed(mrcnn_cpu_conv2d_packed_weight_size(c.c_out, c.c_in, c.kh, c.kw));
    CHECK_OK(mrcnn_cpu_conv2d_pack_weight(d.weight.data(), c.c_out, c.c_in, c.kh, c.kw, packed.data()));
    std::vector<float> cpu(d.ref.size());
    CHECK_OK(run_cpu(mrcnn_cpu_conv2d_best_isa(), c, d, packed.data(), cpu.data()));
    std::vector<float> emu = run_emu(fn, c, d);
    std::vector<double> cpu_d(cpu.begin(), cpu.end());
    size_t where;
    double r = worst_ratio(emu.data(), cpu_d.data(), d.scale.data(), emu.size(),
                           extra_rel + d.K * kEps32, &where);
    report(what, c, r, where, emu.data(), cpu_d.data());
  }
  CHECK(mrcnn_emu_error_count() == errors_before);
}
}  // namespace

// fp32 implicit GEMM: emulated GPU vs the CPU, both fp32, so within K*eps*S of each other.
MRCNN_TEST(conv2d_emu_fp32_matches_cpu) {
  check_emu_against_cpu(mrcnn_emu_conv2d, "emu fp32 vs cpu", 0.0, 21);
}

// TF32 tensor-core kernel: each product of TF32-rounded operands is off by up to
// kTf32ProductRel of |x*w|, on top of the fp32 accumulation bound of each side.
MRCNN_TEST(conv2d_emu_tf32_matches_cpu) {
  check_emu_against_cpu(mrcnn_emu_conv2d_tf32, "emu tf32 vs cpu", kTf32ProductRel, 31);
}

MRCNN_TEST(conv2d_emu_rejects_bad_arguments) {
  float dummy[64] = {0};
  CHECK(mrcnn_emu_conv2d(dummy, 1, 5, 5, 3, dummy, 4, 3, 3, nullptr, nullptr, dummy, 4, 5, 1, 1, 1,
                         1, 1, 1, 0, nullptr, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_emu_conv2d(nullptr, 1, 5, 5, 3, dummy, 4, 3, 3, nullptr, nullptr, dummy, 5, 5, 1, 1,
                         1, 1, 1, 1, 0, nullptr, 0, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_emu_conv2d_pack_weight(dummy, 4, 3, 0, 3, dummy) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_emu_conv2d_packed_weight_size(4, 3, 3, 3) >= (size_t)4 * 3 * 9);
}
