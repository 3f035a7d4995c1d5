// Status strings and the per-thread error detail of the native boundary.
#include <cstdarg>
#include <cstdio>
#include "mrcnn/api.h"

namespace {
thread_local char g_last_error[512] = "";
}

MRCNN_API const char* mrcnn_status_string(int status) {
  switch (status) {
    case MRCNN_OK: return "ok";
    case MRCNN_ERR_INVALID_ARGUMENT: return "invalid argument";
    case MRCNN_ERR_UNSUPPORTED: return "unsupported";
    case MRCNN_ERR_NOT_BUILT_WITH_CUDA: return "library built without CUDA";
    case MRCNN_ERR_NO_CUDA_DEVICE: return "no usable CUDA device";
    case MRCNN_ERR_CUDA: return "CUDA error";
    case MRCNN_ERR_OUT_OF_MEMORY: return "out of memory";
    case MRCNN_ERR_WORKSPACE_TOO_SMALL: return "workspace too small";
    case MRCNN_ERR_EMULATION: return "CUDA emulator reported misuse";
    case MRCNN_ERR_INTERNAL: return "internal error";
    default: return "unknown status";
  }
}

MRCNN_API const char* mrcnn_last_error(void) { return g_last_error; }

MRCNN_API int mrcnn_fail(int status, const char* fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(g_last_error, sizeof g_last_error, fmt, ap);
  va_end(ap);
  return status;
}
