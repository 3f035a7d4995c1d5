// image_preprocess on the CPU (contract: mrcnn/image_preprocess.h; math:
// mrcnn/math/image_preprocess.h; loops: mrcnn/math/image_preprocess_cpu.h).
//
// The loops are compiled twice: here for the x86-64-v2 baseline, where the fmaf of torch's
// interpolation is a libm call, and in image_preprocess_avx2.cpp for x86-64-v3, where it is one
// instruction and the vertical pass vectorises; the entry point picks the build the CPU runs.
#include "mrcnn/image_preprocess.h"
#include "mrcnn/math/image_preprocess_cpu.h"

// The x86-64-v3 build of the loops (image_preprocess_avx2.cpp).
void mrcnn_image_preprocess_run_avx2(const mrcnn::image_preprocess_cpu::Job& job);

MRCNN_API size_t mrcnn_cpu_image_preprocess_workspace_size(int h, int w, int c, int out_h, int out_w) {
  (void)h;
  (void)out_h;
  if (w < 1 || c < 1 || out_w < 1) return 0;
  return mrcnn::image_preprocess_cpu::workspace_size(w, c, out_w);
}

extern "C" int mrcnn_cpu_image_preprocess_best_isa(void) {
  return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") ? 1 : 0;
}

extern "C" int mrcnn_cpu_image_preprocess_with_isa(int isa, const float* image, int h, int w, int c,
                                                   const float* mean, const float* std, int out_h, int out_w,
                                                   float* out, int pad_h, int pad_w, void* workspace,
                                                   size_t workspace_bytes) {
  if (isa < 0 || isa > mrcnn_cpu_image_preprocess_best_isa())
    return mrcnn_fail(MRCNN_ERR_UNSUPPORTED, "image_preprocess: instruction set %d is not available", isa);
  int st = mrcnn::image_preprocess_math::check_args(
      image, h, w, c, mean, std, out_h, out_w, out, pad_h, pad_w, workspace, workspace_bytes,
      mrcnn_cpu_image_preprocess_workspace_size(h, w, c, out_h, out_w));
  if (st != MRCNN_OK) return st;
  const mrcnn::image_preprocess_cpu::Job job{image, h, w, c, mean, std, out_h, out_w, out, pad_h, pad_w, workspace};
  if (isa == 1) {
    mrcnn_image_preprocess_run_avx2(job);
  } else {
    mrcnn::image_preprocess_cpu::run(job);
  }
  return MRCNN_OK;
}

MRCNN_API int mrcnn_cpu_image_preprocess(const float* image, int h, int w, int c, const float* mean,
                                         const float* std, int out_h, int out_w, float* out, int pad_h,
                                         int pad_w, void* workspace, size_t workspace_bytes,
                                         void* /*stream*/) {
  static const int isa = mrcnn_cpu_image_preprocess_best_isa();
  return mrcnn_cpu_image_preprocess_with_isa(isa, image, h, w, c, mean, std, out_h, out_w, out, pad_h, pad_w,
                                             workspace, workspace_bytes);
}
