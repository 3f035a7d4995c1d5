// RoIAlign on the CPU, NHWC (see mrcnn/roi_align.h for the contract and
// mrcnn/math/roi_align.h for the math shared with the CUDA kernels).
//
// Work item = one output row (roi, ph), spread over OpenMP threads. For each bin the
// bilinear taps (4 pixel offsets + 4 weights) of its sampling points are computed once
// and then applied to every channel: the channel loop runs over the contiguous NHWC
// pixel vectors in chunks of kChunk floats that stay in registers (the compiler
// vectorises the fixed-length loop). Taps are held for at most kBatch samples at a time
// on the stack, so an adaptive grid of any size needs no allocation: a bin with more
// samples is summed batch by batch through the output row, in the same sample order.
// Per channel the sum is torchvision's: out = sum over samples (iy, ix) in row-major
// order of (w1*v1 + w2*v2 + w3*v3 + w4*v4), then divided by count.
//
// This file is compiled twice: as itself (baseline x86-64-v2, with the entry points) and
// included by roi_align_avx512.cpp (x86-64-v4) with MRCNN_RA_VARIANT set, which emits
// only the row kernel under another namespace; the entry points pick one at run time.
#include <stddef.h>
#include "mrcnn/math/roi_align.h"
#include "mrcnn/roi_align.h"

#ifndef MRCNN_RA_VARIANT
#define MRCNN_RA_VARIANT base
#define MRCNN_RA_ENTRY_POINTS 1
#endif

namespace mrcnn_roi_align_cpu {

using Job = mrcnn::roi_align_math::Args;

namespace MRCNN_RA_VARIANT {
void pool_rows(const Job& job, long long row_begin, long long row_end);
}

}  // namespace mrcnn_roi_align_cpu

// GCC's unroll-and-jam fuses two samples of the sample loop and then fails to vectorise
// the channel loop (4x slower): keep the nest as written.
#pragma GCC push_options
#pragma GCC optimize("no-loop-unroll-and-jam")
namespace mrcnn_roi_align_cpu {
namespace MRCNN_RA_VARIANT {
namespace {

using namespace mrcnn::roi_align_math;

constexpr int kBatch = 32;   // sampling points whose taps are held at once (sr=2: 4 per bin)
constexpr int kChunk = 64;   // channels accumulated in registers at once

// Adds the samples taps[0..nb) to channels [0, n) of one bin. first: start from zero,
// else from the partial sums in out; last: divide by count into out, else store sums.
// N > 0: n == N known at compile time (vectorised, acc in registers); N == 0: the tail.
template <int N>
__attribute__((always_inline)) inline void accumulate(
    int n, float* __restrict out, const float* __restrict base, const BilinearTap* taps,
    int nb, int c, bool first, bool last, float count) {
  if (N > 0) n = N;
  float acc[N > 0 ? N : kChunk] = {};
  if (first) {
    for (int j = 0; j < n; ++j) acc[j] = 0.f;
  } else {
    for (int j = 0; j < n; ++j) acc[j] = out[j];
  }
  for (int s = 0; s < nb; ++s) {
    const BilinearTap t = taps[s];
    const float* __restrict v1 = base + (ptrdiff_t)t.p1 * c;
    const float* __restrict v2 = base + (ptrdiff_t)t.p2 * c;
    const float* __restrict v3 = base + (ptrdiff_t)t.p3 * c;
    const float* __restrict v4 = base + (ptrdiff_t)t.p4 * c;
    for (int j = 0; j < n; ++j) acc[j] += tap_value(t, v1[j], v2[j], v3[j], v4[j]);
  }
  if (last) {
    for (int j = 0; j < n; ++j) out[j] = acc[j] / count;
  } else {
    for (int j = 0; j < n; ++j) out[j] = acc[j];
  }
}

void pool_row(const Job& job, int r, int ph) {
  const int c = job.c, pw_n = job.pooled_w;
  float* out_row = job.output + ((ptrdiff_t)r * job.pooled_h + ph) * pw_n * c;
  const RoiSampling rs = roi_sampling(job, r);
  const RoiGeometry& g = rs.g;
  const long long samples = (long long)g.grid_h * g.grid_w;
  if (!rs.base || samples == 0) {
    for (ptrdiff_t i = 0; i < (ptrdiff_t)pw_n * c; ++i) out_row[i] = 0.f;
    return;
  }
  const float* base = rs.base;
  const int H = rs.h, W = rs.w;
  BilinearTap taps[kBatch];
  for (int pw = 0; pw < pw_n; ++pw) {
    float* out = out_row + (ptrdiff_t)pw * c;
    int iy = 0, ix = 0;
    AxisTap ty = axis_tap(sample_coord(g.start_h, ph, g.bin_h, 0, g.grid_h), H);
    for (long long s0 = 0; s0 < samples; s0 += kBatch) {
      const int nb = (int)(samples - s0 < kBatch ? samples - s0 : kBatch);
      for (int s = 0; s < nb; ++s) {  // taps of samples s0.., row-major (iy, ix)
        const AxisTap tx = axis_tap(sample_coord(g.start_w, pw, g.bin_w, ix, g.grid_w), W);
        taps[s] = bilinear_tap(ty, tx, W);
        if (++ix == g.grid_w) {
          ix = 0;
          if (++iy < g.grid_h) ty = axis_tap(sample_coord(g.start_h, ph, g.bin_h, iy, g.grid_h), H);
        }
      }
      const bool first = s0 == 0, last = s0 + nb >= samples;
      int c0 = 0;
      for (; c0 + kChunk <= c; c0 += kChunk)
        accumulate<kChunk>(kChunk, out + c0, base + c0, taps, nb, c, first, last, g.count);
      if (c0 < c) accumulate<0>(c - c0, out + c0, base + c0, taps, nb, c, first, last, g.count);
    }
  }
}

}  // namespace

void pool_rows(const Job& job, long long row_begin, long long row_end) {
  for (long long i = row_begin; i < row_end; ++i)
    pool_row(job, (int)(i / job.pooled_h), (int)(i % job.pooled_h));
}

}  // namespace MRCNN_RA_VARIANT
}  // namespace mrcnn_roi_align_cpu
#pragma GCC pop_options

#if defined(MRCNN_RA_ENTRY_POINTS)
namespace mrcnn_roi_align_cpu {
namespace avx512 {
void pool_rows(const Job& job, long long row_begin, long long row_end);
}

namespace {

using RowsFn = void (*)(const Job&, long long, long long);

bool has_avx512() {
  __builtin_cpu_init();
  return __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
         __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq");
}

int run(int isa, const Job& job) {
  RowsFn kernel;
  if (isa == MRCNN_ROI_ALIGN_ISA_BASELINE) {
    kernel = base::pool_rows;
  } else if (isa == MRCNN_ROI_ALIGN_ISA_AVX512) {
    static const bool avx512_ok = has_avx512();
    if (!avx512_ok) return mrcnn_fail(MRCNN_ERR_UNSUPPORTED, "roi_align: this CPU has no AVX-512");
    kernel = avx512::pool_rows;
  } else {
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "roi_align: unknown CPU ISA %d", isa);
  }
  const long long rows = (long long)job.k * job.pooled_h;
  // Rows differ in cost (level, adaptive grid), so threads take small blocks of them.
#pragma omp parallel for schedule(dynamic, 2)
  for (long long i = 0; i < rows; ++i) kernel(job, i, i + 1);
  return MRCNN_OK;
}

}  // namespace
}  // namespace mrcnn_roi_align_cpu

using mrcnn_roi_align_cpu::Job;

extern "C" int mrcnn_cpu_roi_align_best_isa(void) {
  static const int best = mrcnn_roi_align_cpu::has_avx512() ? MRCNN_ROI_ALIGN_ISA_AVX512
                                                             : MRCNN_ROI_ALIGN_ISA_BASELINE;
  return best;
}

extern "C" int mrcnn_cpu_roi_align_with_isa(int isa, const float* input, int n, int h, int w,
                                            int c, const float* rois, int k, int pooled_h,
                                            int pooled_w, float spatial_scale,
                                            int sampling_ratio, int aligned, float* output) {
  Job job;
  bool work;
  const int st = mrcnn::roi_align_math::single_level_args(
      input, n, h, w, c, rois, k, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned,
      output, &job, &work);
  if (st != MRCNN_OK || !work) return st;
  return mrcnn_roi_align_cpu::run(isa, job);
}

extern "C" int mrcnn_cpu_multilevel_roi_align_with_isa(
    int isa, const float* const* level_features, const int* level_h, const int* level_w,
    const float* level_scale, int num_levels, int n, int c, const float* rois, int k,
    int pooled_h, int pooled_w, int sampling_ratio, int aligned, int canonical_scale,
    int canonical_level, int k_min, int k_max, float eps, float* output) {
  Job job;
  bool work;
  const int st = mrcnn::roi_align_math::multi_level_args(
      level_features, level_h, level_w, level_scale, num_levels, n, c, rois, k, pooled_h,
      pooled_w, sampling_ratio, aligned, canonical_scale, canonical_level, k_min, k_max, eps,
      output, &job, &work);
  if (st != MRCNN_OK || !work) return st;
  return mrcnn_roi_align_cpu::run(isa, job);
}

MRCNN_API int mrcnn_cpu_roi_align(const float* input, int n, int h, int w, int c,
                                  const float* rois, int k, int pooled_h, int pooled_w,
                                  float spatial_scale, int sampling_ratio, int aligned,
                                  float* output, void* /*stream*/) {
  return mrcnn_cpu_roi_align_with_isa(mrcnn_cpu_roi_align_best_isa(), input, n, h, w, c, rois,
                                      k, pooled_h, pooled_w, spatial_scale, sampling_ratio,
                                      aligned, output);
}

MRCNN_API int mrcnn_cpu_multilevel_roi_align(
    const float* const* level_features, const int* level_h, const int* level_w,
    const float* level_scale, int num_levels, int n, int c, const float* rois, int k,
    int pooled_h, int pooled_w, int sampling_ratio, int aligned, int canonical_scale,
    int canonical_level, int k_min, int k_max, float eps, float* output, void* /*stream*/) {
  return mrcnn_cpu_multilevel_roi_align_with_isa(
      mrcnn_cpu_roi_align_best_isa(), level_features, level_h, level_w, level_scale, num_levels,
      n, c, rois, k, pooled_h, pooled_w, sampling_ratio, aligned, canonical_scale,
      canonical_level, k_min, k_max, eps, output);
}
#endif
