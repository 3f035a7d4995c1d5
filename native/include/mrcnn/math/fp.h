/* Float32 helpers shared by the kernel math headers (box_decode, image_preprocess, ...):
 * operations that must round exactly as torch's separate tensor ops do, on every backend.
 *
 * torch evaluates `a * b + c` over tensors as two kernels, so the product is rounded to
 * float32 before the add. nvcc (always) and g++ (with -march=x86-64-v3/v4 and its default
 * -ffp-contract=fast) would fuse such an expression into one FMA, which rounds once and
 * gives other bits. mul_rn() yields a product no compiler can fuse. */
#pragma once
#include "mrcnn/hd.h"

namespace mrcnn {
namespace fp {

// a*b rounded to float32 on its own, never fused with a following add or subtract.
MRCNN_HD float mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  float p = a * b;
#if defined(__x86_64__) || defined(__i386__)
  __asm__("" : "+x"(p));  // opaque to the optimiser: the rounded product is materialised
#else
  __asm__("" : "+r"(p));
#endif
  return p;
#endif
}

// std::max / std::min as torch's scalar CPU loops write them (`a < b ? b : a`): NaN in the
// first argument survives, and of two equal values (+0/-0) the first is returned.
MRCNN_HD float max_first(float a, float b) { return a < b ? b : a; }
MRCNN_HD float min_first(float a, float b) { return b < a ? b : a; }

// torch.clamp(x, lo, hi) for float32: NaN stays NaN, -0 stays -0 when lo is 0.
MRCNN_HD float clamp_torch(float x, float lo, float hi) { return min_first(max_first(x, lo), hi); }

}  // namespace fp
}  // namespace mrcnn
