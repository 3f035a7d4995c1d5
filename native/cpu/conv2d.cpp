// conv2d on the CPU: argument checks, weight packing, the threaded driver and the scalar
// row kernel. The AVX-512 and AVX2 row kernels live in conv2d_avx512.cpp / conv2d_avx2.cpp
// and are chosen at run time.
//
// Work split: the output is cut into (image, output row, column chunk, block of 32 output
// channels) tasks, run by an OpenMP static schedule (so OMP_NUM_THREADS decides the
// threads). Output channel blocks are the fastest-varying task index, so consecutive
// tasks of a thread read the same input rows (kept in L2) with different weight blocks.
// A 1x1 stride-1 unpadded convolution is a plain GEMM over pixels: its rows are joined
// into one long row before cutting, so short feature-map rows do not leave tiles ragged.
#include <omp.h>

#include <climits>
#include <cstring>

#include "mrcnn/conv2d.h"
#include "mrcnn/math/conv2d.h"

using namespace mrcnn_conv2d;

namespace {

bool cpu_has_avx512() {
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}
bool cpu_has_avx2() { return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma"); }

// Scalar row kernel: the reference loop order of the vector kernels (taps clipped to the
// input, 32 output channels at a time), written plainly.
void row_scalar(const CpuJob& j, int n, int oy, int cb, int x0, int x1) {
  const Geom& g = j.g;
  int ky0, ky1;
  tap_range(oy * g.sh - g.ph, g.h, g.kh, g.dh, &ky0, &ky1);
  const int co0 = cb * kCpuCoBlock;
  const int nco = g.c_out - co0 < kCpuCoBlock ? g.c_out - co0 : kCpuCoBlock;
  for (int ox = x0; ox < x1; ++ox) {
    float acc[kCpuCoBlock] = {0};
    int kx0, kx1;
    const int ix0 = ox * g.sw - g.pw;
    tap_range(ix0, g.w, g.kw, g.dw, &kx0, &kx1);
    for (int ky = ky0; ky < ky1; ++ky) {
      const int iy = oy * g.sh - g.ph + ky * g.dh;
      for (int kx = kx0; kx < kx1; ++kx) {
        const float* src = j.input + (((long long)n * g.h + iy) * g.w + ix0 + kx * g.dw) * g.c_in;
        const float* wt = j.weight + cpu_packed_index(co0, 0, ky, kx, g.c_in, g.kh, g.kw);
        for (int ci = 0; ci < g.c_in; ++ci) {
          const float x = src[ci];
          for (int l = 0; l < kCpuCoBlock; ++l) acc[l] += x * wt[(long long)ci * kCpuCoBlock + l];
        }
      }
    }
    const long long o = (((long long)n * g.oh + oy) * g.ow + ox) * g.c_out + co0;
    for (int l = 0; l < nco; ++l)
      j.output[o + l] = epilogue(acc[l], j.bias ? j.bias[co0 + l] : 0.0f,
                                 j.residual ? j.residual[o + l] : 0.0f, j.relu);
  }
}

}  // namespace

extern "C" int mrcnn_cpu_conv2d_best_isa(void) {
  return cpu_has_avx512() ? kIsaAvx512 : cpu_has_avx2() ? kIsaAvx2 : kIsaScalar;
}

MRCNN_API size_t mrcnn_cpu_conv2d_packed_weight_size(int c_out, int c_in, int kh, int kw) {
  if (c_out < 1 || c_in < 1 || kh < 1 || kw < 1) return 0;
  return (size_t)((c_out + kCpuCoBlock - 1) / kCpuCoBlock) * kCpuCoBlock * (size_t)c_in * kh * kw;
}

MRCNN_API int mrcnn_cpu_conv2d_pack_weight(const float* w, int c_out, int c_in, int kh, int kw,
                                          float* packed) {
  if (c_out < 1 || c_in < 1 || kh < 1 || kw < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "conv2d_pack_weight: bad dims %dx%dx%dx%d",
                      c_out, c_in, kh, kw);
  if (!w || !packed)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "conv2d_pack_weight: null pointer");
  const int cop = (c_out + kCpuCoBlock - 1) / kCpuCoBlock * kCpuCoBlock;
  for (int co = 0; co < cop; ++co)
    for (int ci = 0; ci < c_in; ++ci)
      for (int ky = 0; ky < kh; ++ky)
        for (int kx = 0; kx < kw; ++kx)
          packed[cpu_packed_index(co, ci, ky, kx, c_in, kh, kw)] =
              co < c_out ? w[(((long long)co * c_in + ci) * kh + ky) * kw + kx] : 0.0f;
  return MRCNN_OK;
}

MRCNN_API size_t mrcnn_cpu_conv2d_workspace_size(int, int, int, int, int, int, int, int, int, int,
                                                 int, int, int, int, int) {
  return 0;
}

extern "C" int mrcnn_cpu_conv2d_with_isa(int isa, const float* input, int n, int h, int w,
                                         int c_in, const float* weight, int c_out, int kh, int kw,
                                         const float* bias, const float* residual, float* output,
                                         int out_h, int out_w, int sh, int sw, int ph, int pw,
                                         int dh, int dw, int relu) {
  int st = check_args("conv2d", input, n, h, w, c_in, weight, c_out, kh, kw, output, out_h, out_w,
                      sh, sw, ph, pw, dh, dw);
  if (st) return st;
  void (*row)(const CpuJob&, int, int, int, int, int);
  switch (isa) {
    case kIsaAvx512:
      if (!cpu_has_avx512()) return mrcnn_fail(MRCNN_ERR_UNSUPPORTED, "conv2d: no AVX-512 on this CPU");
      row = mrcnn_conv2d_row_avx512;
      break;
    case kIsaAvx2:
      if (!cpu_has_avx2()) return mrcnn_fail(MRCNN_ERR_UNSUPPORTED, "conv2d: no AVX2/FMA on this CPU");
      row = mrcnn_conv2d_row_avx2;
      break;
    case kIsaScalar: row = row_scalar; break;
    default: return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "conv2d: unknown ISA %d", isa);
  }
  if (n == 0) return MRCNN_OK;

  CpuJob j;
  j.g = Geom{n, h, w, c_in, c_out, kh, kw, out_h, out_w, sh, sw, ph, pw, dh, dw};
  if (kh == 1 && kw == 1 && sh == 1 && sw == 1 && ph == 0 && pw == 0) {
    // Pure GEMM over pixels: one row of h*w pixels per image.
    if ((long long)h * w <= INT_MAX / 4) {
      j.g.w = j.g.ow = h * w;
      j.g.h = j.g.oh = 1;
    }
  }
  j.input = input; j.weight = weight; j.bias = bias; j.residual = residual; j.output = output;
  j.relu = relu;
  // Columns whose taps all fall inside the input: ox*sw - pw >= 0 and
  // ox*sw - pw + (kw-1)*dw <= w-1.
  {
    const Geom& g = j.g;
    int lo = (g.pw + g.sw - 1) / g.sw;
    long long num = (long long)g.w - 1 + g.pw - (long long)(g.kw - 1) * g.dw;
    int hi = num < 0 ? 0 : (int)(num / g.sw + 1);
    if (hi > g.ow) hi = g.ow;
    if (lo > g.ow) lo = g.ow;
    if (hi < lo) hi = lo;
    j.x_lo = lo;
    j.x_hi = hi;
  }
  const Geom& g = j.g;
  const int ncb = (c_out + kCpuCoBlock - 1) / kCpuCoBlock;
  // Column chunks: whole rows up to 448 pixels, else equal chunks of at most 336 pixels.
  const int nchunk = g.ow <= 448 ? 1 : (g.ow + 335) / 336;
  const long long tasks = (long long)g.n * g.oh * nchunk * ncb;
  const double macs = (double)g.n * g.oh * g.ow * c_out * (double)c_in * kh * kw;
  const bool parallel = macs > 2e5 && tasks > 1;
#pragma omp parallel for schedule(static) if (parallel)
  for (long long t = 0; t < tasks; ++t) {
    const int cb = (int)(t % ncb);
    long long r = t / ncb;
    const int chunk = (int)(r % nchunk);
    r /= nchunk;
    const int oy = (int)(r % g.oh);
    const int b = (int)(r / g.oh);
    const int x0 = (int)((long long)g.ow * chunk / nchunk);
    const int x1 = (int)((long long)g.ow * (chunk + 1) / nchunk);
    row(j, b, oy, cb, x0, x1);
  }
  return MRCNN_OK;
}

MRCNN_API int mrcnn_cpu_conv2d(const float* input, int n, int h, int w, int c_in,
                               const float* packed_weight, int c_out, int kernel_h, int kernel_w,
                               const float* bias, const float* residual, float* output, int out_h,
                               int out_w, int stride_h, int stride_w, int pad_h, int pad_w,
                               int dil_h, int dil_w, int relu, void* workspace,
                               size_t workspace_bytes, void* stream) {
  (void)workspace; (void)workspace_bytes; (void)stream;  // needs no workspace; no streams on CPU
  static const int isa = mrcnn_cpu_conv2d_best_isa();
  return mrcnn_cpu_conv2d_with_isa(isa, input, n, h, w, c_in, packed_weight, c_out, kernel_h,
                                   kernel_w, bias, residual, output, out_h, out_w, stride_h,
                                   stride_w, pad_h, pad_w, dil_h, dil_w, relu);
}

// No TF32 on the CPU: the opt-in reduced-precision entry point computes in fp32.
MRCNN_API int mrcnn_cpu_conv2d_tf32(const float* input, int n, int h, int w, int c_in,
                                    const float* packed_weight, int c_out, int kernel_h,
                                    int kernel_w, const float* bias, const float* residual,
                                    float* output, int out_h, int out_w, int stride_h,
                                    int stride_w, int pad_h, int pad_w, int dil_h, int dil_w,
                                    int relu, void* workspace, size_t workspace_bytes,
                                    void* stream) {
  return mrcnn_cpu_conv2d(input, n, h, w, c_in, packed_weight, c_out, kernel_h, kernel_w, bias,
                          residual, output, out_h, out_w, stride_h, stride_w, pad_h, pad_w, dil_h,
                          dil_w, relu, workspace, workspace_bytes, stream);
}
