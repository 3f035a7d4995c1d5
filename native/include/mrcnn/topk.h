/* Per-row top-k, torch.topk(input, k, dim=1, largest=True, sorted=True) semantics:
 *   input: rows rows of n floats, row r starting at input + r*ld (ld >= n, so a slice of a
 *   wider matrix, e.g. one FPN level of the RPN's objectness, needs no copy);
 *   values [rows][k] and indices [rows][k] (int64, 0..n-1 within the row) receive the k
 *   largest elements of each row, sorted descending.
 * Order: NaN is greater than every number (all NaNs equal, as in torch); -0 equals +0.
 * Ties: torch's CPU kernel leaves the order of equal values to std::partial_sort /
 *   std::nth_element, i.e. unspecified; here equal values are taken and listed lower index
 *   first (a stable order), the same on every backend. values hold the input's bits.
 * 0 <= k <= n; k = 0 or rows = 0 is a no-op. Each call needs workspace_size(rows, n, k) bytes
 * of scratch in the op's device memory. Outputs must not overlap the input, each other or
 * the workspace. Method: radix select on an order-preserving 32-bit key (3 digits of
 * 11/11/10 bits) finds the k-th key, one ordered pass collects the k winners, which are
 * then sorted by (key descending, index ascending). */
#pragma once
#include "mrcnn/api.h"

MRCNN_DECLARE_ALL_BACKENDS(size_t, topk_workspace_size, (int rows, int n, int k))
MRCNN_DECLARE_ALL_BACKENDS(int, topk,
    (const float* input, int rows, int n, int ld, int k, float* values, int64_t* indices,
     void* workspace, size_t workspace_bytes, void* stream))
