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

// One feature map, with its batch stride in floats.
struct Level {
  const float* feat;
  int h, w;
  float scale;
};

// Everything a row needs; built once per call by the entry points.
struct Job {
  Level levels[MRCNN_MAX_LEVELS];
  int num_levels, n, c;
  const float* rois;
  int k, pooled_h, pooled_w, sampling_ratio, aligned;
  int map_levels;  // 0: single level (level 0)
  int canonical_scale, canonical_level, k_min, k_max;
  float eps;
  float* output;
};

namespace MRCNN_RA_VARIANT {
void pool_rows(const Job& job, long long row_begin, long long row_end);
}

}  // namespace mrcnn_roi_align_cpu

namespace mrcnn_roi_align_cpu {
namespace MRCNN_RA_VARIANT {
namespace {

using namespace mrcnn::roi_align_math;

constexpr int kBatch = 32;   // sampling points whose taps are held at once (sr=2: 4 per bin)
constexpr int kChunk = 64;   // channels accumulated in registers at once

// Adds the samples taps[0..nb) to channels [0, n) of one bin. first: start from zero,
// else from the partial sums in out; last: divide by count into out, else store sums.
__attribute__((always_inline)) inline void accumulate(
    int n, float* __restrict out, const float* __restrict base, const BilinearTap* taps,
    int nb, int c, bool first, bool last, float count) {
  float acc[kChunk];
  for (int j = 0; j < n; ++j) acc[j] = first ? 0.f : out[j];
  for (int s = 0; s < nb; ++s) {
    const BilinearTap& t = taps[s];
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
  const float* roi = job.rois + (ptrdiff_t)r * 5;
  const int b = roi_batch_index(roi[0], job.n);
  const int lvl = job.map_levels
      ? roi_level(roi[1], roi[2], roi[3], roi[4], job.canonical_scale, job.canonical_level,
                  job.k_min, job.k_max, job.eps, job.num_levels)
      : 0;
  RoiGeometry g;
  g.valid = 0;
  if (b >= 0 && lvl >= 0) {
    g = roi_geometry(roi[1], roi[2], roi[3], roi[4], job.levels[lvl].scale, job.pooled_h,
                     pw_n, job.sampling_ratio, job.aligned);
  }
  const long long samples = (long long)g.grid_h * g.grid_w;
  if (!g.valid || samples == 0) {
    for (ptrdiff_t i = 0; i < (ptrdiff_t)pw_n * c; ++i) out_row[i] = 0.f;
    return;
  }
  const Level& L = job.levels[lvl];
  const float* base = L.feat + (ptrdiff_t)b * L.h * L.w * c;
  BilinearTap taps[kBatch];
  for (int pw = 0; pw < pw_n; ++pw) {
    float* out = out_row + (ptrdiff_t)pw * c;
    int iy = 0, ix = 0;
    AxisTap ty = axis_tap(sample_coord(g.start_h, ph, g.bin_h, 0, g.grid_h), L.h);
    for (long long s0 = 0; s0 < samples; s0 += kBatch) {
      const int nb = (int)(samples - s0 < kBatch ? samples - s0 : kBatch);
      for (int s = 0; s < nb; ++s) {  // taps of samples s0.., row-major (iy, ix)
        const AxisTap tx = axis_tap(sample_coord(g.start_w, pw, g.bin_w, ix, g.grid_w), L.w);
        taps[s] = bilinear_tap(ty, tx, L.w);
        if (++ix == g.grid_w) {
          ix = 0;
          if (++iy < g.grid_h) ty = axis_tap(sample_coord(g.start_h, ph, g.bin_h, iy, g.grid_h), L.h);
        }
      }
      const bool first = s0 == 0, last = s0 + nb >= samples;
      int c0 = 0;
      for (; c0 + kChunk <= c; c0 += kChunk)
        accumulate(kChunk, out + c0, base + c0, taps, nb, c, first, last, g.count);
      if (c0 < c) accumulate(c - c0, out + c0, base + c0, taps, nb, c, first, last, g.count);
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

#if defined(MRCNN_RA_ENTRY_POINTS)
namespace mrcnn_roi_align_cpu {
namespace avx512 {
void pool_rows(const Job& job, long long row_begin, long long row_end);
}

namespace {

using RowsFn = void (*)(const Job&, long long, long long);

RowsFn pick_kernel() {
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512vl") &&
      __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512dq"))
    return avx512::pool_rows;
  return base::pool_rows;
}

int run(const Job& job) {
  static const RowsFn kernel = pick_kernel();
  const long long rows = (long long)job.k * job.pooled_h;
  // Rows differ in cost (level, adaptive grid), so threads take small blocks of them.
#pragma omp parallel for schedule(dynamic, 2)
  for (long long i = 0; i < rows; ++i) kernel(job, i, i + 1);
  return MRCNN_OK;
}

}  // namespace
}  // namespace mrcnn_roi_align_cpu

using mrcnn_roi_align_cpu::Job;

MRCNN_API int mrcnn_cpu_roi_align(const float* input, int n, int h, int w, int c,
                                  const float* rois, int k, int pooled_h, int pooled_w,
                                  float spatial_scale, int sampling_ratio, int aligned,
                                  float* output, void* /*stream*/) {
  using namespace mrcnn::roi_align_math;
  const char* op = "roi_align";
  int st = check_common(op, rois, k, n, c, pooled_h, pooled_w, output);
  if (st != MRCNN_OK) return st;
  const bool work = k > 0 && c > 0;
  st = check_level(op, 0, input, h, w, spatial_scale, work);
  if (st != MRCNN_OK || !work) return st;
  Job job{};
  job.levels[0] = {input, h, w, spatial_scale};
  job.num_levels = 1;
  job.n = n;
  job.c = c;
  job.rois = rois;
  job.k = k;
  job.pooled_h = pooled_h;
  job.pooled_w = pooled_w;
  job.sampling_ratio = sampling_ratio;
  job.aligned = aligned != 0;
  job.map_levels = 0;
  job.output = output;
  return mrcnn_roi_align_cpu::run(job);
}

MRCNN_API int mrcnn_cpu_multilevel_roi_align(
    const float* const* level_features, const int* level_h, const int* level_w,
    const float* level_scale, int num_levels, int n, int c, const float* rois, int k,
    int pooled_h, int pooled_w, int sampling_ratio, int aligned, int canonical_scale,
    int canonical_level, int k_min, int k_max, float eps, float* output, void* /*stream*/) {
  using namespace mrcnn::roi_align_math;
  const char* op = "multilevel_roi_align";
  int st = check_common(op, rois, k, n, c, pooled_h, pooled_w, output);
  if (st != MRCNN_OK) return st;
  st = check_mapper(op, num_levels, canonical_scale, k_min, k_max, eps);
  if (st != MRCNN_OK) return st;
  if (!level_features || !level_h || !level_w || !level_scale)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null level array", op);
  const bool work = k > 0 && c > 0;
  Job job{};
  for (int i = 0; i < num_levels; ++i) {
    st = check_level(op, i, level_features[i], level_h[i], level_w[i], level_scale[i], work);
    if (st != MRCNN_OK) return st;
    job.levels[i] = {level_features[i], level_h[i], level_w[i], level_scale[i]};
  }
  if (!work) return MRCNN_OK;
  job.num_levels = num_levels;
  job.n = n;
  job.c = c;
  job.rois = rois;
  job.k = k;
  job.pooled_h = pooled_h;
  job.pooled_w = pooled_w;
  job.sampling_ratio = sampling_ratio;
  job.aligned = aligned != 0;
  job.map_levels = 1;
  job.canonical_scale = canonical_scale;
  job.canonical_level = canonical_level;
  job.k_min = k_min;
  job.k_max = k_max;
  job.eps = eps;
  job.output = output;
  return mrcnn_roi_align_cpu::run(job);
}
#endif
