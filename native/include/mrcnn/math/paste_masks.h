/* Per-element math of the mask paste (torchvision 0.14 roi_heads.paste_masks_in_image on the
 * CPU, torch 1.13), written once and called by native/cpu/paste_masks*.cpp and
 * cuda/paste_masks.cu. The arithmetic is bit-for-bit torch's (checked on 54 million resized
 * pixels and 800,000 boxes against torch 1.13.1 before writing it):
 *
 *  1. expand_masks: scale = float(float64(mask_w + 2*padding) / mask_w) (torch multiplies
 *     the float32 box by the Python float, which it first rounds to float32; only mask_w
 *     counts, also for non-square masks).
 *  2. expand_boxes, in float32: w_half = (x1 - x0) * 0.5 * scale, x_c = (x1 + x0) * 0.5,
 *     box = (x_c - w_half, y_c - h_half, x_c + w_half, y_c + h_half); then .to(int64),
 *     i.e. truncation toward zero (-0.7 -> 0, -1.5 -> -1).
 *  3. paste_mask_in_image: w = max(x1 - x0 + 1, 1), h = max(y1 - y0 + 1, 1); the padded mask
 *     (mask_h + 2p) x (mask_w + 2p) is resized to h x w by F.interpolate(bilinear,
 *     align_corners=False); pixel (y, x) of the image gets resized[y - y0][x - x0] for
 *     x in [max(x0, 0), min(x1 + 1, img_w)) and y likewise; every other pixel is 0.
 *  4. The resize (aten upsample_bilinear2d, CPU, channels-last path that a [1,1,H,W] input
 *     takes): scale = float(in) / float(out); per output index o, src = double(scale) *
 *     (o + 0.5) - 0.5 in float64, clamped at 0; i0 = (int64)src, i1 = i0 + (i0 < in - 1);
 *     lambda1 = float(src - i0), lambda0 = 1 - lambda1 (float32); when in == out the taps
 *     are (o, o, 1, 0). The value is float(((v00*w00 + v01*w01) + v10*w10) + v11*w11)
 *     summed in float64 with float32 weights w00 = h0*w0 etc.
 *
 * Contraction safety: nvcc fuses a*b+c into FMA and so may g++ with -march=x86-64-v3/v4.
 * The float64 products in (4) are exact (24 x 24 bits; 24 x 28 bits for the source index),
 * so fusing them changes nothing. The float32 expand in (2) is not: there the multiply is
 * forced to round on its own (paste_mul_rn).
 *
 * Where torchvision itself fails (Python slices with negative ends raise a shape error for
 * most boxes that lie wholly outside the image), the rule in (3) is applied literally:
 * such masks are all zero. Defined for inputs torch cannot handle at all: a NaN coordinate
 * gives an all-zero mask; expanded coordinates are clamped to +-kPasteCoordLimit before the
 * integer conversion (torch would try to allocate a resized mask wider than 2^26 pixels). */
#pragma once
#include <stdint.h>

#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn_paste {

/* Expanded box coordinates are clamped to [-2^26, 2^26] (documented above). It keeps the
 * resize sizes below 2^27 + 1, so the float64 source index stays exact. */
#define MRCNN_PASTE_COORD_LIMIT 67108864.0f
/* Largest padded mask side (mask side + 2 * padding) the kernels accept. */
#define MRCNN_PASTE_MAX_MASK_SIDE 65536

/* A float32 product that is rounded on its own, never fused into a following add. */
MRCNN_HD float paste_mul_rn(float a, float b) {
#if defined(__CUDA_ARCH__)
  return __fmul_rn(a, b);
#else
  volatile float r = a * b;  // a store forces the rounding; per mask, not per pixel
  return r;
#endif
}

/* torchvision's expand_masks scale as the float32 that multiplies the box. */
MRCNN_HD float paste_expand_scale(int mask_w, int padding) {
  return (float)((double)(mask_w + 2 * padding) / (double)mask_w);
}

/* One mask's integer box and what of it lies in the image. */
struct PasteBox {
  int64_t x0, y0;         // integer box corner (torch's int64 box)
  int64_t w, h;           // resize target size, >= 1
  int64_t cx0, cx1;       // image columns [cx0, cx1) that receive the mask (cx1 == cx0: none)
  int64_t cy0, cy1;       // image rows    [cy0, cy1)
  float scale_x, scale_y; // resize scales float(in) / float(out)
};

MRCNN_HD int64_t paste_to_int(float v) {
  if (v < -MRCNN_PASTE_COORD_LIMIT) v = -MRCNN_PASTE_COORD_LIMIT;
  if (v > MRCNN_PASTE_COORD_LIMIT) v = MRCNN_PASTE_COORD_LIMIT;
  return (int64_t)v;  // truncation toward zero, as torch's .to(int64)
}

/* box: x0, y0, x1, y1 (float32 image coordinates). in_h/in_w: padded mask size. */
MRCNN_HD PasteBox paste_box(const float* box, float expand_scale, int in_h, int in_w,
                            int img_h, int img_w) {
  PasteBox b;
  const float bx0 = box[0], by0 = box[1], bx1 = box[2], by1 = box[3];
  const float w_half = paste_mul_rn((bx1 - bx0) * 0.5f, expand_scale);
  const float h_half = paste_mul_rn((by1 - by0) * 0.5f, expand_scale);
  const float x_c = (bx1 + bx0) * 0.5f;
  const float y_c = (by1 + by0) * 0.5f;
  const float ex0 = x_c - w_half, ey0 = y_c - h_half, ex1 = x_c + w_half, ey1 = y_c + h_half;
  if (ex0 != ex0 || ey0 != ey0 || ex1 != ex1 || ey1 != ey1) {  // NaN: nothing pasted
    b.x0 = b.y0 = 0; b.w = b.h = 1;
    b.cx0 = b.cx1 = b.cy0 = b.cy1 = 0;
    b.scale_x = b.scale_y = 1.0f;
    return b;
  }
  const int64_t x0 = paste_to_int(ex0), y0 = paste_to_int(ey0);
  const int64_t x1 = paste_to_int(ex1), y1 = paste_to_int(ey1);
  b.x0 = x0;
  b.y0 = y0;
  b.w = x1 - x0 + 1 > 1 ? x1 - x0 + 1 : 1;
  b.h = y1 - y0 + 1 > 1 ? y1 - y0 + 1 : 1;
  b.cx0 = x0 > 0 ? x0 : 0;
  b.cx1 = x1 + 1 < (int64_t)img_w ? x1 + 1 : (int64_t)img_w;
  if (b.cx1 < b.cx0) b.cx1 = b.cx0;
  b.cy0 = y0 > 0 ? y0 : 0;
  b.cy1 = y1 + 1 < (int64_t)img_h ? y1 + 1 : (int64_t)img_h;
  if (b.cy1 < b.cy0) b.cy1 = b.cy0;
  b.scale_x = (float)in_w / (float)b.w;  // aten: static_cast<float>(in) / (int64) out
  b.scale_y = (float)in_h / (float)b.h;
  return b;
}

/* Bilinear taps of one output index o (0 <= o < out) along one axis of the padded mask. */
struct PasteTap {
  int i0, i1;     // padded-mask indices, 0 <= i0 <= i1 < in
  float l0, l1;   // weights of i0 and i1
};

MRCNN_HD PasteTap paste_tap(int in, int64_t out, float scale, int64_t o) {
  PasteTap t;
  if (out == (int64_t)in) {
    t.i0 = t.i1 = (int)o;
    t.l0 = 1.0f;
    t.l1 = 0.0f;
    return t;
  }
  double src = (double)scale * ((double)o + 0.5) - 0.5;  // exact: see the header comment
  if (src < 0.0) src = 0.0;
  int64_t i0 = (int64_t)src;
  if (i0 > in - 1) i0 = in - 1;  // never taken for the sizes allowed; keeps reads in bounds
  t.i0 = (int)i0;
  t.i1 = (int)i0 + (i0 < in - 1 ? 1 : 0);
  t.l1 = (float)(src - (double)i0);
  t.l0 = 1.0f - t.l1;
  return t;
}

/* Value of the padded mask at padded index (r, c): the mask, or 0 in the padding. */
MRCNN_HD float paste_mask_at(const float* mask, int mask_h, int mask_w, int padding, int r, int c) {
  r -= padding;
  c -= padding;
  return ((unsigned)r < (unsigned)mask_h && (unsigned)c < (unsigned)mask_w) ? mask[r * mask_w + c] : 0.0f;
}

/* The resized value from the four neighbours and the taps of row (ty) and column (tx). */
MRCNN_HD float paste_combine(float v00, float v01, float v10, float v11, PasteTap ty, PasteTap tx) {
  const float w00 = ty.l0 * tx.l0, w01 = ty.l0 * tx.l1;
  const float w10 = ty.l1 * tx.l0, w11 = ty.l1 * tx.l1;
  double acc = (double)v00 * (double)w00;
  acc += (double)v01 * (double)w01;
  acc += (double)v10 * (double)w10;
  acc += (double)v11 * (double)w11;
  return (float)acc;
}

/* Soft value of image pixel (y, x) inside the clipped box, from its row and column taps. */
MRCNN_HD float paste_pixel(const float* mask, int mask_h, int mask_w, int padding, PasteTap ty,
                           PasteTap tx) {
  return paste_combine(paste_mask_at(mask, mask_h, mask_w, padding, ty.i0, tx.i0),
                       paste_mask_at(mask, mask_h, mask_w, padding, ty.i0, tx.i1),
                       paste_mask_at(mask, mask_h, mask_w, padding, ty.i1, tx.i0),
                       paste_mask_at(mask, mask_h, mask_w, padding, ty.i1, tx.i1), ty, tx);
}

/* The binary mask rule: strictly above the threshold (NaN gives 0). */
MRCNN_HD uint8_t paste_binary(float soft, float threshold) { return soft > threshold ? 1 : 0; }

/* Argument checks shared by every backend (host code). Returns MRCNN_OK, or the failure
 * status with its message set. *nothing_to_do is set when the call writes nothing (k == 0,
 * an empty image or both outputs NULL), after the checks that do not need pointers. The
 * threshold must be >= 0 (not NaN): pixels outside a mask's box are then 0 in both outputs,
 * which the kernels rely on when they skip them. */
inline int paste_validate(const float* masks, int k, int mask_h, int mask_w, const float* boxes,
                          int img_h, int img_w, int padding, float threshold, const float* soft_out,
                          const uint8_t* binary_out, bool* nothing_to_do) {
  *nothing_to_do = true;
  if (k < 0) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "paste_masks: k=%d < 0", k);
  if (mask_h < 1 || mask_w < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "paste_masks: mask size %dx%d must be at least 1x1",
                      mask_h, mask_w);
  if (padding < 0) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "paste_masks: padding=%d < 0", padding);
  if ((int64_t)mask_h + 2 * (int64_t)padding > MRCNN_PASTE_MAX_MASK_SIDE ||
      (int64_t)mask_w + 2 * (int64_t)padding > MRCNN_PASTE_MAX_MASK_SIDE)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT,
                      "paste_masks: padded mask %dx%d (padding %d) exceeds %d per side", mask_h,
                      mask_w, padding, MRCNN_PASTE_MAX_MASK_SIDE);
  if (img_h < 0 || img_w < 0)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "paste_masks: image size %dx%d is negative", img_h, img_w);
  if (!(threshold >= 0.0f))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "paste_masks: threshold %g must be >= 0", (double)threshold);
  if (k == 0 || img_h == 0 || img_w == 0 || (!soft_out && !binary_out)) return MRCNN_OK;
  if (!masks || !boxes)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "paste_masks: null %s pointer", masks ? "boxes" : "masks");
  *nothing_to_do = false;
  return MRCNN_OK;
}

}  // namespace mrcnn_paste

/* Test hooks of the CPU backend (native tests only): the kernel for one instruction set,
 * and the best one this CPU has. Same arguments and rules as mrcnn_cpu_paste_masks. */
#define MRCNN_PASTE_ISA_BASELINE 0
#define MRCNN_PASTE_ISA_AVX512 1
#if defined(__cplusplus)
extern "C" int mrcnn_cpu_paste_masks_with_isa(int isa, const float* masks, int k, int mask_h,
                                              int mask_w, const float* boxes, int img_h, int img_w,
                                              int padding, float threshold, float* soft_out,
                                              uint8_t* binary_out);
extern "C" int mrcnn_cpu_paste_masks_best_isa(void);
#endif
