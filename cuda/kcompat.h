/* kcompat.h: the shim every cuda/<op>.cu includes first. One kernel source, three builds:
 *
 *   nvcc                      the real thing: <cuda_runtime.h>, <mma.h>, klaunch = <<<>>>
 *   g++ -DKL_EMULATE          the CPU emulator (cuda/emu): kernels run as fibers, misuse
 *                             (deadlock, divergent barrier, bad shuffle) fails the launch
 *   g++ -DKL_EMULATE -DKL_DISABLED
 *                             the library built without nvcc: everything compiles, but
 *                             klaunch and every runtime call return cudaErrorInsufficientDriver
 *
 * The switch is the build macro, not __CUDACC__, so host-only files compiled by g++ against
 * real CUDA take the real path too. Rules for kernel sources:
 *   - launch with klaunch(kernel, grid, block, smem_bytes, stream, args...), never <<<>>>;
 *   - declare dynamic shared memory with KL_EXTERN_SHARED(T, name) inside the kernel;
 *   - use only the *_sync warp intrinsics; inline PTX and __CUDA_ARCH__ paths need a plain
 *     C++ fallback (__CUDA_ARCH__ is undefined in the emulator, so the fallback is tested);
 *   - give kernels, __device__ functions and variables internal linkage (an anonymous
 *     namespace): the same .cu is compiled twice into one shared library. */
#pragma once

#if !defined(KL_EMULATE)

#include <cuda_runtime.h>
#if defined(__CUDACC__)
#include <mma.h>
#include <utility>

// Launches through the function pointer; the arguments convert to the parameter types as in
// any call. Only nvcc can compile <<<>>>, so host-only g++ files have no klaunch.
template <typename... Params, typename... Args>
static inline cudaError_t klaunch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem_bytes,
                                  cudaStream_t stream, Args&&... args) {
  kernel<<<grid, block, smem_bytes, stream>>>(std::forward<Args>(args)...);
  return cudaGetLastError();
}
#endif
#define KL_EXTERN_SHARED(T, name) extern __shared__ __align__(16) T name[]

#else  // KL_EMULATE

#if defined(__CUDACC__)
#error "KL_EMULATE is for the g++ emulation build; do not define it when compiling with nvcc"
#endif

#include "emu/cudaemu.h"
using namespace cudaemu::cuda;

#if defined(KL_DISABLED)
#include "emu/disabled.h"
using namespace cudaemu::disabled;

template <typename... Params, typename... Args>
static inline cudaError_t klaunch(void (*)(Params...), dim3, dim3, size_t, cudaStream_t, Args&&...) {
  static_assert(sizeof...(Params) == sizeof...(Args),
                "klaunch: the number of arguments differs from the kernel's parameters");
  return cudaErrorInsufficientDriver;
}
#else
using namespace cudaemu::runtime;

template <typename... Params, typename... Args>
static inline cudaError_t klaunch(void (*kernel)(Params...), dim3 grid, dim3 block, size_t smem_bytes,
                                  cudaStream_t stream, Args&&... args) {
  return cudaemu::launch(kernel, grid, block, smem_bytes, stream, std::forward<Args>(args)...);
}
#endif

// CUDA keywords. __shared__ becomes a function-local static: blocks run one after another, so
// one instance per kernel suffices, and AddressSanitizer puts redzones around statics.
#define __global__
#define __device__
#define __host__
#define __constant__
#define __shared__ static
#define __forceinline__ __inline__ __attribute__((always_inline))
#define __noinline__ __attribute__((noinline))
#define __align__(n) __attribute__((aligned(n)))
#define __launch_bounds__(...)

// glibc declares unexported __expf/__logf, so these CUDA intrinsics must be macros.
#define __expf(x) ::cudaemu::cuda::fast_expf(x)
#define __logf(x) ::cudaemu::cuda::fast_logf(x)

// Built-in variables of the running emulated thread (read-only, as in CUDA).
#define threadIdx (static_cast<const ::cudaemu::cuda::uint3&>(::cudaemu::detail::g_thread_idx))
#define blockIdx (static_cast<const ::cudaemu::cuda::uint3&>(::cudaemu::detail::g_block_idx))
#define blockDim (static_cast<const ::cudaemu::cuda::dim3&>(::cudaemu::detail::g_block_dim))
#define gridDim (static_cast<const ::cudaemu::cuda::dim3&>(::cudaemu::detail::g_grid_dim))

// The launch's dynamic shared memory (exactly smem_bytes, refilled with 0xFF before every
// block). `extern static` would not compile, so forgetting the macro fails loudly. The [&]
// lambda makes a use outside a function (which would capture a stale pointer) fail too.
#define KL_EXTERN_SHARED(T, name) \
  T* const name = [&] { return static_cast<T*>(::cudaemu::dynamic_smem()); }()

#endif  // KL_EMULATE
