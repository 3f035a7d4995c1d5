/* image_preprocess's CPU loops, included by native/cpu/image_preprocess.cpp (baseline
 * x86-64-v2: fmaf is a libm call) and native/cpu/image_preprocess_avx2.cpp (x86-64-v3: fmaf
 * is one instruction). Internal linkage, so the two ISA builds never share a symbol.
 *
 * Work is separable and cached: the column taps are computed once into the workspace; the
 * output rows are split into up to kMaxChunks contiguous chunks (OpenMP), and each chunk keeps
 * two horizontally resized rows (of the normalized input rows its output rows interpolate)
 * in its own part of the workspace, so each input row is normalized and resized along x once
 * per chunk instead of once per output pixel tap. The values are those of
 * image_preprocess_math::resized() bit for bit: the same float operations on the same values. */
#pragma once
#include <stddef.h>
#include <string.h>
#include "mrcnn/math/image_preprocess.h"

// Test hooks of native/cpu/image_preprocess.cpp: the best CPU build available (0 = x86-64-v2,
// 1 = x86-64-v3), and the op run with a given one (MRCNN_ERR_UNSUPPORTED if not available).
extern "C" int mrcnn_cpu_image_preprocess_best_isa(void);
extern "C" int mrcnn_cpu_image_preprocess_with_isa(int isa, const float* image, int h, int w, int c,
                                                   const float* mean, const float* std, int out_h, int out_w,
                                                   float* out, int pad_h, int pad_w, void* workspace,
                                                   size_t workspace_bytes);

namespace mrcnn {
namespace image_preprocess_cpu {

// One call's arguments (shared by both ISA builds: a plain struct, no code).
struct Job {
  const float* image;
  int h, w, c;
  const float* mean;
  const float* std;
  int out_h, out_w;
  float* out;
  int pad_h, pad_w;
  void* workspace;
};

namespace {

using namespace mrcnn::image_preprocess_math;

constexpr int kMaxChunks = 16;

inline size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

inline size_t workspace_size(int w, int c, int out_w) {
  return align64((size_t)out_w * sizeof(Tap)) +
         (size_t)kMaxChunks * align64(((size_t)w * c + 2 * (size_t)out_w * c) * sizeof(float));
}

// Input row iy, normalized then resized along x into dst [out_w][c].
inline void resize_row(const Job& j, const Tap* tx, int iy, float* norm, float* dst) {
  const float* src = j.image + (size_t)iy * j.w * j.c;
  for (int x = 0; x < j.w; ++x)
    for (int ch = 0; ch < j.c; ++ch)
      norm[x * j.c + ch] = normalize(src[x * j.c + ch], j.mean[ch], j.std[ch]);
  for (int x = 0; x < j.out_w; ++x) {
    const Tap t = tx[x];
    const float* a = norm + (size_t)t.i0 * j.c;
    const float* b = norm + (size_t)t.i1 * j.c;
    for (int ch = 0; ch < j.c; ++ch) dst[(size_t)x * j.c + ch] = lerp(a[ch], t.l0, b[ch], t.l1);
  }
}

inline void run_chunk(const Job& j, const Tap* tx, float sy, int chunks, int k) {
  const int y0 = (int)((long long)j.out_h * k / chunks), y1 = (int)((long long)j.out_h * (k + 1) / chunks);
  const size_t row_floats = (size_t)j.out_w * j.c;
  char* base = (char*)j.workspace + align64((size_t)j.out_w * sizeof(Tap)) +
               (size_t)k * align64(((size_t)j.w * j.c + 2 * row_floats) * sizeof(float));
  float* norm = (float*)base;
  float* buf[2] = {norm + (size_t)j.w * j.c, norm + (size_t)j.w * j.c + row_floats};
  int tag[2] = {-1, -1};  // input row held by each buffer
  const size_t slot_row = (size_t)j.pad_w * j.c;
  for (int y = y0; y < y1; ++y) {
    const Tap ty = tap(y, j.h, j.out_h, sy);
    if (tag[0] != ty.i0) {
      if (tag[1] == ty.i0) {  // rows only move down: the old second row becomes the first
        float* b = buf[0];
        buf[0] = buf[1];
        buf[1] = b;
        tag[0] = tag[1];
        tag[1] = -1;
      } else {
        resize_row(j, tx, ty.i0, norm, buf[0]);
        tag[0] = ty.i0;
      }
    }
    const float* r1 = buf[0];
    if (ty.i1 != ty.i0) {
      if (tag[1] != ty.i1) {
        resize_row(j, tx, ty.i1, norm, buf[1]);
        tag[1] = ty.i1;
      }
      r1 = buf[1];
    }
    float* o = j.out + (size_t)y * slot_row;
    const float* r0 = buf[0];
    for (size_t i = 0; i < row_floats; ++i) o[i] = lerp(r0[i], ty.l0, r1[i], ty.l1);
    memset(o + row_floats, 0, (slot_row - row_floats) * sizeof(float));
  }
}

inline void run(const Job& j) {
  Tap* tx = (Tap*)j.workspace;
  const float sx = axis_scale(j.w, j.out_w), sy = axis_scale(j.h, j.out_h);
  for (int x = 0; x < j.out_w; ++x) tx[x] = tap(x, j.w, j.out_w, sx);
  const int chunks = j.out_h < kMaxChunks ? j.out_h : kMaxChunks;
  const size_t slot_row = (size_t)j.pad_w * j.c;
#pragma omp parallel
  {
#pragma omp for schedule(static) nowait
    for (int k = 0; k < chunks; ++k) run_chunk(j, tx, sy, chunks, k);
#pragma omp for schedule(static)
    for (int y = j.out_h; y < j.pad_h; ++y) memset(j.out + (size_t)y * slot_row, 0, slot_row * sizeof(float));
  }
}

}  // namespace
}  // namespace image_preprocess_cpu
}  // namespace mrcnn
