/* cudaemu: runs our CUDA kernels on the CPU, for tests on machines without a GPU.
 *
 * Kernels never include this header directly: every cuda/<op>.cu includes kcompat.h, which with
 * -DKL_EMULATE includes it, brings the CUDA names into scope and maps the CUDA keywords
 * (__global__, __shared__, threadIdx, ...). How it works, its limits and its environment
 * variables: README.md next to this file.
 *
 * Nothing here is a global symbol: the emulator is linked into the same shared library as
 * nvcc-built objects and libcudart_static, so every name lives in a namespace:
 *   cudaemu::cuda      the CUDA vocabulary: types, built-in functions, warp intrinsics,
 *                      atomics, nvcuda::wmma (wmma.h)
 *   cudaemu::runtime   the emulated runtime API (cudaMalloc, cudaMemcpy, ...)
 *   cudaemu            harness controls (schedule, error count, report stream) and launch()
 *   cudaemu::detail    implementation (cudaemu.cpp)
 */
#pragma once

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

// Included before kcompat.h defines the keyword macros: libstdc++'s <memory> spells
// __attribute__((__noinline__)), which a later `#define __noinline__` would break.
#include <memory>
#include <tuple>
#include <utility>

namespace cudaemu {
namespace detail {
// cvt.rni/rmi/rpi/rzi.s32.f32 after rounding: saturate, NaN gives 0.
inline int saturate_to_int(float r) {
  if (r != r) return 0;
  if (r >= 2147483648.0f) return 2147483647;
  if (r <= -2147483648.0f) return -2147483647 - 1;
  return (int)r;
}
// Compare-and-swap loop applying f(old, v); returns the old value, as every CUDA atomic does.
template <typename T, typename F>
inline T atomic_update(T* p, T v, F f) {
  T old;
  __atomic_load(p, &old, __ATOMIC_RELAXED);
  T next = f(old, v);
  while (!__atomic_compare_exchange(p, &old, &next, true, __ATOMIC_RELAXED, __ATOMIC_RELAXED))
    next = f(old, v);
  return old;
}
}  // namespace detail

namespace cuda {

// ---- runtime types (values as in CUDA's driver_types.h) ----------------------------------
enum cudaError {
  cudaSuccess = 0,
  cudaErrorInvalidValue = 1,
  cudaErrorMemoryAllocation = 2,
  cudaErrorInitializationError = 3,
  cudaErrorInvalidConfiguration = 9,
  cudaErrorInvalidMemcpyDirection = 21,
  cudaErrorInsufficientDriver = 35,
  cudaErrorInvalidDeviceFunction = 98,
  cudaErrorNoDevice = 100,
  cudaErrorInvalidDevice = 101,
  cudaErrorLaunchFailure = 719,
  cudaErrorNotSupported = 801,
  cudaErrorUnknown = 999
};
typedef cudaError cudaError_t;

enum cudaMemcpyKind {
  cudaMemcpyHostToHost = 0,
  cudaMemcpyHostToDevice = 1,
  cudaMemcpyDeviceToHost = 2,
  cudaMemcpyDeviceToDevice = 3,
  cudaMemcpyDefault = 4
};

enum cudaFuncAttribute { cudaFuncAttributeMaxDynamicSharedMemorySize = 8 };

struct CUstream_st;  // never defined: launches are synchronous, streams are only handles
typedef CUstream_st* cudaStream_t;

// The fields our code reads; the emulator describes itself as a compute capability 9.0 part.
struct cudaDeviceProp {
  char name[256];
  size_t totalGlobalMem;
  size_t sharedMemPerBlock;
  size_t sharedMemPerBlockOptin;
  size_t sharedMemPerMultiprocessor;
  int regsPerBlock;
  int warpSize;
  int maxThreadsPerBlock;
  int maxThreadsDim[3];
  int maxGridSize[3];
  int maxThreadsPerMultiProcessor;
  int multiProcessorCount;
  int major;
  int minor;
};

const char* cudaGetErrorString(cudaError_t error);
const char* cudaGetErrorName(cudaError_t error);

// ---- built-in vector types ---------------------------------------------------------------
struct uint3 { unsigned int x, y, z; };
struct dim3 {
  unsigned int x, y, z;
  constexpr dim3(unsigned int vx = 1, unsigned int vy = 1, unsigned int vz = 1) : x(vx), y(vy), z(vz) {}
  constexpr dim3(uint3 v) : x(v.x), y(v.y), z(v.z) {}
  constexpr operator uint3() const { return uint3{x, y, z}; }
};
// Same sizes and alignments as CUDA's, so float4 loads through reinterpret_cast behave alike.
struct __attribute__((aligned(8))) float2 { float x, y; };
struct float3 { float x, y, z; };
struct __attribute__((aligned(16))) float4 { float x, y, z, w; };
struct __attribute__((aligned(8))) int2 { int x, y; };
struct int3 { int x, y, z; };
struct __attribute__((aligned(16))) int4 { int x, y, z, w; };
struct __attribute__((aligned(8))) uint2 { unsigned int x, y; };
struct __attribute__((aligned(16))) uint4 { unsigned int x, y, z, w; };

constexpr float2 make_float2(float x, float y) { return {x, y}; }
constexpr float3 make_float3(float x, float y, float z) { return {x, y, z}; }
constexpr float4 make_float4(float x, float y, float z, float w) { return {x, y, z, w}; }
constexpr int2 make_int2(int x, int y) { return {x, y}; }
constexpr int3 make_int3(int x, int y, int z) { return {x, y, z}; }
constexpr int4 make_int4(int x, int y, int z, int w) { return {x, y, z, w}; }
constexpr uint2 make_uint2(unsigned x, unsigned y) { return {x, y}; }
constexpr uint3 make_uint3(unsigned x, unsigned y, unsigned z) { return {x, y, z}; }
constexpr uint4 make_uint4(unsigned x, unsigned y, unsigned z, unsigned w) { return {x, y, z, w}; }

constexpr int warpSize = 32;

// ---- min / max: the overload set of CUDA's math_functions.h (mixed signedness -> unsigned) --
#define CUDAEMU_MINMAX(R, A, B)                                              \
  constexpr R min(A a, B b) { return (R)a < (R)b ? (R)a : (R)b; }            \
  constexpr R max(A a, B b) { return (R)a > (R)b ? (R)a : (R)b; }
CUDAEMU_MINMAX(int, int, int)
CUDAEMU_MINMAX(unsigned int, unsigned int, unsigned int)
CUDAEMU_MINMAX(unsigned int, int, unsigned int)
CUDAEMU_MINMAX(unsigned int, unsigned int, int)
CUDAEMU_MINMAX(long, long, long)
CUDAEMU_MINMAX(unsigned long, unsigned long, unsigned long)
CUDAEMU_MINMAX(unsigned long, long, unsigned long)
CUDAEMU_MINMAX(unsigned long, unsigned long, long)
CUDAEMU_MINMAX(long long, long long, long long)
CUDAEMU_MINMAX(unsigned long long, unsigned long long, unsigned long long)
CUDAEMU_MINMAX(unsigned long long, long long, unsigned long long)
CUDAEMU_MINMAX(unsigned long long, unsigned long long, long long)
#undef CUDAEMU_MINMAX
// Floating point follows fmin/fmax (a NaN operand yields the other operand), as on the GPU.
inline float min(float a, float b) { return fminf(a, b); }
inline float max(float a, float b) { return fmaxf(a, b); }
inline double min(double a, double b) { return fmin(a, b); }
inline double max(double a, double b) { return fmax(a, b); }
inline double min(float a, double b) { return fmin(a, b); }
inline double max(float a, double b) { return fmax(a, b); }
inline double min(double a, float b) { return fmin(a, b); }
inline double max(double a, float b) { return fmax(a, b); }

// ---- bit and conversion intrinsics ---------------------------------------------------------
inline float __int_as_float(int v) { float f; memcpy(&f, &v, sizeof f); return f; }
inline int __float_as_int(float f) { int v; memcpy(&v, &f, sizeof v); return v; }
inline float __uint_as_float(unsigned int v) { float f; memcpy(&f, &v, sizeof f); return f; }
inline unsigned int __float_as_uint(float f) { unsigned int v; memcpy(&v, &f, sizeof v); return v; }
inline double __longlong_as_double(long long v) { double d; memcpy(&d, &v, sizeof d); return d; }
inline long long __double_as_longlong(double d) { long long v; memcpy(&v, &d, sizeof v); return v; }

inline int __popc(unsigned int x) { return __builtin_popcount(x); }
inline int __popcll(unsigned long long x) { return __builtin_popcountll(x); }
inline int __clz(int x) { return x == 0 ? 32 : __builtin_clz((unsigned)x); }
inline int __clzll(long long x) { return x == 0 ? 64 : __builtin_clzll((unsigned long long)x); }
inline int __ffs(int x) { return __builtin_ffs(x); }
inline int __ffsll(long long x) { return __builtin_ffsll(x); }
inline unsigned int __brev(unsigned int x) {
  x = ((x >> 1) & 0x55555555u) | ((x & 0x55555555u) << 1);
  x = ((x >> 2) & 0x33333333u) | ((x & 0x33333333u) << 2);
  x = ((x >> 4) & 0x0F0F0F0Fu) | ((x & 0x0F0F0F0Fu) << 4);
  return __builtin_bswap32(x);
}

inline int __float2int_rn(float x) { return detail::saturate_to_int(nearbyintf(x)); }  // ties to even
inline int __float2int_rd(float x) { return detail::saturate_to_int(floorf(x)); }
inline int __float2int_ru(float x) { return detail::saturate_to_int(ceilf(x)); }
inline int __float2int_rz(float x) { return detail::saturate_to_int(truncf(x)); }

// The GPU's fast approximations are computed exactly here: compare results with tolerances.
// __expf and __logf are macros in kcompat.h naming these: glibc's <math.h> already declares
// (but does not export) functions of those names, so an overload would be ambiguous.
inline float fast_expf(float x) { return expf(x); }
inline float fast_logf(float x) { return logf(x); }
inline float __fdividef(float x, float y) { return x / y; }
inline float rsqrtf(float x) { return 1.0f / sqrtf(x); }
inline float __saturatef(float x) { return x > 0.0f ? (x < 1.0f ? x : 1.0f) : 0.0f; }  // NaN -> 0
inline float __fmaf_rn(float a, float b, float c) { return fmaf(a, b, c); }

template <typename T>
inline T __ldg(const T* p) { return *p; }

inline void __threadfence() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }
inline void __threadfence_block() { __atomic_thread_fence(__ATOMIC_SEQ_CST); }

// ---- atomics: real relaxed atomics, so they stay correct if blocks ever run on several OS
// threads and ThreadSanitizer understands them --------------------------------------------
#define CUDAEMU_ATOMIC_RMW(NAME, BUILTIN, T) \
  inline T NAME(T* p, T v) { return BUILTIN(p, v, __ATOMIC_RELAXED); }
#define CUDAEMU_ATOMIC_INTS(NAME, BUILTIN) \
  CUDAEMU_ATOMIC_RMW(NAME, BUILTIN, int)    \
  CUDAEMU_ATOMIC_RMW(NAME, BUILTIN, unsigned int) \
  CUDAEMU_ATOMIC_RMW(NAME, BUILTIN, unsigned long long)
CUDAEMU_ATOMIC_INTS(atomicAdd, __atomic_fetch_add)
CUDAEMU_ATOMIC_INTS(atomicAnd, __atomic_fetch_and)
CUDAEMU_ATOMIC_INTS(atomicOr, __atomic_fetch_or)
CUDAEMU_ATOMIC_INTS(atomicXor, __atomic_fetch_xor)
CUDAEMU_ATOMIC_INTS(atomicExch, __atomic_exchange_n)
CUDAEMU_ATOMIC_RMW(atomicSub, __atomic_fetch_sub, int)  // CUDA has no 64-bit atomicSub
CUDAEMU_ATOMIC_RMW(atomicSub, __atomic_fetch_sub, unsigned int)
#undef CUDAEMU_ATOMIC_INTS
#undef CUDAEMU_ATOMIC_RMW

// compare ends up holding the old value whether or not the exchange happened.
#define CUDAEMU_ATOMIC_CAS(T)                                                                 \
  inline T atomicCAS(T* p, T compare, T value) {                                              \
    __atomic_compare_exchange_n(p, &compare, value, false, __ATOMIC_RELAXED, __ATOMIC_RELAXED); \
    return compare;                                                                           \
  }
CUDAEMU_ATOMIC_CAS(int)
CUDAEMU_ATOMIC_CAS(unsigned int)
CUDAEMU_ATOMIC_CAS(unsigned long long)
#undef CUDAEMU_ATOMIC_CAS
inline float atomicExch(float* p, float v) {
  float old;
  __atomic_exchange(p, &v, &old, __ATOMIC_RELAXED);
  return old;
}

inline float atomicAdd(float* p, float v) {
  return detail::atomic_update(p, v, [](float a, float b) { return a + b; });
}
inline double atomicAdd(double* p, double v) {
  return detail::atomic_update(p, v, [](double a, double b) { return a + b; });
}
#define CUDAEMU_ATOMIC_MINMAX(T)                                                              \
  inline T atomicMin(T* p, T v) { return detail::atomic_update(p, v, [](T a, T b) { return b < a ? b : a; }); } \
  inline T atomicMax(T* p, T v) { return detail::atomic_update(p, v, [](T a, T b) { return b > a ? b : a; }); }
CUDAEMU_ATOMIC_MINMAX(int)
CUDAEMU_ATOMIC_MINMAX(unsigned int)
CUDAEMU_ATOMIC_MINMAX(long long)
CUDAEMU_ATOMIC_MINMAX(unsigned long long)
#undef CUDAEMU_ATOMIC_MINMAX

}  // namespace cuda

// ---- implementation interface used by the inline functions below ----------------------------
namespace detail {

// Built-in variables of the running emulated thread, rewritten by the scheduler before every
// switch. Plain globals (not thread_local): launches are serialized by a process-wide mutex
// and run on the launching OS thread, and a TLS access in a dlopen'ed library costs a call.
extern cuda::uint3 g_thread_idx;
extern cuda::uint3 g_block_idx;
extern cuda::dim3 g_block_dim;
extern cuda::dim3 g_grid_dim;
extern void* g_dynamic_smem;

enum class BarrierKind : unsigned char { Plain, Count, And, Or };
// __syncthreads and variants: returns the count/and/or result (0 for Plain).
int barrier(BarrierKind kind, int predicate, const char* file, int line);

enum class WarpOp : unsigned char {
  ShflIdx, ShflUp, ShflDown, ShflXor, Ballot, Any, All,
  ReduceAdd, ReduceMinS, ReduceMinU, ReduceMaxS, ReduceMaxU, ReduceAnd, ReduceOr, ReduceXor,
  SyncWarp, WmmaFill, WmmaLoad, WmmaStore, WmmaMma
};
// One lane's part of a warp collective: blocks until every non-exited lane of `mask` arrived
// at an op with the same kind and mask, then returns this lane's result. `value` is the
// lane's payload (bit pattern), `arg` the source lane / delta / xor mask, `width` the segment.
uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, unsigned arg, int width,
                 const char* file, int line);
// Live lanes of the calling thread's warp (the __activemask approximation).
unsigned active_lanes();
// After a WMMA collective: the payload lane `lane` of this warp passed (its fragment pointer).
uint64_t wmma_peer_value(unsigned lane);

template <typename T>
inline uint64_t to_bits(T v) {
  static_assert(sizeof(T) <= 8, "warp payloads are at most 64 bits");
  uint64_t b = 0;
  memcpy(&b, &v, sizeof v);
  return b;
}
template <typename T>
inline T from_bits(uint64_t b) {
  T v;
  memcpy(&v, &b, sizeof v);
  return v;
}

}  // namespace detail

namespace cuda {

// ---- block barriers ---------------------------------------------------------------------------
// The call site is part of the barrier: threads waiting at different __syncthreads are reported.
inline void __syncthreads(const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  detail::barrier(detail::BarrierKind::Plain, 0, file, line);
}
inline int __syncthreads_count(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return detail::barrier(detail::BarrierKind::Count, pred, file, line);
}
inline int __syncthreads_and(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return detail::barrier(detail::BarrierKind::And, pred, file, line);
}
inline int __syncthreads_or(int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return detail::barrier(detail::BarrierKind::Or, pred, file, line);
}

// ---- warp intrinsics (only the *_sync forms exist, as on Volta and later) ------------------
#define CUDAEMU_SHUFFLES(T)                                                                      \
  inline T __shfl_sync(unsigned mask, T var, int src_lane, int width = warpSize,                 \
                       const char* file = __builtin_FILE(), int line = __builtin_LINE()) {       \
    return detail::from_bits<T>(detail::warp_op(detail::WarpOp::ShflIdx, mask,                   \
        detail::to_bits(var), (unsigned)src_lane, width, file, line));                           \
  }                                                                                              \
  inline T __shfl_up_sync(unsigned mask, T var, unsigned delta, int width = warpSize,            \
                          const char* file = __builtin_FILE(), int line = __builtin_LINE()) {    \
    return detail::from_bits<T>(detail::warp_op(detail::WarpOp::ShflUp, mask,                    \
        detail::to_bits(var), delta, width, file, line));                                        \
  }                                                                                              \
  inline T __shfl_down_sync(unsigned mask, T var, unsigned delta, int width = warpSize,          \
                            const char* file = __builtin_FILE(), int line = __builtin_LINE()) {  \
    return detail::from_bits<T>(detail::warp_op(detail::WarpOp::ShflDown, mask,                  \
        detail::to_bits(var), delta, width, file, line));                                        \
  }                                                                                              \
  inline T __shfl_xor_sync(unsigned mask, T var, int lane_mask, int width = warpSize,            \
                           const char* file = __builtin_FILE(), int line = __builtin_LINE()) {   \
    return detail::from_bits<T>(detail::warp_op(detail::WarpOp::ShflXor, mask,                   \
        detail::to_bits(var), (unsigned)lane_mask, width, file, line));                          \
  }
CUDAEMU_SHUFFLES(int)
CUDAEMU_SHUFFLES(unsigned int)
CUDAEMU_SHUFFLES(long)
CUDAEMU_SHUFFLES(unsigned long)
CUDAEMU_SHUFFLES(long long)
CUDAEMU_SHUFFLES(unsigned long long)
CUDAEMU_SHUFFLES(float)
CUDAEMU_SHUFFLES(double)
#undef CUDAEMU_SHUFFLES

inline unsigned __ballot_sync(unsigned mask, int pred,
                              const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return (unsigned)detail::warp_op(detail::WarpOp::Ballot, mask, pred != 0, 0, warpSize, file, line);
}
inline int __any_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return (int)detail::warp_op(detail::WarpOp::Any, mask, pred != 0, 0, warpSize, file, line);
}
inline int __all_sync(unsigned mask, int pred, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  return (int)detail::warp_op(detail::WarpOp::All, mask, pred != 0, 0, warpSize, file, line);
}
inline void __syncwarp(unsigned mask = 0xffffffffu, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  detail::warp_op(detail::WarpOp::SyncWarp, mask, 0, 0, warpSize, file, line);
}
// Approximation: the lanes of the warp that have not returned (there is no divergence here).
inline unsigned __activemask() { return detail::active_lanes(); }

#define CUDAEMU_REDUCE(NAME, T, OP)                                                               \
  inline T NAME(unsigned mask, T value, const char* file = __builtin_FILE(), int line = __builtin_LINE()) { \
    return detail::from_bits<T>(detail::warp_op(detail::WarpOp::OP, mask,                         \
        detail::to_bits(value), 0, warpSize, file, line));                                        \
  }
CUDAEMU_REDUCE(__reduce_add_sync, unsigned, ReduceAdd)
CUDAEMU_REDUCE(__reduce_add_sync, int, ReduceAdd)
CUDAEMU_REDUCE(__reduce_min_sync, unsigned, ReduceMinU)
CUDAEMU_REDUCE(__reduce_min_sync, int, ReduceMinS)
CUDAEMU_REDUCE(__reduce_max_sync, unsigned, ReduceMaxU)
CUDAEMU_REDUCE(__reduce_max_sync, int, ReduceMaxS)
CUDAEMU_REDUCE(__reduce_and_sync, unsigned, ReduceAnd)
CUDAEMU_REDUCE(__reduce_or_sync, unsigned, ReduceOr)
CUDAEMU_REDUCE(__reduce_xor_sync, unsigned, ReduceXor)
#undef CUDAEMU_REDUCE

}  // namespace cuda

// ---- the emulated runtime API ------------------------------------------------------------------
namespace runtime {
using cuda::cudaError_t;

cudaError_t cudaGetLastError();
cudaError_t cudaPeekAtLastError();
cudaError_t cudaGetDeviceCount(int* count);
cudaError_t cudaGetDevice(int* device);
cudaError_t cudaSetDevice(int device);
cudaError_t cudaGetDeviceProperties(cuda::cudaDeviceProp* prop, int device);
cudaError_t cudaRuntimeGetVersion(int* version);
cudaError_t cudaDriverGetVersion(int* version);
// Device memory is host memory, 256-byte aligned and filled with 0xFF so that reading it
// before writing shows up as NaN / -1. AddressSanitizer watches its bounds.
cudaError_t cudaMalloc(void** ptr, size_t bytes);
cudaError_t cudaFree(void* ptr);
cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cuda::cudaMemcpyKind kind);
cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cuda::cudaMemcpyKind kind,
                            cuda::cudaStream_t stream = nullptr);
cudaError_t cudaMemset(void* dst, int value, size_t bytes);
cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cuda::cudaStream_t stream = nullptr);
cudaError_t cudaStreamCreate(cuda::cudaStream_t* stream);
cudaError_t cudaStreamDestroy(cuda::cudaStream_t stream);
// Launches are synchronous; the sync calls return a misuse error of an earlier launch once.
cudaError_t cudaStreamSynchronize(cuda::cudaStream_t stream);
cudaError_t cudaDeviceSynchronize();
// Records the opt-in above the default 48 KB of dynamic shared memory for that kernel.
cudaError_t cudaFuncSetAttribute(const void* kernel, cuda::cudaFuncAttribute attr, int value);

template <typename T>
inline cudaError_t cudaMalloc(T** ptr, size_t bytes) {
  return cudaMalloc(reinterpret_cast<void**>(ptr), bytes);
}
template <typename T>
inline cudaError_t cudaFuncSetAttribute(T* kernel, cuda::cudaFuncAttribute attr, int value) {
  return cudaFuncSetAttribute(reinterpret_cast<const void*>(kernel), attr, value);
}
// __constant__ / __device__ variables are ordinary globals here.
// (const T& as in CUDA; the symbol itself is a non-const __constant__ or __device__ variable.)
template <typename T>
inline cudaError_t cudaMemcpyToSymbol(const T& symbol, const void* src, size_t bytes, size_t offset = 0,
                                      cuda::cudaMemcpyKind kind = cuda::cudaMemcpyHostToDevice) {
  if (offset > sizeof(T) || bytes > sizeof(T) - offset) return cuda::cudaErrorInvalidValue;
  return cudaMemcpy(const_cast<char*>(reinterpret_cast<const char*>(&symbol)) + offset, src, bytes, kind);
}
template <typename T>
inline cudaError_t cudaMemcpyFromSymbol(void* dst, const T& symbol, size_t bytes, size_t offset = 0,
                                        cuda::cudaMemcpyKind kind = cuda::cudaMemcpyDeviceToHost) {
  if (offset > sizeof(T) || bytes > sizeof(T) - offset) return cuda::cudaErrorInvalidValue;
  return cudaMemcpy(dst, reinterpret_cast<const char*>(&symbol) + offset, bytes, kind);
}
}  // namespace runtime

// ---- harness controls ---------------------------------------------------------------------------
// Thread order between barriers. Set by CUDAEMU_ORDER / CUDAEMU_SEED / CUDAEMU_SHUFFLE_BLOCKS
// until set_schedule is called; after that the API setting wins, for launches on all threads.
enum Order { kAscending = 0, kDescending = 1, kRandom = 2 };
struct Schedule {
  int order;
  unsigned long long seed;
  bool shuffle_blocks;
};
// Returns false (and changes nothing) when order is not 0, 1 or 2.
bool set_schedule(int order, unsigned long long seed, bool shuffle_blocks);
Schedule schedule();
// Number of misuse reports (deadlock, divergent barrier, bad shuffle, ...) since start.
long long error_count();
// Where reports go (stderr by default; nullptr silences them, they are still counted).
// Returns the previous stream.
FILE* set_report_stream(FILE* stream);

inline void* dynamic_smem() { return detail::g_dynamic_smem; }

namespace detail {
using Invoker = void (*)(const void* pack);
cuda::cudaError_t run_kernel(Invoker invoke, const void* pack, const void* kernel_id,
                             cuda::dim3 grid, cuda::dim3 block, size_t dynamic_smem_bytes);
// Runs one emulated thread: every parameter is copy-initialised from the launch's converted
// arguments, so each thread owns its by-value copies, as on the GPU.
template <typename Pack>
void invoke(const void* pack) {
  const Pack& p = *static_cast<const Pack*>(pack);
  std::apply(p.kernel, p.args);
}
}  // namespace detail

// Runs `kernel` over the grid on the calling OS thread and returns when it is done:
// cudaErrorInvalidConfiguration for an impossible launch, cudaErrorLaunchFailure when misuse
// was reported. The arguments are converted to the parameter types once, like a real launch.
template <typename... Params, typename... Args>
cuda::cudaError_t launch(void (*kernel)(Params...), cuda::dim3 grid, cuda::dim3 block,
                         size_t dynamic_smem_bytes, cuda::cudaStream_t /*stream*/, Args&&... args) {
  static_assert(sizeof...(Params) == sizeof...(Args),
                "klaunch: the number of arguments differs from the kernel's parameters");
  struct Pack {
    void (*kernel)(Params...);
    std::tuple<Params...> args;
  };
  const Pack pack{kernel, std::tuple<Params...>(std::forward<Args>(args)...)};
  return detail::run_kernel(&detail::invoke<Pack>, &pack, reinterpret_cast<const void*>(kernel),
                            grid, block, dynamic_smem_bytes);
}

}  // namespace cudaemu

#include "wmma.h"
