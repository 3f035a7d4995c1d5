// gather native tests: emulated CUDA against the CPU, bit for bit (a gather is a copy), with
// out-of-range indices (zero rows), int64 rows (two words each) and the mask-channel gather.
#include <cstdint>
#include <vector>

#include "check.h"
#include "mrcnn/device.h"
#include "mrcnn/gather.h"
#include "small_ops_testing.h"

namespace {

using mrcnn_check::Rng;
using small_ops_testing::EmuFloats;
using small_ops_testing::same_bits;

// int64 indices in an emulated buffer (viewed as floats for EmuFloats' allocation).
struct EmuIndices {
  EmuFloats buf;
  const int64_t* p;
  explicit EmuIndices(const std::vector<int64_t>& idx) : buf(idx.size() * 2, 0) {
    CHECK_OK(mrcnn_emu_copy_to_device(buf.p, idx.data(), idx.size() * sizeof(int64_t), nullptr));
    p = (const int64_t*)buf.p;
  }
};

std::vector<int64_t> indices(Rng& rng, int count, int range) {
  std::vector<int64_t> v(count);
  for (int64_t& i : v) {
    const int k = rng.below(20);
    i = k == 0 ? -1 : k == 1 ? range : k == 2 ? INT64_MIN : rng.below(range);
  }
  return v;
}

}  // namespace

MRCNN_TEST(gather_rows_emu_matches_cpu) {
  Rng rng(71);
  const int shapes[][3] = {{1, 1, 1}, {37, 4, 300}, {1000, 8, 4001}, {5, 2, 0}};  // rows, words, count
  for (const auto& s : shapes) {
    std::vector<float> in(s[0] * s[1]);
    for (float& v : in) v = rng.uniform(-1.f, 1.f);
    const std::vector<int64_t> idx = indices(rng, s[2], s[0]);
    std::vector<float> cpu(s[2] * s[1] + 1, 7.f);
    CHECK_OK(mrcnn_cpu_gather_rows(in.data(), s[0], s[1], idx.data(), s[2], cpu.data(), nullptr));
    for (int i = 0; i < s[2]; ++i)
      for (int j = 0; j < s[1]; ++j) {
        const bool ok = idx[i] >= 0 && idx[i] < s[0];
        CHECK(cpu[i * s[1] + j] == (ok ? in[idx[i] * s[1] + j] : 0.f));
      }
    CHECK(cpu.back() == 7.f);  // nothing written past the output
    EmuFloats din(in, 0), dout(cpu.size(), 0);
    EmuIndices di(idx);
    CHECK_OK(mrcnn_emu_gather_rows(din.p, s[0], s[1], di.p, s[2], dout.p, nullptr));
    std::vector<float> emu = dout.download();
    emu.back() = 7.f;
    CHECK(same_bits(cpu, emu));
  }
}

MRCNN_TEST(gather_channel_emu_matches_cpu) {
  Rng rng(72);
  const int shapes[][3] = {{1, 1, 1}, {7, 784, 91}, {100, 784, 3}};  // k, p, c
  for (const auto& s : shapes) {
    std::vector<float> in(s[0] * s[1] * s[2]);
    for (float& v : in) v = rng.uniform(-1.f, 1.f);
    const std::vector<int64_t> ch = indices(rng, s[0], s[2]);
    std::vector<float> cpu(s[0] * s[1]);
    CHECK_OK(mrcnn_cpu_gather_channel(in.data(), s[0], s[1], s[2], ch.data(), cpu.data(), nullptr));
    for (int k = 0; k < s[0]; ++k)
      for (int q = 0; q < s[1]; ++q) {
        const bool ok = ch[k] >= 0 && ch[k] < s[2];
        CHECK(cpu[k * s[1] + q] == (ok ? in[(k * s[1] + q) * s[2] + ch[k]] : 0.f));
      }
    EmuFloats din(in, 0), dout(cpu.size(), 0);
    EmuIndices dc(ch);
    CHECK_OK(mrcnn_emu_gather_channel(din.p, s[0], s[1], s[2], dc.p, dout.p, nullptr));
    CHECK(same_bits(cpu, dout.download()));
  }
}

MRCNN_TEST(gather_rejects_bad_arguments) {
  float a[4] = {0}, out[4];
  int64_t idx[2] = {0, 1};
  CHECK(mrcnn_cpu_gather_rows(a, -1, 1, idx, 2, out, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_gather_rows(a, 4, 1, nullptr, 2, out, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_gather_rows(a, 4, 1, idx, 2, a + 1, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);  // overlap
  CHECK(mrcnn_emu_gather_channel(a, 1, 2, 0, idx, out, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
  CHECK(mrcnn_cpu_gather_channel(nullptr, 1, 2, 2, idx, out, nullptr) == MRCNN_ERR_INVALID_ARGUMENT);
}
