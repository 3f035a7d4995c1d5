// RoIAlign (single-level and FPN multi-level) on CUDA, NHWC; math in mrcnn/math/roi_align.h.
//
// Design: one thread per (roi, ph, pw, channel vector), the channel vector the fastest
// index, so a warp reads 32 consecutive float4s (512 contiguous bytes) of each bilinear
// neighbour pixel and writes 512 contiguous bytes of output: every global access is
// coalesced, which is what bounds this gather-heavy op. Float4 loads are used when the
// channel count and all pointers allow it, scalar loads otherwise (ragged channels).
// The threads of one bin recompute the same taps (about 20 ALU ops per sample against
// 4 x 16 B of loads and 16 FMAs per sample); staging taps in shared memory would need a
// barrier per bin and a bound on the adaptive grid, for no gain in this memory-bound
// kernel, so there is none. The level table travels by value in the kernel parameters
// and is read with static indices only (no local-memory copy of the parameter block).
#include "common.cuh"
#include "mrcnn/math/roi_align.h"
#include "mrcnn/roi_align.h"

namespace {

using namespace mrcnn::roi_align_math;

typedef Args Params;  // the call's arguments travel by value as the parameter block

constexpr int kBlock = 256;

template <int VEC> struct VecOf;
template <> struct VecOf<1> {
  typedef float T;
  __device__ __forceinline__ static void fma_tap(float* acc, const BilinearTap& t, const float* a,
                                                 const float* b, const float* c, const float* d) {
    acc[0] += tap_value(t, __ldg(a), __ldg(b), __ldg(c), __ldg(d));
  }
  __device__ __forceinline__ static void store(float* out, const float* acc, float count) {
    *out = acc[0] / count;
  }
};
template <> struct VecOf<4> {
  typedef float4 T;
  __device__ __forceinline__ static void fma_tap(float* acc, const BilinearTap& t, const float* a,
                                                 const float* b, const float* c, const float* d) {
    const float4 va = __ldg(reinterpret_cast<const float4*>(a));
    const float4 vb = __ldg(reinterpret_cast<const float4*>(b));
    const float4 vc = __ldg(reinterpret_cast<const float4*>(c));
    const float4 vd = __ldg(reinterpret_cast<const float4*>(d));
    acc[0] += tap_value(t, va.x, vb.x, vc.x, vd.x);
    acc[1] += tap_value(t, va.y, vb.y, vc.y, vd.y);
    acc[2] += tap_value(t, va.z, vb.z, vc.z, vd.z);
    acc[3] += tap_value(t, va.w, vb.w, vc.w, vd.w);
  }
  __device__ __forceinline__ static void store(float* out, const float* acc, float count) {
    *reinterpret_cast<float4*>(out) =
        make_float4(acc[0] / count, acc[1] / count, acc[2] / count, acc[3] / count);
  }
};

template <int VEC>
__global__ void __launch_bounds__(kBlock) roi_align_kernel(Params p) {
  const int cv_n = p.c / VEC;
  const long long total = (long long)p.k * p.pooled_h * p.pooled_w * cv_n;
  const long long stride = (long long)gridDim.x * blockDim.x;
  for (long long i = (long long)blockIdx.x * blockDim.x + threadIdx.x; i < total; i += stride) {
    const int cv = (int)(i % cv_n);
    long long r = i / cv_n;
    const int pw = (int)(r % p.pooled_w);
    r /= p.pooled_w;
    const int ph = (int)(r % p.pooled_h);
    const int roi_i = (int)(r / p.pooled_h);
    const RoiSampling rs = roi_sampling(p, roi_i);
    const RoiGeometry& g = rs.g;
    float acc[VEC];
#pragma unroll
    for (int j = 0; j < VEC; ++j) acc[j] = 0.f;
    if (rs.base) {
      const float* base = rs.base + (long long)cv * VEC;
      for (int iy = 0; iy < g.grid_h; ++iy) {
        const AxisTap ty = axis_tap(sample_coord(g.start_h, ph, g.bin_h, iy, g.grid_h), rs.h);
        for (int ix = 0; ix < g.grid_w; ++ix) {
          const AxisTap tx = axis_tap(sample_coord(g.start_w, pw, g.bin_w, ix, g.grid_w), rs.w);
          const BilinearTap t = bilinear_tap(ty, tx, rs.w);
          VecOf<VEC>::fma_tap(acc, t, base + (long long)t.p1 * p.c, base + (long long)t.p2 * p.c,
                              base + (long long)t.p3 * p.c, base + (long long)t.p4 * p.c);
        }
      }
    }
    VecOf<VEC>::store(p.output + i * VEC, acc, g.count);
  }
}

bool aligned16(const void* ptr) { return ((uintptr_t)ptr & 15u) == 0; }

int launch(const Params& p, void* stream, const char* op) {
  bool vec4 = p.c % 4 == 0 && aligned16(p.output);
  for (int l = 0; l < p.num_levels; ++l) vec4 = vec4 && aligned16(p.feat[l]);
  const int vec = vec4 ? 4 : 1;
  const long long total = (long long)p.k * p.pooled_h * p.pooled_w * (p.c / vec);
  const unsigned grid = mrcnn_cuda::grid_for(total, kBlock, 1 << 20);
  cudaError_t e = vec4 ? klaunch(roi_align_kernel<4>, dim3(grid), dim3(kBlock), 0,
                                 (cudaStream_t)stream, p)
                       : klaunch(roi_align_kernel<1>, dim3(grid), dim3(kBlock), 0,
                                 (cudaStream_t)stream, p);
  return mrcnn_cuda::status_from(e, op);
}

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(roi_align)(const float* input, int n, int h, int w, int c,
                                       const float* rois, int k, int pooled_h, int pooled_w,
                                       float spatial_scale, int sampling_ratio, int aligned,
                                       float* output, void* stream) {
  Params p;
  bool work;
  const int st = mrcnn::roi_align_math::single_level_args(
      input, n, h, w, c, rois, k, pooled_h, pooled_w, spatial_scale, sampling_ratio, aligned,
      output, &p, &work);
  if (st != MRCNN_OK || !work) return st;
  return launch(p, stream, "roi_align");
}

MRCNN_API int MRCNN_CUDA_FN(multilevel_roi_align)(
    const float* const* level_features, const int* level_h, const int* level_w,
    const float* level_scale, int num_levels, int n, int c, const float* rois, int k,
    int pooled_h, int pooled_w, int sampling_ratio, int aligned, int canonical_scale,
    int canonical_level, int k_min, int k_max, float eps, float* output, void* stream) {
  Params p;
  bool work;
  const int st = mrcnn::roi_align_math::multi_level_args(
      level_features, level_h, level_w, level_scale, num_levels, n, c, rois, k, pooled_h,
      pooled_w, sampling_ratio, aligned, canonical_scale, canonical_level, k_min, k_max, eps,
      output, &p, &work);
  if (st != MRCNN_OK || !work) return st;
  return launch(p, stream, "multilevel_roi_align");
}
