/* The scatter half of ConvTranspose2d(kernel 2, stride 2, padding 0), NHWC:
 *   output[n][2y+dy][2x+dx][co] = act(input[n][y][x][(dy*2 + dx)*c_out + co])
 * for dy, dx in {0, 1}; act is ReLU (torch.relu) when relu != 0. A stride-2 2x2 transposed
 * convolution has no overlapping taps, so it equals a 1x1 convolution c_in -> 4*c_out (the
 * conv2d op, weight W'[(dy*2+dx)*c_out + co][ci] = W_t[ci][co][dy][dx], bias repeated 4
 * times) followed by this op: torchvision's MaskRCNNPredictor.conv5_mask (+ ReLU).
 *   input [n][h][w][4*c_out]      output [n][2h][2w][c_out]      dense, not overlapping */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, depth_to_space_2x2,
    (const float* input, int n, int h, int w, int c_out, float* output, int relu, void* stream))
