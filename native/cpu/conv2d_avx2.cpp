// conv2d row kernel, AVX2 + FMA (compiled with -march=x86-64-v3): the fallback for CPUs
// without AVX-512. Same design as conv2d_avx512.cpp with 16 ymm registers: a tile of
// R <= 6 pixels x 16 output channels (12 accumulators, 2 weight vectors, 1 broadcast);
// the 32-channel packed block is done as two 16-channel halves.
#include <immintrin.h>

#include "mrcnn/math/conv2d.h"

using namespace mrcnn_conv2d;

namespace {

constexpr int kMaxR = 6;

template <int R>
__attribute__((always_inline)) inline void run(const float* __restrict src, long long xs,
                                               const float* __restrict wt, int len,
                                               __m256 (&acc)[R][2]) {
  for (int k = 0; k < len; ++k) {
    const __m256 w0 = _mm256_loadu_ps(wt + 32LL * k);
    const __m256 w1 = _mm256_loadu_ps(wt + 32LL * k + 8);
#pragma GCC unroll 8
    for (int r = 0; r < R; ++r) {
      const __m256 b = _mm256_broadcast_ss(src + r * xs + k);
      acc[r][0] = _mm256_fmadd_ps(b, w0, acc[r][0]);
      acc[r][1] = _mm256_fmadd_ps(b, w1, acc[r][1]);
    }
  }
}

// Lane mask of the first `cnt` (clamped to 0..8) lanes, for maskload/maskstore.
inline __m256i lanes(int cnt) {
  const __m256i idx = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
  return _mm256_cmpgt_epi32(_mm256_set1_epi32(cnt), idx);
}

// R pixels from column ox0 of row (n, oy), channels [32*cb + 16*half, +16).
template <int R>
void tile(const CpuJob& j, int n, int oy, int ox0, int ky0, int ky1, int kx0, int kx1, int cb,
          int half) {
  const Geom& g = j.g;
  __m256 acc[R][2];
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) acc[r][0] = acc[r][1] = _mm256_setzero_ps();
  const long long xs = (long long)g.sw * g.c_in;
  if (kx0 < kx1) {
    for (int ky = ky0; ky < ky1; ++ky) {
      const int iy = oy * g.sh - g.ph + ky * g.dh;
      const float* src =
          j.input + (((long long)n * g.h + iy) * g.w + (long long)ox0 * g.sw - g.pw + (long long)kx0 * g.dw) * g.c_in;
      const float* wt = j.weight + cpu_packed_index(cb * kCpuCoBlock, 0, ky, kx0, g.c_in, g.kh, g.kw) + 16 * half;
      if (g.dw == 1) {
        run<R>(src, xs, wt, (kx1 - kx0) * g.c_in, acc);
      } else {
        for (int kx = kx0; kx < kx1; ++kx)
          run<R>(src + (long long)(kx - kx0) * g.dw * g.c_in, xs,
                 wt + (long long)(kx - kx0) * g.c_in * kCpuCoBlock, g.c_in, acc);
      }
    }
  }
  // Epilogue (math/conv2d.h epilogue, lane-wise): + bias, + residual, max(0, v).
  const int co0 = cb * kCpuCoBlock + 16 * half;
  const int nco = g.c_out - co0 < 16 ? g.c_out - co0 : 16;
  const __m256i m0 = lanes(nco), m1 = lanes(nco - 8);
  __m256 b0 = _mm256_setzero_ps(), b1 = _mm256_setzero_ps();
  if (j.bias) {
    b0 = _mm256_maskload_ps(j.bias + co0, m0);
    b1 = _mm256_maskload_ps(j.bias + co0 + 8, m1);
  }
  const __m256 zero = _mm256_setzero_ps();
  const long long obase = (((long long)n * g.oh + oy) * g.ow + ox0) * g.c_out + co0;
#pragma GCC unroll 8
  for (int r = 0; r < R; ++r) {
    const long long o = obase + (long long)r * g.c_out;
    __m256 v0 = _mm256_add_ps(acc[r][0], b0), v1 = _mm256_add_ps(acc[r][1], b1);
    if (j.residual) {
      v0 = _mm256_add_ps(v0, _mm256_maskload_ps(j.residual + o, m0));
      v1 = _mm256_add_ps(v1, _mm256_maskload_ps(j.residual + o + 8, m1));
    }
    if (j.relu) {
      v0 = _mm256_max_ps(zero, v0);
      v1 = _mm256_max_ps(zero, v1);
    }
    if (nco == 16) {
      _mm256_storeu_ps(j.output + o, v0);
      _mm256_storeu_ps(j.output + o + 8, v1);
    } else {
      _mm256_maskstore_ps(j.output + o, m0, v0);
      _mm256_maskstore_ps(j.output + o + 8, m1, v1);
    }
  }
}

using TileFn = void (*)(const CpuJob&, int, int, int, int, int, int, int, int, int);
constexpr TileFn kTiles[kMaxR + 1] = {nullptr, tile<1>, tile<2>, tile<3>, tile<4>, tile<5>, tile<6>};

}  // namespace

void mrcnn_conv2d_row_avx2(const CpuJob& j, int n, int oy, int cb, int x0, int x1) {
  const Geom& g = j.g;
  int ky0, ky1;
  tap_range(oy * g.sh - g.ph, g.h, g.kh, g.dh, &ky0, &ky1);
  const int a = x0 > j.x_lo ? x0 : j.x_lo;
  const int b = x1 < j.x_hi ? x1 : j.x_hi;
  const int halves = g.c_out - cb * kCpuCoBlock > 16 ? 2 : 1;
  for (int half = 0; half < halves; ++half) {
    for (int ox = x0; ox < x1; ++ox) {
      if (ox >= a && ox < b) { ox = b - 1; continue; }
      int kx0, kx1;
      tap_range(ox * g.sw - g.pw, g.w, g.kw, g.dw, &kx0, &kx1);
      tile<1>(j, n, oy, ox, ky0, ky1, kx0, kx1, cb, half);
    }
    if (b > a) {
      const int len = b - a, nt = (len + kMaxR - 1) / kMaxR;
      int ox = a;
      for (int t = 0; t < nt; ++t) {
        const int r = len / nt + (t < len % nt ? 1 : 0);
        kTiles[r](j, n, oy, ox, ky0, ky1, 0, g.kw, cb, half);
        ox += r;
      }
    }
  }
}
