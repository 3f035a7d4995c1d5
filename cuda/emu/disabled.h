/* cudaemu: the runtime API of the library built without nvcc (kcompat.h with KL_EMULATE and
 * KL_DISABLED). Kernels still compile against the emulator's vocabulary, so the mrcnn_cuda_*
 * entry points exist, but no call does anything: each reports that no usable CUDA driver is
 * present, as libcudart does on a machine without one. */
#pragma once

#include "cudaemu.h"

namespace cudaemu {
namespace disabled {
using cuda::cudaError_t;
using cuda::cudaMemcpyKind;
using cuda::cudaStream_t;
constexpr cudaError_t kNoDriver = cuda::cudaErrorInsufficientDriver;

inline cudaError_t cudaGetLastError() { return kNoDriver; }
inline cudaError_t cudaPeekAtLastError() { return kNoDriver; }
inline cudaError_t cudaGetDeviceCount(int*) { return kNoDriver; }
inline cudaError_t cudaGetDevice(int*) { return kNoDriver; }
inline cudaError_t cudaSetDevice(int) { return kNoDriver; }
inline cudaError_t cudaGetDeviceProperties(cuda::cudaDeviceProp*, int) { return kNoDriver; }
inline cudaError_t cudaRuntimeGetVersion(int* version) { if (version) *version = 0; return kNoDriver; }
inline cudaError_t cudaDriverGetVersion(int* version) { if (version) *version = 0; return kNoDriver; }
inline cudaError_t cudaMalloc(void** ptr, size_t) { if (ptr) *ptr = nullptr; return kNoDriver; }
template <typename T>
inline cudaError_t cudaMalloc(T** ptr, size_t) { if (ptr) *ptr = nullptr; return kNoDriver; }
inline cudaError_t cudaFree(void*) { return kNoDriver; }
inline cudaError_t cudaMemcpy(void*, const void*, size_t, cudaMemcpyKind) { return kNoDriver; }
inline cudaError_t cudaMemcpyAsync(void*, const void*, size_t, cudaMemcpyKind, cudaStream_t = nullptr) {
  return kNoDriver;
}
inline cudaError_t cudaMemset(void*, int, size_t) { return kNoDriver; }
inline cudaError_t cudaMemsetAsync(void*, int, size_t, cudaStream_t = nullptr) { return kNoDriver; }
inline cudaError_t cudaStreamCreate(cudaStream_t*) { return kNoDriver; }
inline cudaError_t cudaStreamDestroy(cudaStream_t) { return kNoDriver; }
inline cudaError_t cudaStreamSynchronize(cudaStream_t) { return kNoDriver; }
inline cudaError_t cudaDeviceSynchronize() { return kNoDriver; }
inline cudaError_t cudaFuncSetAttribute(const void*, cuda::cudaFuncAttribute, int) { return kNoDriver; }
template <typename T>
inline cudaError_t cudaFuncSetAttribute(T*, cuda::cudaFuncAttribute, int) { return kNoDriver; }
template <typename T>
inline cudaError_t cudaMemcpyToSymbol(const T&, const void*, size_t, size_t = 0,
                                      cudaMemcpyKind = cuda::cudaMemcpyHostToDevice) { return kNoDriver; }
template <typename T>
inline cudaError_t cudaMemcpyFromSymbol(void*, const T&, size_t, size_t = 0,
                                        cudaMemcpyKind = cuda::cudaMemcpyDeviceToHost) { return kNoDriver; }
}  // namespace disabled
}  // namespace cudaemu
