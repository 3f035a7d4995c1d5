// conv2d row kernel, AVX-512 (compiled with -march=x86-64-v4).
//
// Register-blocked direct convolution on NHWC input and the CPU packed weight
// [co/32][kh][kw][ci][32]: a tile of R <= 14 consecutive output pixels x 32 output
// channels lives in 2R zmm accumulators. Each reduction step loads one packed weight row
// (2 zmm) and broadcasts one input value per pixel: 2R FMAs for R+2 loads, so the two FMA
// pipes stay busy. With dilation 1 the (kx, ci) taps of one kernel row are one contiguous
// run in both the input row and the packed weight, so a 3x3x256 window is 3 runs of 768
// steps and a 7x7x3 stem window 7 runs of 21. Kernel rows outside the input are skipped.
// Tiles whose windows cross the left/right border: with >= 16 input channels they run per
// horizontal tap with one pointer per pixel, pixels in the padding reading a zero row (so a
// 14x14 mask-head row is still one full tile); with fewer channels (the stem) the border
// columns take one-pixel tiles with the taps clipped. Every 16 reduction steps the fast
// path prefetches the next tile's input lines (the 1x1 GEMM rows stream from memory).
//
// Measured on 2 Zen 5 cores (3x3 256->256 at 200x304): ~410 GFLOP/s, the machine's FMA
// peak and what oneDNN reaches there.
#include <immintrin.h>

#include "mrcnn/math/conv2d.h"

using namespace mrcnn_conv2d;

namespace {

constexpr int kMaxR = 14;

template <int R>
__attribute__((always_inline)) inline void step(const float* __restrict src, long long xs,
                                                const float* __restrict wt, int k,
                                                __m512 (&acc)[R][2]) {
  const __m512 w0 = _mm512_loadu_ps(wt + 32LL * k);
  const __m512 w1 = _mm512_loadu_ps(wt + 32LL * k + 16);
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    const __m512 b = _mm512_set1_ps(src[r * xs + k]);
    acc[r][0] = _mm512_fmadd_ps(b, w0, acc[r][0]);
    acc[r][1] = _mm512_fmadd_ps(b, w1, acc[r][1]);
  }
}

// acc[r] += sum_k src[r*xs + k] * wt[k][0:32] for k < len. Every 16 steps (one cache line
// of each pixel's stream) it prefetches the same line of the next tile's R pixels, which
// start at src + R*xs.
template <int R>
__attribute__((always_inline)) inline void run(const float* __restrict src, long long xs,
                                               const float* __restrict wt, int len,
                                               __m512 (&acc)[R][2]) {
  int k = 0;
  for (; k + 16 <= len; k += 16) {
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) _mm_prefetch((const char*)(src + (R + r) * xs + k), _MM_HINT_T0);
    for (int kk = k; kk < k + 16; ++kk) step<R>(src, xs, wt, kk, acc);
  }
  for (; k < len; ++k) step<R>(src, xs, wt, k, acc);
}

// acc[r] += sum_k p[r][k] * wt[k][0:32] for k < len: the border tile's inner loop, one
// pointer per pixel (an input pixel or the zero row).
template <int R>
__attribute__((always_inline)) inline void run_ptr(const float* const (&p)[R],
                                                   const float* __restrict wt, int len,
                                                   __m512 (&acc)[R][2]) {
  for (int k = 0; k < len; ++k) {
    const __m512 w0 = _mm512_loadu_ps(wt + 32LL * k);
    const __m512 w1 = _mm512_loadu_ps(wt + 32LL * k + 16);
#pragma GCC unroll 16
    for (int r = 0; r < R; ++r) {
      const __m512 b = _mm512_set1_ps(p[r][k]);
      acc[r][0] = _mm512_fmadd_ps(b, w0, acc[r][0]);
      acc[r][1] = _mm512_fmadd_ps(b, w1, acc[r][1]);
    }
  }
}

// Epilogue (math/conv2d.h epilogue, lane-wise): + bias, + residual, max(0, v) keeping NaN,
// then the store of R pixels x (up to) 32 channels.
template <int R>
__attribute__((always_inline)) inline void finish(const CpuJob& j, int n, int oy, int ox0, int cb,
                                                  __m512 (&acc)[R][2]) {
  const Geom& g = j.g;
  const int co0 = cb * kCpuCoBlock;
  const int nco = g.c_out - co0 < kCpuCoBlock ? g.c_out - co0 : kCpuCoBlock;
  const __mmask16 m0 = nco >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << nco) - 1);
  const __mmask16 m1 = nco >= 32 ? (__mmask16)0xFFFF : nco <= 16 ? (__mmask16)0 : (__mmask16)((1u << (nco - 16)) - 1);
  __m512 b0 = _mm512_setzero_ps(), b1 = _mm512_setzero_ps();
  if (j.bias) {
    b0 = _mm512_maskz_loadu_ps(m0, j.bias + co0);
    b1 = _mm512_maskz_loadu_ps(m1, j.bias + co0 + 16);
  }
  const __m512 zero = _mm512_setzero_ps();
  const long long obase = (((long long)n * g.oh + oy) * g.ow + ox0) * g.c_out + co0;
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) {
    const long long o = obase + (long long)r * g.c_out;
    __m512 v0 = _mm512_add_ps(acc[r][0], b0), v1 = _mm512_add_ps(acc[r][1], b1);
    if (j.residual) {
      v0 = _mm512_add_ps(v0, _mm512_maskz_loadu_ps(m0, j.residual + o));
      v1 = _mm512_add_ps(v1, _mm512_maskz_loadu_ps(m1, j.residual + o + 16));
    }
    if (j.relu) {
      v0 = _mm512_maskz_max_ps((__mmask16)0xFFFF, zero, v0);  // (the unmasked intrinsic trips GCC 12 -Wmaybe-uninitialized)
      v1 = _mm512_maskz_max_ps((__mmask16)0xFFFF, zero, v1);
    }
    if (nco == kCpuCoBlock) {
      _mm512_storeu_ps(j.output + o, v0);
      _mm512_storeu_ps(j.output + o + 16, v1);
    } else {
      _mm512_mask_storeu_ps(j.output + o, m0, v0);
      _mm512_mask_storeu_ps(j.output + o + 16, m1, v1);
    }
  }
}

// R output pixels from column ox0 of row (n, oy) whose taps [ky0,ky1) x [kx0,kx1) are inside
// the input for every pixel of the tile.
template <int R>
void tile(const CpuJob& j, int n, int oy, int ox0, int ky0, int ky1, int kx0, int kx1, int cb) {
  const Geom& g = j.g;
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  const long long xs = (long long)g.sw * g.c_in;
  if (kx0 < kx1) {
    for (int ky = ky0; ky < ky1; ++ky) {
      const int iy = oy * g.sh - g.ph + ky * g.dh;
      const float* src =
          j.input + (((long long)n * g.h + iy) * g.w + (long long)ox0 * g.sw - g.pw + (long long)kx0 * g.dw) * g.c_in;
      const float* wt = j.weight + cpu_packed_index(cb * kCpuCoBlock, 0, ky, kx0, g.c_in, g.kh, g.kw);
      if (g.dw == 1) {
        run<R>(src, xs, wt, (kx1 - kx0) * g.c_in, acc);
      } else {
        for (int kx = kx0; kx < kx1; ++kx)
          run<R>(src + (long long)(kx - kx0) * g.dw * g.c_in, xs,
                 wt + (long long)(kx - kx0) * g.c_in * kCpuCoBlock, g.c_in, acc);
      }
    }
  }
  finish<R>(j, n, oy, ox0, cb, acc);
}

// Zero input row for the taps of border pixels that fall in the padding.
constexpr int kZeroLen = 1024;
alignas(64) const float kZeros[kZeroLen] = {};

// R output pixels from column ox0 where some pixels' windows cross the left or right
// border: per horizontal tap, each pixel reads its input pixel or the zero row.
template <int R>
void tile_border(const CpuJob& j, int n, int oy, int ox0, int ky0, int ky1, int, int, int cb) {
  const Geom& g = j.g;
  __m512 acc[R][2];
#pragma GCC unroll 16
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm512_setzero_ps();
  for (int ky = ky0; ky < ky1; ++ky) {
    const int iy = oy * g.sh - g.ph + ky * g.dh;
    const float* row = j.input + ((long long)n * g.h + iy) * g.w * g.c_in;
    for (int kx = 0; kx < g.kw; ++kx) {
      const float* p[R];
      bool any = false;
      for (int r = 0; r < R; ++r) {
        const int ix = (ox0 + r) * g.sw - g.pw + kx * g.dw;
        const bool in = ix >= 0 && ix < g.w;
        p[r] = in ? row + (long long)ix * g.c_in : kZeros;
        any |= in;
      }
      if (!any) continue;
      const float* wt = j.weight + cpu_packed_index(cb * kCpuCoBlock, 0, ky, kx, g.c_in, g.kh, g.kw);
      for (int c0 = 0; c0 < g.c_in; c0 += kZeroLen) {
        const int len = g.c_in - c0 < kZeroLen ? g.c_in - c0 : kZeroLen;
        run_ptr<R>(p, wt + (long long)c0 * kCpuCoBlock, len, acc);
        if (c0 + kZeroLen < g.c_in)
          for (int r = 0; r < R; ++r) p[r] = p[r] == kZeros ? kZeros : p[r] + kZeroLen;
      }
    }
  }
  finish<R>(j, n, oy, ox0, cb, acc);
}

using TileFn = void (*)(const CpuJob&, int, int, int, int, int, int, int, int);
constexpr TileFn kTiles[kMaxR + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>, tile<5>,
                                      tile<6>, tile<7>, tile<8>, tile<9>, tile<10>, tile<11>,
                                      tile<12>, tile<13>, tile<14>};
constexpr TileFn kBorderTiles[kMaxR + 1] = {
    nullptr, tile_border<1>, tile_border<2>, tile_border<3>, tile_border<4>,
    tile_border<5>, tile_border<6>, tile_border<7>, tile_border<8>, tile_border<9>,
    tile_border<10>, tile_border<11>, tile_border<12>, tile_border<13>, tile_border<14>};

// Wide channels: the border tile's per-tap runs are long enough to run at full speed.
constexpr int kBorderTileMinCin = 16;

}  // namespace

void mrcnn_conv2d_row_avx512(const CpuJob& j, int n, int oy, int cb, int x0, int x1) {
  const Geom& g = j.g;
  int ky0, ky1;
  tap_range(oy * g.sh - g.ph, g.h, g.kh, g.dh, &ky0, &ky1);
  if (g.c_in >= kBorderTileMinCin) {
    // Balanced tiles of at most kMaxR pixels over the whole range; tiles touching a
    // border take the zero-row path.
    const int len = x1 - x0, nt = (len + kMaxR - 1) / kMaxR;
    int ox = x0;
    for (int t = 0; t < nt; ++t) {
      const int r = len / nt + (t < len % nt ? 1 : 0);
      const bool inside = ox >= j.x_lo && ox + r <= j.x_hi;
      (inside ? kTiles : kBorderTiles)[r](j, n, oy, ox, ky0, ky1, 0, g.kw, cb);
      ox += r;
    }
    return;
  }
  // Few channels (the stem): border columns one pixel at a time with clipped taps, so the
  // interior keeps its long contiguous (kx, ci) runs.
  const int a = x0 > j.x_lo ? x0 : j.x_lo;
  const int b = x1 < j.x_hi ? x1 : j.x_hi;
  for (int ox = x0; ox < x1; ++ox) {
    if (ox >= a && ox < b) { ox = b - 1; continue; }
    int kx0, kx1;
    tap_range(ox * g.sw - g.pw, g.w, g.kw, g.dw, &kx0, &kx1);
    tile<1>(j, n, oy, ox, ky0, ky1, kx0, kx1, cb);
  }
  if (b > a) {
    const int len = b - a, nt = (len + kMaxR - 1) / kMaxR;
    int ox = a;
    for (int t = 0; t < nt; ++t) {
      const int r = len / nt + (t < len % nt ? 1 : 0);
      kTiles[r](j, n, oy, ox, ky0, ky1, 0, g.kw, cb);
      ox += r;
    }
  }
}
