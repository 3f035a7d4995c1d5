// topk on the CPU (contract: mrcnn/topk.h; math: mrcnn/math/topk.h).
//
// Per row, a radix select over the order key with 2048-bin histograms on the stack:
//  1. one pass histograms the top digit of every key and picks the bin holding the k-th key;
//  2. one pass gathers the keys above that bin (all winners) straight into the output list and
//     the keys in it (the candidates, in index order) into the workspace, when they are at most
//     kMaxCandidates (almost always: a top-digit bin spans a quarter octave);
//  3. the remaining digits run over the candidates only, and the candidates above the final
//     class plus the class's lowest indices complete the k winners.
// If the bin holds more candidates (heavy ties, narrow value ranges) the remaining digits
// stream the whole row instead. std::sort then orders the k winners (key descending, index
// ascending). Two reads of the row, no allocation; rows run in parallel over OpenMP threads.
#include <stddef.h>
#include <string.h>
#include <algorithm>
#include "mrcnn/math/topk.h"
#include "mrcnn/topk.h"

namespace {

using namespace mrcnn::topk_math;

// Candidates (keys of the k-th key's top-digit bin) gathered into the workspace per row.
constexpr int kMaxCandidates = 16384;

// A key and its index as one 64-bit word (key in the high half): candidate storage.
inline uint64_t pack(uint32_t key, uint32_t i) { return ((uint64_t)key << 32) | i; }
inline uint32_t packed_key(uint64_t c) { return (uint32_t)(c >> 32); }

// Histogram of digit d over the keys of the current class; key(i) gives the i-th key.
template <class KeyOf>
void histogram(int count, KeyOf key_of, const State& s, int d, uint32_t* hist) {
  const int shift = digit_shift(d);
  const uint32_t mask = (1u << digit_bits(d)) - 1u;
  memset(hist, 0, sizeof(uint32_t) * kMaxBins);
  for (int i = 0; i < count; ++i) {
    const uint32_t key = key_of(i);
    if (in_class(key, s)) ++hist[(key >> shift) & mask];
  }
}

// The next state after digit d: the highest bin where the count from the top reaches k_rem.
State choose(const State& s, int d, const uint32_t* hist) {
  int above = 0;
  int b = (1 << digit_bits(d)) - 1;
  while (above + (int)hist[b] < s.k_rem) above += (int)hist[b--];
  return next_state(s, d, (uint32_t)b, above, (int)hist[b]);
}

// Remaining digits over `count` keys, then the winners among them appended to sel[m...]:
// keys above the final class, and the class's first k_rem in the keys' order.
template <class KeyOf, class IndexOf>
int finish(int count, KeyOf key_of, IndexOf index_of, State s, int first_digit, uint64_t* sel, int m) {
  uint32_t hist[kMaxBins];
  for (int d = first_digit; d < kDigits && !s.done; ++d) {
    histogram(count, key_of, s, d, hist);
    s = choose(s, d, hist);
  }
  int eq = 0;
  for (int i = 0; i < count; ++i) {
    const uint32_t key = key_of(i);
    const uint32_t hi = key >> s.shift;
    if (hi > s.prefix || (hi == s.prefix && eq++ < s.k_rem)) sel[m++] = sort_key(key, index_of(i));
  }
  return m;
}

void topk_row(const float* x, int n, int k, float* values, int64_t* indices, uint64_t* sel, uint64_t* cand) {
  auto row_key = [x](int i) { return order_key(x[i]); };
  auto row_index = [](int i) { return (uint32_t)i; };
  uint32_t hist[kMaxBins];
  State s = initial_state(k);
  histogram(n, row_key, s, 0, hist);
  s = choose(s, 0, hist);
  const int in_class_count = (int)hist[s.prefix];  // keys in the chosen top-digit bin
  int m;
  if (!s.done && in_class_count <= kMaxCandidates) {
    // One pass: winners above the bin to sel, the bin's keys to the candidates.
    int c = 0;
    m = 0;
    for (int i = 0; i < n; ++i) {
      const uint32_t key = order_key(x[i]);
      const uint32_t hi = key >> s.shift;
      if (hi > s.prefix) {
        sel[m++] = sort_key(key, (uint32_t)i);
      } else if (hi == s.prefix) {
        cand[c++] = pack(key, (uint32_t)i);
      }
    }
    m = finish(c, [cand](int i) { return packed_key(cand[i]); }, [cand](int i) { return (uint32_t)cand[i]; }, s, 1,
               sel, m);
  } else {
    m = finish(n, row_key, row_index, s, 1, sel, 0);
  }
  std::sort(sel, sel + m);
  for (int j = 0; j < k; ++j) {
    const uint32_t i = sort_key_index(sel[j]);
    values[j] = x[i];
    indices[j] = i;
  }
}

}  // namespace

MRCNN_API size_t mrcnn_cpu_topk_workspace_size(int rows, int n, int k) {
  if (rows <= 0 || k <= 0) return 0;
  const int cand = n < kMaxCandidates ? n : kMaxCandidates;
  return (size_t)rows * ((size_t)k + cand) * sizeof(uint64_t);
}

MRCNN_API int mrcnn_cpu_topk(const float* input, int rows, int n, int ld, int k, float* values,
                             int64_t* indices, void* workspace, size_t workspace_bytes, void* /*stream*/) {
  int st = check_args(input, rows, n, ld, k, values, indices, workspace, workspace_bytes,
                      mrcnn_cpu_topk_workspace_size(rows, n, k));
  if (st != MRCNN_OK || rows == 0 || k == 0) return st;
  const size_t per_row = (size_t)k + (n < kMaxCandidates ? n : kMaxCandidates);
  uint64_t* ws = (uint64_t*)workspace;
#pragma omp parallel for schedule(dynamic, 1) if (rows > 1 && (long long)rows * n > 16384)
  for (int r = 0; r < rows; ++r) {
    uint64_t* sel = ws + r * per_row;
    topk_row(input + (ptrdiff_t)r * ld, n, k, values + (ptrdiff_t)r * k, indices + (ptrdiff_t)r * k, sel, sel + k);
  }
  return MRCNN_OK;
}
