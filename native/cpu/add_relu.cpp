// add_relu on the CPU (contract: mrcnn/add_relu.h; math: mrcnn/math/add_relu.h).
// A streaming loop split into OpenMP blocks; the loop body is the shared math, which the
// compiler vectorises (the relu choice is a template parameter). In-place calls get their
// own restrict-qualified loops, so every form vectorises without run-time alias checks;
// a + b == b + a exactly in IEEE arithmetic, so out == b reuses the out == a loop.
#include <stddef.h>
#include "mrcnn/add_relu.h"
#include "mrcnn/math/add_relu.h"

namespace {

using namespace mrcnn::add_relu_math;

template <bool RELU>
void add3(const float* __restrict a, const float* __restrict b, float* __restrict out, size_t n) {
  for (size_t i = 0; i < n; ++i) out[i] = add_relu(a[i], b[i], RELU);
}

template <bool RELU>
void add_into(float* __restrict acc, const float* __restrict other, size_t n) {
  for (size_t i = 0; i < n; ++i) acc[i] = add_relu(acc[i], other[i], RELU);
}

template <bool RELU>
void add_self(float* __restrict x, size_t n) {
  for (size_t i = 0; i < n; ++i) x[i] = add_relu(x[i], x[i], RELU);
}

template <bool RELU>
void add_block(const float* a, const float* b, float* out, size_t n) {
  if (out == a && out == b)
    add_self<RELU>(out, n);
  else if (out == a)
    add_into<RELU>(out, b, n);
  else if (out == b)
    add_into<RELU>(out, a, n);
  else
    add3<RELU>(a, b, out, n);
}

}  // namespace

MRCNN_API int mrcnn_cpu_add_relu(const float* a, const float* b, float* out, size_t count,
                                 int relu, void* /*stream*/) {
  int st = check_args(a, b, out, count);
  if (st != MRCNN_OK || count == 0) return st;
  constexpr size_t kBlock = 16384;  // floats per work item (64 KiB per operand)
  const long long blocks = (long long)((count + kBlock - 1) / kBlock);
#pragma omp parallel for schedule(static) if (blocks > 1)
  for (long long i = 0; i < blocks; ++i) {
    const size_t begin = (size_t)i * kBlock;
    const size_t n = begin + kBlock < count ? kBlock : count - begin;
    if (relu)
      add_block<true>(a + begin, b + begin, out + begin, n);
    else
      add_block<false>(a + begin, b + begin, out + begin, n);
  }
  return MRCNN_OK;
}
