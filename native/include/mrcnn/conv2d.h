/* 2-D convolution, NHWC activations, groups = 1.
 *   output[n][oy][ox][co] = act( bias[co] + sum_{ky,kx,ci} input[n][iy][ix][ci] * W[co][ci][ky][kx]
 *                                + residual[n][oy][ox][co] )
 *   iy = oy*stride_h - pad_h + ky*dil_h (likewise x); out-of-range taps read zero.
 * act is ReLU when relu != 0, identity otherwise. bias and residual may be NULL.
 * out_h/out_w must equal (h + 2*pad - dil*(k-1) - 1)/stride + 1 (checked).
 * All tensors are dense. The weight is in the backend's packed layout, produced once at
 * load time by <backend>_conv2d_pack_weight from torch's OIHW layout on the host;
 * for cuda/emu the packed host array is then copied to the device. */
#pragma once
#include "mrcnn/api.h"

/* Number of floats of the packed weight for this backend. */
MRCNN_DECLARE_ALL_BACKENDS(size_t, conv2d_packed_weight_size,
    (int c_out, int c_in, int kernel_h, int kernel_w))
/* Host-side packing: weight_oihw [c_out][c_in][kh][kw] -> packed (host memory). */
MRCNN_DECLARE_ALL_BACKENDS(int, conv2d_pack_weight,
    (const float* weight_oihw, int c_out, int c_in, int kernel_h, int kernel_w, float* packed))
/* Scratch bytes conv2d needs for these sizes (may be 0). */
MRCNN_DECLARE_ALL_BACKENDS(size_t, conv2d_workspace_size,
    (int n, int h, int w, int c_in, int c_out, int kernel_h, int kernel_w,
     int out_h, int out_w, int stride_h, int stride_w, int pad_h, int pad_w, int dil_h, int dil_w))
MRCNN_DECLARE_ALL_BACKENDS(int, conv2d,
    (const float* input, int n, int h, int w, int c_in,
     const float* packed_weight, int c_out, int kernel_h, int kernel_w,
     const float* bias, const float* residual,
     float* output, int out_h, int out_w,
     int stride_h, int stride_w, int pad_h, int pad_w, int dil_h, int dil_w,
     int relu, void* workspace, size_t workspace_bytes, void* stream))
/* The same convolution on TF32 tensor cores (WMMA m16n16k8) on the CUDA backends: inputs and
 * weights rounded to TF32's 10-bit mantissa, fp32 accumulation, so ~1e-3 relative error;
 * opt-in. Same packed weight, workspace and arguments as conv2d. The CPU has no TF32 path:
 * mrcnn_cpu_conv2d_tf32 computes in fp32, exactly as mrcnn_cpu_conv2d. */
MRCNN_DECLARE_ALL_BACKENDS(int, conv2d_tf32,
    (const float* input, int n, int h, int w, int c_in,
     const float* packed_weight, int c_out, int kernel_h, int kernel_w,
     const float* bias, const float* residual,
     float* output, int out_h, int out_w,
     int stride_h, int stride_w, int pad_h, int pad_w, int dil_h, int dil_w,
     int relu, void* workspace, size_t workspace_bytes, void* stream))
