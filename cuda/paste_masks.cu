// Mask paste, CUDA (mrcnn/paste_masks.h): one thread per output pixel, x fastest, so a warp
// writes 32 consecutive floats (128 B) and 32 consecutive bytes of the binary mask. Blocks
// are 256 threads, bx x by with bx = the image width rounded up to a warp (at most 256), so
// narrow images do not leave most of a block idle; the grid is (column blocks, row blocks,
// masks), each dimension grid-strided so any image size and any k launch. Both outputs are
// written by the same thread in the one kernel.
//
// The output is almost all zeros (a mask's box covers a few percent of the image), so the
// kernel is bound by its writes. Each block first computes its mask's integer box (a few
// float ops, identical in every thread, no shared memory or barrier needed) and its row
// taps; threads outside the box store zeros at once. Threads inside compute their column
// tap and the four-neighbour value (mrcnn/math/paste_masks.h; float64 as torch's CPU kernel,
// about ten FP64 operations per in-box pixel). The <= 64x64 mask is read through the
// read-only data cache: a block touches a few of its rows, reused by all its threads, so
// staging them in shared memory would only add a barrier.
#include "common.cuh"
#include "mrcnn/math/paste_masks.h"
#include "mrcnn/paste_masks.h"

namespace {

using namespace mrcnn_paste;

constexpr int kBlock = 256;
constexpr int kMaxGridX = 1024;
constexpr int kMaxGridYZ = 65535;

__global__ void __launch_bounds__(kBlock)
paste_masks_kernel(const float* __restrict__ masks, int k, int mask_h, int mask_w, int padding,
                   int in_h, int in_w, float expand_scale, const float* __restrict__ boxes,
                   int img_h, int img_w, float threshold, float* __restrict__ soft,
                   uint8_t* __restrict__ binary) {
  for (int m = blockIdx.z; m < k; m += gridDim.z) {
    const PasteBox b = paste_box(boxes + 4 * (int64_t)m, expand_scale, in_h, in_w, img_h, img_w);
    const float* mask = masks + (int64_t)m * mask_h * mask_w;
    for (int64_t y = (int64_t)blockIdx.y * blockDim.y + threadIdx.y; y < img_h;
         y += (int64_t)gridDim.y * blockDim.y) {
      const bool row_in = y >= b.cy0 && y < b.cy1;
      PasteTap ty = {0, 0, 1.0f, 0.0f};
      if (row_in) ty = paste_tap(in_h, b.h, b.scale_y, y - b.y0);
      const int64_t row = ((int64_t)m * img_h + y) * img_w;
      for (int64_t x = (int64_t)blockIdx.x * blockDim.x + threadIdx.x; x < img_w;
           x += (int64_t)gridDim.x * blockDim.x) {
        float v = 0.0f;
        if (row_in && x >= b.cx0 && x < b.cx1) {
          const PasteTap tx = paste_tap(in_w, b.w, b.scale_x, x - b.x0);
          v = paste_pixel(mask, mask_h, mask_w, padding, ty, tx);
        }
        if (soft) soft[row + x] = v;
        if (binary) binary[row + x] = paste_binary(v, threshold);
      }
    }
  }
}

}  // namespace

MRCNN_API int MRCNN_CUDA_FN(paste_masks)(const float* masks, int k, int mask_h, int mask_w,
                                         const float* boxes, int img_h, int img_w, int padding,
                                         float threshold, float* soft_out, uint8_t* binary_out,
                                         void* stream) {
  bool nothing = true;
  const int st = paste_validate(masks, k, mask_h, mask_w, boxes, img_h, img_w, padding, threshold,
                                soft_out, binary_out, &nothing);
  if (st != MRCNN_OK || nothing) return st;
  const int bx = img_w >= kBlock ? kBlock : mrcnn_cuda::ceil_div(img_w, 32) * 32;
  const int by = kBlock / bx;
  const int gx = mrcnn_cuda::ceil_div(img_w, bx), gy = mrcnn_cuda::ceil_div(img_h, by);
  const dim3 grid(gx < kMaxGridX ? gx : kMaxGridX, gy < kMaxGridYZ ? gy : kMaxGridYZ,
                  k < kMaxGridYZ ? k : kMaxGridYZ);
  klaunch(paste_masks_kernel, grid, dim3(bx, by), 0, (cudaStream_t)stream, masks, k, mask_h, mask_w,
          padding, mask_h + 2 * padding, mask_w + 2 * padding, paste_expand_scale(mask_w, padding),
          boxes, img_h, img_w, threshold, soft_out, binary_out);
  return mrcnn_cuda::status_from(cudaGetLastError(), "paste_masks kernel launch");
}
