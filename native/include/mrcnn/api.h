/* maskrcnn4j native boundary: status codes, export macro, backend symbol names.
 *
 * Every op exposes the same flat C signature three times:
 *   mrcnn_cpu_<op>   C++ CPU kernel            (native/cpu/<op>.cpp)
 *   mrcnn_cuda_<op>  CUDA kernel on a real GPU (cuda/<op>.cu built by nvcc)
 *   mrcnn_emu_<op>   the same cuda/<op>.cu built by g++ against the emulation harness
 * Java picks the symbol from the tensor's device; there is no central dispatch table.
 * Functions return an mrcnn status (0 = OK); mrcnn_last_error() holds a detail message
 * for the calling thread. Nothing here allocates memory on the hot path: callers pass
 * outputs and workspaces. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
#define MRCNN_EXTERN_C extern "C"
#else
#define MRCNN_EXTERN_C
#endif
#define MRCNN_API MRCNN_EXTERN_C __attribute__((visibility("default")))

enum mrcnn_status {
  MRCNN_OK = 0,
  MRCNN_ERR_INVALID_ARGUMENT = 1,   /* bad dims, null pointer, NaN box, ... */
  MRCNN_ERR_UNSUPPORTED = 2,        /* valid request this backend cannot do */
  MRCNN_ERR_NOT_BUILT_WITH_CUDA = 3,/* library compiled without nvcc */
  MRCNN_ERR_NO_CUDA_DEVICE = 4,     /* no driver, driver too old, or no GPU */
  MRCNN_ERR_CUDA = 5,               /* any other CUDA runtime error (detail in mrcnn_last_error) */
  MRCNN_ERR_OUT_OF_MEMORY = 6,
  MRCNN_ERR_WORKSPACE_TOO_SMALL = 7,
  MRCNN_ERR_EMULATION = 8,          /* the CUDA emulator detected misuse (deadlock, divergent barrier...) */
  MRCNN_ERR_INTERNAL = 9
};

/* Symbol of a CUDA entry point: one .cu source, two builds. */
#if defined(MRCNN_EMU_SYMBOLS)
#define MRCNN_CUDA_FN(name) mrcnn_emu_##name
#else
#define MRCNN_CUDA_FN(name) mrcnn_cuda_##name
#endif

/* Declares mrcnn_cpu_<name>, mrcnn_cuda_<name> and mrcnn_emu_<name> with one parameter list. */
#define MRCNN_DECLARE_ALL_BACKENDS(ret, name, params) \
  MRCNN_API ret mrcnn_cpu_##name params;              \
  MRCNN_API ret mrcnn_cuda_##name params;             \
  MRCNN_API ret mrcnn_emu_##name params;

/* Human-readable name of a status code (static string). */
MRCNN_API const char* mrcnn_status_string(int status);
/* Detail message of the last failing call on this thread ("" if none). */
MRCNN_API const char* mrcnn_last_error(void);
/* Sets the detail message (printf-style) and returns status, for one-line error exits. */
MRCNN_API int mrcnn_fail(int status, const char* fmt, ...) __attribute__((format(printf, 2, 3)));
