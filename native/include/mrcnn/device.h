/* Memory, copies and device queries for each backend. Allocation happens here, once per
 * buffer, never inside an op. For the CPU backend "device" memory is host memory
 * (64-byte aligned) and stream arguments are ignored. */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(int, malloc, (size_t bytes, void** out))
MRCNN_DECLARE_ALL_BACKENDS(int, free, (void* ptr))
MRCNN_DECLARE_ALL_BACKENDS(int, copy_to_device, (void* dst, const void* host_src, size_t bytes, void* stream))
MRCNN_DECLARE_ALL_BACKENDS(int, copy_to_host, (void* host_dst, const void* src, size_t bytes, void* stream))
MRCNN_DECLARE_ALL_BACKENDS(int, copy_device_to_device, (void* dst, const void* src, size_t bytes, void* stream))
MRCNN_DECLARE_ALL_BACKENDS(int, memset, (void* dst, int byte_value, size_t bytes, void* stream))
MRCNN_DECLARE_ALL_BACKENDS(int, synchronize, (void* stream))
/* Number of usable devices. Returns MRCNN_ERR_NOT_BUILT_WITH_CUDA or MRCNN_ERR_NO_CUDA_DEVICE
 * (with the runtime's reason in mrcnn_last_error) when there are none. */
MRCNN_DECLARE_ALL_BACKENDS(int, device_count, (int* count))

/* 1 when the library was compiled with nvcc, else 0. */
MRCNN_API int mrcnn_cuda_built(void);
/* CUDA runtime version the library was built against (e.g. 13000), 0 if not built with CUDA. */
MRCNN_API int mrcnn_cuda_runtime_version(void);

/* Emulator controls (tests only): thread order inside a block between barriers,
 * 0 = ascending, 1 = descending, 2 = seeded random; optionally run blocks in a seeded
 * random order. Applies to later launches on all threads. */
MRCNN_API int mrcnn_emu_set_schedule(int order, unsigned long long seed, int shuffle_blocks);
/* Number of misuse reports (deadlock, divergent barrier, bad shuffle...) since start. */
MRCNN_API long long mrcnn_emu_error_count(void);
