// Memory, copies and device queries of the CUDA backend (real, emulated or disabled build).
#include "common.cuh"
#include "mrcnn/device.h"

using mrcnn_cuda::status_from;

MRCNN_API int MRCNN_CUDA_FN(device_count)(int* count) {
  if (count) *count = 0;
#if defined(KL_DISABLED)
  return status_from(cudaErrorInsufficientDriver, "device count");
#else
  int c = 0;
  cudaError_t e = cudaGetDeviceCount(&c);
  if (e != cudaSuccess) { (void)cudaGetLastError(); return status_from(e, "cudaGetDeviceCount"); }
  if (c == 0) return mrcnn_fail(MRCNN_ERR_NO_CUDA_DEVICE, "the CUDA driver reports no GPU");
  if (count) *count = c;
  return MRCNN_OK;
#endif
}

MRCNN_API int MRCNN_CUDA_FN(malloc)(size_t bytes, void** out) {
  if (!out) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "malloc: null output pointer");
  *out = nullptr;
#if defined(KL_DISABLED)
  (void)bytes;
  return status_from(cudaErrorInsufficientDriver, "cudaMalloc");
#else
  return status_from(cudaMalloc(out, bytes == 0 ? 1 : bytes), "cudaMalloc");
#endif
}

MRCNN_API int MRCNN_CUDA_FN(free)(void* ptr) {
#if defined(KL_DISABLED)
  (void)ptr;
  return MRCNN_OK;
#else
  return status_from(cudaFree(ptr), "cudaFree");
#endif
}

MRCNN_API int MRCNN_CUDA_FN(copy_to_device)(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return MRCNN_OK;
  return status_from(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyHostToDevice, (cudaStream_t)stream),
                     "copy to device");
}

MRCNN_API int MRCNN_CUDA_FN(copy_to_host)(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return MRCNN_OK;
  cudaError_t e = cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToHost, (cudaStream_t)stream);
  // The caller reads the host buffer right after: wait for the copy.
  if (e == cudaSuccess) e = cudaStreamSynchronize((cudaStream_t)stream);
  return status_from(e, "copy to host");
}

MRCNN_API int MRCNN_CUDA_FN(copy_device_to_device)(void* dst, const void* src, size_t bytes, void* stream) {
  if (bytes == 0) return MRCNN_OK;
  return status_from(cudaMemcpyAsync(dst, src, bytes, cudaMemcpyDeviceToDevice, (cudaStream_t)stream),
                     "copy device to device");
}

MRCNN_API int MRCNN_CUDA_FN(memset)(void* dst, int value, size_t bytes, void* stream) {
  if (bytes == 0) return MRCNN_OK;
  return status_from(cudaMemsetAsync(dst, value, bytes, (cudaStream_t)stream), "memset");
}

MRCNN_API int MRCNN_CUDA_FN(synchronize)(void* stream) {
  return status_from(cudaStreamSynchronize((cudaStream_t)stream), "synchronize");
}

#if defined(MRCNN_EMU_SYMBOLS)
MRCNN_API int mrcnn_emu_set_schedule(int order, unsigned long long seed, int shuffle_blocks) {
  if (order < 0 || order > 2)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "emulator order must be 0, 1 or 2, got %d", order);
  cudaemu::set_schedule(order, seed, shuffle_blocks != 0);
  return MRCNN_OK;
}
MRCNN_API long long mrcnn_emu_error_count(void) { return (long long)cudaemu::error_count(); }
#else
MRCNN_API int mrcnn_cuda_built(void) {
#if defined(KL_DISABLED)
  return 0;
#else
  return 1;
#endif
}
MRCNN_API int mrcnn_cuda_runtime_version(void) {
#if defined(KL_DISABLED)
  return 0;
#else
  return CUDART_VERSION;
#endif
}
#endif
