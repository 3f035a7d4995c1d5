// CPU backend memory: 64-byte aligned host allocations (AVX-512 line size); copies are
// memcpy and streams are ignored.
#include <cstdlib>
#include <cstring>
#include "mrcnn/device.h"

MRCNN_API int mrcnn_cpu_malloc(size_t bytes, void** out) {
  if (!out) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "malloc: null output pointer");
  size_t rounded = (bytes + 63) / 64 * 64;
  *out = std::aligned_alloc(64, rounded == 0 ? 64 : rounded);
  if (!*out) return mrcnn_fail(MRCNN_ERR_OUT_OF_MEMORY, "cannot allocate %zu bytes of host memory", bytes);
  return MRCNN_OK;
}
MRCNN_API int mrcnn_cpu_free(void* ptr) { std::free(ptr); return MRCNN_OK; }
MRCNN_API int mrcnn_cpu_copy_to_device(void* dst, const void* src, size_t bytes, void*) {
  if (bytes) std::memcpy(dst, src, bytes);
  return MRCNN_OK;
}
MRCNN_API int mrcnn_cpu_copy_to_host(void* dst, const void* src, size_t bytes, void*) {
  if (bytes) std::memcpy(dst, src, bytes);
  return MRCNN_OK;
}
MRCNN_API int mrcnn_cpu_copy_device_to_device(void* dst, const void* src, size_t bytes, void*) {
  if (bytes) std::memmove(dst, src, bytes);
  return MRCNN_OK;
}
MRCNN_API int mrcnn_cpu_memset(void* dst, int value, size_t bytes, void*) {
  if (bytes) std::memset(dst, value, bytes);
  return MRCNN_OK;
}
MRCNN_API int mrcnn_cpu_synchronize(void*) { return MRCNN_OK; }
MRCNN_API int mrcnn_cpu_device_count(int* count) { if (count) *count = 1; return MRCNN_OK; }
