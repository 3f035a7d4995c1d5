// Helpers of the small ops' native tests (max_pool2d, upsample_nearest_add, add_relu, sigmoid,
// softmax, depth_to_space_2x2): emulated device buffers and bitwise comparison.
#pragma once
#include <cstring>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"

namespace small_ops_testing {

// An emulated-device buffer of `count` floats starting `shift` floats past a 16-byte aligned
// allocation (shift 1 misaligns it, forcing the kernels' scalar paths); freed on scope exit.
struct EmuFloats {
  void* base = nullptr;
  float* p = nullptr;
  size_t count;
  EmuFloats(size_t n, int shift) : count(n) {
    CHECK_OK(mrcnn_emu_malloc((n + shift) * sizeof(float), &base));
    p = (float*)base + shift;
  }
  EmuFloats(const std::vector<float>& host, int shift) : EmuFloats(host.size(), shift) {
    CHECK_OK(mrcnn_emu_copy_to_device(p, host.data(), host.size() * sizeof(float), nullptr));
  }
  EmuFloats(const EmuFloats&) = delete;
  EmuFloats& operator=(const EmuFloats&) = delete;
  ~EmuFloats() { mrcnn_emu_free(base); }
  // `n` floats from `from` (default: this buffer's start) back to the host.
  std::vector<float> download(const float* from = nullptr, size_t n = (size_t)-1) const {
    if (!from) from = p;
    if (n == (size_t)-1) n = count;
    std::vector<float> h(n);
    CHECK_OK(mrcnn_emu_copy_to_host(h.data(), from, n * sizeof(float), nullptr));
    return h;
  }
};

// Equal bit for bit (NaN payloads and the sign of zero included).
inline bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

}  // namespace small_ops_testing
