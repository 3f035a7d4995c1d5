// image_preprocess on CUDA (contract: mrcnn/image_preprocess.h; math: mrcnn/math/image_preprocess.h).
//
// Design: one thread per output pixel (all c <= 4 channels), blocks of 32 x 8 pixels covering
// the whole padded slot, so every element of the slot is written exactly once (zeros outside
// the resized image) and a warp writes 32 consecutive pixels (coalesced). Each block first
// computes the taps of its 32 columns and 8 rows into shared memory (the double-precision
// source index of torch's kernel is evaluated once per column and row, not per pixel), then
// each pixel reads its four input pixels (neighbouring threads read neighbouring pixels, served
// by L1/L2), normalizes them and interpolates with torch's fma order. No workspace.
#include "common.cuh"
#include "mrcnn/image_preprocess.h"
#include "mrcnn/math/image_preprocess.h"

namespace {

using namespace mrcnn::image_preprocess_math;

constexpr int kBlockX = 32;
constexpr int kBlockY = 8;

struct Params {
  const float* image;
  int h, w, c;
  float mean[MRCNN_PREPROCESS_MAX_CHANNELS];
  float std[MRCNN_PREPROCESS_MAX_CHANNELS];
  int out_h, out_w;
  float sy, sx;  // axis scales
  float* out;
  int pad_h, pad_w;
};

__global__ void __launch_bounds__(kBlockX * kBlockY) preprocess_kernel(const Params p) {
  __shared__ Tap col[kBlockX];
  __shared__ Tap row[kBlockY];
  __shared__ float mean[MRCNN_PREPROCESS_MAX_CHANNELS], stdev[MRCNN_PREPROCESS_MAX_CHANNELS];
  const int x = (int)(blockIdx.x * kBlockX + threadIdx.x);
  const int y = (int)(blockIdx.y * kBlockY + threadIdx.y);
  if (threadIdx.y == 0 && x < p.out_w) col[threadIdx.x] = tap(x, p.w, p.out_w, p.sx);
  if (threadIdx.y == 1 && threadIdx.x < kBlockY) {
    const int yy = (int)(blockIdx.y * kBlockY + threadIdx.x);
    if (yy < p.out_h) row[threadIdx.x] = tap(yy, p.h, p.out_h, p.sy);
  }
  if (threadIdx.y == 2 && threadIdx.x == 0) {  // staged (constant indices): indexing a parameter
    for (int i = 0; i < MRCNN_PREPROCESS_MAX_CHANNELS; ++i) {  // array by channel would copy the
      mean[i] = p.mean[i];                                      // parameters to local memory
      stdev[i] = p.std[i];
    }
  }
  __syncthreads();
  if (x >= p.pad_w || y >= p.pad_h) return;
  float* o = p.out + ((size_t)y * p.pad_w + x) * p.c;
  if (x >= p.out_w || y >= p.out_h) {
    for (int ch = 0; ch < p.c; ++ch) o[ch] = 0.0f;
    return;
  }
  const Tap tx = col[threadIdx.x];
  const Tap ty = row[threadIdx.y];
  for (int ch = 0; ch < p.c; ++ch) o[ch] = resized(p.image, p.w, p.c, ch, ty, tx, mean[ch], stdev[ch]);
}

}  // namespace

MRCNN_API size_t MRCNN_CUDA_FN(image_preprocess_workspace_size)(int h, int w, int c, int out_h, int out_w) {
  (void)h;
  (void)w;
  (void)c;
  (void)out_h;
  (void)out_w;
  return 0;
}

MRCNN_API int MRCNN_CUDA_FN(image_preprocess)(const float* image, int h, int w, int c, const float* mean,
                                              const float* std, int out_h, int out_w, float* out, int pad_h,
                                              int pad_w, void* workspace, size_t workspace_bytes,
                                              void* stream) {
  int st = check_args(image, h, w, c, mean, std, out_h, out_w, out, pad_h, pad_w, workspace, workspace_bytes, 0);
  if (st != MRCNN_OK) return st;
  if ((pad_h + kBlockY - 1) / kBlockY > 65535)
    return mrcnn_fail(MRCNN_ERR_UNSUPPORTED, "image_preprocess: slot height %d exceeds the CUDA grid", pad_h);
  Params p;
  p.image = image;
  p.h = h;
  p.w = w;
  p.c = c;
  for (int i = 0; i < MRCNN_PREPROCESS_MAX_CHANNELS; ++i) {
    p.mean[i] = i < c ? mean[i] : 0.0f;
    p.std[i] = i < c ? std[i] : 1.0f;
  }
  p.out_h = out_h;
  p.out_w = out_w;
  p.sy = axis_scale(h, out_h);
  p.sx = axis_scale(w, out_w);
  p.out = out;
  p.pad_h = pad_h;
  p.pad_w = pad_w;
  const dim3 grid(mrcnn_cuda::ceil_div(pad_w, kBlockX), mrcnn_cuda::ceil_div(pad_h, kBlockY));
  cudaError_t e = klaunch(preprocess_kernel, grid, dim3(kBlockX, kBlockY), 0, (cudaStream_t)stream, p);
  return mrcnn_cuda::status_from(e, "image_preprocess");
}
