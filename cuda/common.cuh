// Shared by every cuda/*.cu: the shim, the status mapping and small launch helpers.
#pragma once
#include "kcompat.h"
#include "mrcnn/api.h"

namespace mrcnn_cuda {

// Maps a CUDA runtime error to an mrcnn status with the runtime's message as detail.
inline int status_from(cudaError_t e, const char* what) {
  if (e == cudaSuccess) return MRCNN_OK;
#if defined(KL_DISABLED)
  (void)what;
  return mrcnn_fail(MRCNN_ERR_NOT_BUILT_WITH_CUDA,
                    "maskrcnn4j was built without nvcc, so it has no CUDA kernels");
#else
  const char* msg = cudaGetErrorString(e);
  if (e == cudaErrorInsufficientDriver || e == cudaErrorNoDevice)
    return mrcnn_fail(MRCNN_ERR_NO_CUDA_DEVICE, "%s: %s (cuda error %d)", what, msg, (int)e);
  if (e == cudaErrorMemoryAllocation)
    return mrcnn_fail(MRCNN_ERR_OUT_OF_MEMORY, "%s: %s", what, msg);
#if defined(KL_EMULATE)
  if (e == cudaErrorLaunchFailure)
    return mrcnn_fail(MRCNN_ERR_EMULATION, "%s: the CUDA emulator reported misuse (see stderr)", what);
#endif
  return mrcnn_fail(MRCNN_ERR_CUDA, "%s: %s (cuda error %d)", what, msg, (int)e);
#endif
}

inline int ceil_div(long long a, long long b) { return (int)((a + b - 1) / b); }

// Grid for a grid-stride loop over `total` items: capped so huge inputs still launch.
inline unsigned grid_for(long long total, int block, int max_blocks = 65535) {
  long long g = (total + block - 1) / block;
  if (g < 1) g = 1;
  return (unsigned)(g > max_blocks ? max_blocks : g);
}

}  // namespace mrcnn_cuda
