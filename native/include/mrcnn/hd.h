/* Kernel math is written once, as inline functions both the CPU loops and the CUDA
 * kernels call. MRCNN_HD marks them __host__ __device__ under nvcc and under the
 * emulation harness (which defines those keywords away), plain inline otherwise. */
#pragma once
#if defined(__CUDACC__) || defined(KL_EMULATE)
#define MRCNN_HD __host__ __device__ __forceinline__
#else
#define MRCNN_HD inline __attribute__((always_inline))
#endif
