// image_preprocess's CPU loops built for x86-64-v3 (AVX2 + FMA): fmaf is the vfmadd
// instruction (the same correctly rounded result as the baseline build's libm call). Chosen
// at run time by native/cpu/image_preprocess.cpp.
#include "mrcnn/math/image_preprocess_cpu.h"

void mrcnn_image_preprocess_run_avx2(const mrcnn::image_preprocess_cpu::Job& job) {
  mrcnn::image_preprocess_cpu::run(job);
}
