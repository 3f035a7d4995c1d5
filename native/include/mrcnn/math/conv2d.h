/* Per-element math of conv2d, written once for the CPU kernels (native/cpu/conv2d*.cpp)
 * and the CUDA kernels (cuda/conv2d.cu): output size, which taps of a window fall inside
 * the input, and the epilogue act(acc + bias + residual). Plus the geometry record and
 * the CPU-internal ISA entry the native tests use to compare the AVX-512, AVX2 and scalar
 * paths. */
#pragma once
#include <limits.h>
#include <stddef.h>
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn_conv2d {

/* Output extent along one axis: floor((in + 2*pad - dil*(k-1) - 1) / stride) + 1, and 0
 * when the dilated kernel does not fit the padded input (a negative numerator must not
 * truncate towards zero). */
MRCNN_HD int out_size(int in, int k, int stride, int pad, int dil) {
  long long num = (long long)in + 2LL * pad - (long long)dil * (k - 1) - 1;
  if (num < 0) return 0;
  return (int)(num / stride + 1);
}

/* Taps [*lo, *hi) of a window starting at input coordinate `start` (= o*stride - pad),
 * with k taps spaced `dil` apart, that land inside [0, in). Empty when *lo >= *hi. */
MRCNN_HD void tap_range(int start, int in, int k, int dil, int* lo, int* hi) {
  int l = start < 0 ? (-start + dil - 1) / dil : 0;
  int h = start > in - 1 ? 0 : (in - 1 - start) / dil + 1;
  if (h > k) h = k;
  *lo = l;
  *hi = h;
}

/* The epilogue of one output element: act(acc + bias + residual). The SIMD paths apply
 * the same three steps lane-wise (add bias, add residual, max(0, v) which keeps NaN). */
MRCNN_HD float epilogue(float acc, float bias, float residual, int relu) {
  float v = acc + bias + residual;
  if (relu && v < 0.0f) v = 0.0f;  /* NaN stays NaN, as torch.relu */
  return v;
}

/* Dense problem geometry (NHWC input/output, kernel kh x kw, groups = 1). */
struct Geom {
  int n, h, w, c_in, c_out, kh, kw, oh, ow;
  int sh, sw, ph, pw, dh, dw;
};

/* CPU packed weight: [ceil(c_out/32)][kh][kw][c_in][32], output channels zero-padded to
 * a multiple of 32 (the AVX-512 micro-kernel's two 16-lane vectors; the AVX2 kernel
 * reads it as two halves of 16). */
constexpr int kCpuCoBlock = 32;
MRCNN_HD long long cpu_packed_index(int co, int ci, int ky, int kx, int c_in, int kh, int kw) {
  return ((((long long)(co / kCpuCoBlock) * kh + ky) * kw + kx) * c_in + ci) * kCpuCoBlock + co % kCpuCoBlock;
}

/* ISA of the CPU path. */
enum CpuIsa { kIsaScalar = 0, kIsaAvx2 = 1, kIsaAvx512 = 2 };

/* Everything a CPU row kernel needs. */
struct CpuJob {
  Geom g;
  const float* input;
  const float* weight;   /* CPU packed layout above */
  const float* bias;     /* may be null */
  const float* residual; /* may be null, NHWC like the output */
  float* output;
  int relu;
  int x_lo, x_hi;        /* output columns whose every horizontal tap is inside the input */
};

/* Host-side argument checks shared by every backend's entry point (sets the detail
 * message, returns the status). */
inline int check_args(const char* what, const float* input, int n, int h, int w, int c_in,
                      const float* weight, int c_out, int kh, int kw, const float* output,
                      int out_h, int out_w, int sh, int sw, int ph, int pw, int dh, int dw) {
  if (n < 0 || h < 1 || w < 1 || c_in < 1 || c_out < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: bad dims n=%d h=%d w=%d c_in=%d c_out=%d",
                      what, n, h, w, c_in, c_out);
  if (kh < 1 || kw < 1 || sh < 1 || sw < 1 || ph < 0 || pw < 0 || dh < 1 || dw < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT,
                      "%s: bad kernel %dx%d stride %dx%d pad %dx%d dilation %dx%d", what, kh, kw,
                      sh, sw, ph, pw, dh, dw);
  if (ph > INT_MAX / 4 || pw > INT_MAX / 4 || dh > INT_MAX / 4 / kh || dw > INT_MAX / 4 / kw ||
      h > INT_MAX / 4 || w > INT_MAX / 4 || (long long)c_in * kh * kw > INT_MAX / 4)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: sizes overflow int", what);
  const int eh = out_size(h, kh, sh, ph, dh), ew = out_size(w, kw, sw, pw, dw);
  if (eh < 1 || ew < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT,
                      "%s: the %dx%d kernel (dilation %dx%d) does not fit the %dx%d input padded by %dx%d",
                      what, kh, kw, dh, dw, h, w, ph, pw);
  if (out_h != eh || out_w != ew)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: output is %dx%d, expected %dx%d", what,
                      out_h, out_w, eh, ew);
  if ((long long)n * eh * ew > INT_MAX)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: %d x %d x %d output pixels overflow int",
                      what, n, eh, ew);
  if (n > 0 && (!input || !weight || !output))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null input, weight or output pointer", what);
  return MRCNN_OK;
}

}  // namespace mrcnn_conv2d

#if !defined(__CUDACC__) && !defined(KL_EMULATE)
/* CPU-internal (hidden symbols, used by native/cpu/conv2d*.cpp and the native tests):
 * mrcnn_cpu_conv2d with the ISA forced. Returns MRCNN_ERR_UNSUPPORTED when this CPU
 * lacks the ISA. */
extern "C" int mrcnn_cpu_conv2d_with_isa(int isa,
    const float* input, int n, int h, int w, int c_in,
    const float* packed_weight, int c_out, int kernel_h, int kernel_w,
    const float* bias, const float* residual,
    float* output, int out_h, int out_w,
    int stride_h, int stride_w, int pad_h, int pad_w, int dil_h, int dil_w, int relu);
/* Best ISA this CPU supports. */
extern "C" int mrcnn_cpu_conv2d_best_isa(void);
/* Output columns [x0, x1) of row (n, oy), output channels [32*cb, 32*cb + 32), per ISA. */
void mrcnn_conv2d_row_avx512(const mrcnn_conv2d::CpuJob& job, int n, int oy, int cb, int x0, int x1);
void mrcnn_conv2d_row_avx2(const mrcnn_conv2d::CpuJob& job, int n, int oy, int cb, int x0, int x1);
#endif
