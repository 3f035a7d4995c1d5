/* topk math, written once for native/cpu/topk.cpp and cuda/topk.cu: the order-preserving key
 * of a float, the radix digits of the selection, the step that picks a digit from a histogram,
 * and the sort key of a selected element. */
#pragma once
#include <stdint.h>
#include <string.h>
#include "mrcnn/api.h"
#include "mrcnn/hd.h"

namespace mrcnn {
namespace topk_math {

// Unsigned key with key(a) < key(b) iff a < b in torch's topk order: every NaN maps to the
// largest key (NaN beats +inf, all NaNs tie), -0 and +0 map to the same key.
MRCNN_HD uint32_t order_key(float v) {
#if defined(__CUDA_ARCH__)
  uint32_t u = __float_as_uint(v);
#else
  uint32_t u;
  memcpy(&u, &v, sizeof u);
#endif
  u = v == 0.0f ? 0u : u;  // -0 -> +0
  // Branch-free (selects, no jumps: the sign of real data is unpredictable): negative floats
  // flip every bit, non-negative ones set the sign bit.
  const uint32_t key = u ^ ((uint32_t)((int32_t)u >> 31) | 0x80000000u);
  return v != v ? 0xffffffffu : key;
}

// Ascending order of this 64-bit key = key descending, then index ascending.
MRCNN_HD uint64_t sort_key(uint32_t key, uint32_t index) { return ((uint64_t)(~key) << 32) | index; }
MRCNN_HD uint32_t sort_key_index(uint64_t s) { return (uint32_t)s; }

// The radix digits, most significant first: bits [31:21], [20:10], [9:0].
enum { kDigits = 3, kMaxBins = 2048 };
MRCNN_HD int digit_shift(int d) { return d == 0 ? 21 : d == 1 ? 10 : 0; }
MRCNN_HD int digit_bits(int d) { return d == 2 ? 10 : 11; }

// Selection state of one row: the k_rem largest keys still to find lie among the keys whose
// bits above `shift` equal `prefix` (shift 32: all keys); every key with a larger prefix is
// already selected. done: the remaining prefix class is taken whole (or the key is exact).
struct State {
  uint32_t prefix;
  int shift;
  int k_rem;
  int done;
};

MRCNN_HD State initial_state(int k) { return State{0u, 32, k, 0}; }

MRCNN_HD bool in_class(uint32_t key, const State& s) { return s.shift >= 32 || (key >> s.shift) == s.prefix; }

// After the histogram of digit d over the keys of the current class: the chosen digit value
// `bin` (the highest bin where the count of keys from the top reaches k_rem), `above` = keys
// of the class in higher bins, `in_bin` = keys in it. Returns the next state.
MRCNN_HD State next_state(const State& s, int d, uint32_t bin, int above, int in_bin) {
  State t;
  t.prefix = (s.shift >= 32 ? 0u : (s.prefix << digit_bits(d))) | bin;
  t.shift = digit_shift(d);
  t.k_rem = s.k_rem - above;
  t.done = (in_bin == t.k_rem || t.shift == 0) ? 1 : 0;
  return t;
}

// Argument checks shared by the entry points of every backend (host code).
inline int check_args(const float* input, int rows, int n, int ld, int k, const float* values,
                      const int64_t* indices, const void* workspace, size_t workspace_bytes,
                      size_t needed) {
  const char* op = "topk";
  if (rows < 0 || n < 0 || k < 0 || k > n)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: rows=%d n=%d k=%d (need rows, n >= 0, 0 <= k <= n)", op,
                      rows, n, k);
  if (ld < n || ld < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: row stride %d < n=%d (or < 1)", op, ld, n);
  if ((long long)rows * ld > (1LL << 40))
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: %d rows of stride %d are too many", op, rows, ld);
  if (rows == 0 || k == 0) return MRCNN_OK;
  if (!input || !values || !indices)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: null input or output", op);
  if (workspace_bytes < needed || (needed > 0 && !workspace))
    return mrcnn_fail(MRCNN_ERR_WORKSPACE_TOO_SMALL, "%s: workspace of %zu bytes, %zu needed", op, workspace_bytes,
                      needed);
  struct Range { const char* p; size_t bytes; const char* name; };
  const Range r[4] = {
      {(const char*)input, ((size_t)(rows - 1) * ld + n) * sizeof(float), "input"},
      {(const char*)values, (size_t)rows * k * sizeof(float), "values"},
      {(const char*)indices, (size_t)rows * k * sizeof(int64_t), "indices"},
      {(const char*)workspace, needed, "workspace"}};
  for (int a = 0; a < 4; ++a)
    for (int b = a + 1; b < 4; ++b)
      if (r[a].bytes && r[b].bytes && r[a].p < r[b].p + r[b].bytes && r[b].p < r[a].p + r[a].bytes)
        return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: %s overlaps %s", op, r[a].name, r[b].name);
  return MRCNN_OK;
}

}  // namespace topk_math
}  // namespace mrcnn
