// box_filter on the CPU (contract: mrcnn/box_filter.h; math: mrcnn/math/box_filter.h).
//
// One ordered pass writing the kept indices. Large inputs split into one contiguous chunk
// per thread: each thread counts its chunk, a prefix sum over the (few) thread counts gives
// every chunk its first slot, then each thread writes its chunk in order. No workspace.
#include <stddef.h>
#include "mrcnn/box_filter.h"
#include "mrcnn/math/box_filter.h"

#ifdef _OPENMP
#include <omp.h>
#endif

namespace {

using namespace mrcnn::box_filter_math;

constexpr int kParallelMin = 1 << 15;
constexpr int kMaxThreads = 256;

}  // namespace

MRCNN_API size_t mrcnn_cpu_box_filter_workspace_size(int /*n*/) { return 0; }

MRCNN_API int mrcnn_cpu_box_filter(const float* boxes, const float* scores, int n, float min_size,
                                   float score_thresh, int strict, int64_t* keep, int* num_kept,
                                   void* workspace, size_t workspace_bytes, void* /*stream*/) {
  Params p;
  int st = check_args(boxes, scores, n, min_size, score_thresh, strict, keep, num_kept, workspace,
                      workspace_bytes, 0, &p);
  if (st != MRCNN_OK) return st;
  int threads = 1;
#ifdef _OPENMP
  if (n >= kParallelMin) threads = omp_get_max_threads() < kMaxThreads ? omp_get_max_threads() : kMaxThreads;
#endif
  if (threads <= 1) {
    int m = 0;
    for (int i = 0; i < n; ++i)
      if (keep_box(boxes + (ptrdiff_t)i * 4, scores, i, p)) keep[m++] = i;
    *num_kept = m;
    return MRCNN_OK;
  }
  int counts[kMaxThreads + 1] = {0};
#pragma omp parallel num_threads(threads)
  {
    int t = 0, nt = 1;
#ifdef _OPENMP
    t = omp_get_thread_num();
    nt = omp_get_num_threads();
#endif
    const int begin = (int)((long long)n * t / nt), end = (int)((long long)n * (t + 1) / nt);
    int c = 0;
    for (int i = begin; i < end; ++i) c += keep_box(boxes + (ptrdiff_t)i * 4, scores, i, p);
    counts[t + 1] = c;
#pragma omp barrier
#pragma omp single
    for (int j = 1; j <= nt; ++j) counts[j] += counts[j - 1];
    int m = counts[t];
    for (int i = begin; i < end; ++i)
      if (keep_box(boxes + (ptrdiff_t)i * 4, scores, i, p)) keep[m++] = i;
#pragma omp single nowait
    *num_kept = counts[nt];
  }
  return MRCNN_OK;
}
