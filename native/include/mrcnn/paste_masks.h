/* Mask paste with torchvision 0.14 semantics (roi_heads.paste_masks_in_image):
 * each mask [mask_h][mask_w] is padded by `padding` pixels of zero, its box scaled by
 * (mask_w + 2*padding)/mask_w around the centre, rounded to an integer box (x0,y0,x1,y1,
 * width/height at least 1), resized bilinearly (align_corners=False) to the box size and
 * placed into an img_h x img_w canvas, clipped to the image.
 *   masks [k][mask_h][mask_w] float probabilities, boxes [k][4] image coordinates.
 *   soft_out   [k][img_h][img_w] float, or NULL
 *   binary_out [k][img_h][img_w] uint8: 1 where the soft value > threshold, else 0,
 *              or NULL. No k x H x W float scratch is used when soft_out is NULL. */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, paste_masks,
    (const float* masks, int k, int mask_h, int mask_w, const float* boxes,
     int img_h, int img_w, int padding, float threshold,
     float* soft_out, uint8_t* binary_out, void* stream))
