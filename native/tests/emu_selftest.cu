// Self-tests of the CUDA emulation harness (cuda/emu). The kernels and their launchers also
// compile with nvcc (`nvcc -std=c++17 -arch=sm_90 -c -Icuda -Inative/include` this file), so
// they are real CUDA; the tests themselves run only in the emulation build (KL_EMULATE).
#include "kcompat.h"

#include <type_traits>

namespace {

// ---- kernels ---------------------------------------------------------------------------------

// C[m][n] = A[m][k] * B[k][n], row-major, one TILE x TILE block per output tile.
// kSecondBarrier = false plants the classic bug: the next tile overwrites shared memory that
// slower threads are still reading.
template <int TILE, bool kSecondBarrier>
__global__ void sgemm_tiled(const float* __restrict__ a, const float* __restrict__ b, float* __restrict__ c,
                            int m, int n, int k) {
  __shared__ float as[TILE][TILE];
  __shared__ float bs[TILE][TILE];
  const int tx = threadIdx.x, ty = threadIdx.y;
  const int row = blockIdx.y * TILE + ty, col = blockIdx.x * TILE + tx;
  float acc = 0.0f;
  for (int k0 = 0; k0 < k; k0 += TILE) {
    as[ty][tx] = row < m && k0 + tx < k ? a[(size_t)row * k + k0 + tx] : 0.0f;
    bs[ty][tx] = k0 + ty < k && col < n ? b[(size_t)(k0 + ty) * n + col] : 0.0f;
    __syncthreads();
#pragma unroll
    for (int kk = 0; kk < TILE; ++kk) acc += as[ty][kk] * bs[kk][tx];
    if (kSecondBarrier) __syncthreads();
  }
  if (row < m && col < n) c[(size_t)row * n + col] = acc;
}

// Grid-stride sum with a shuffle-down warp reduction, per-warp partials in shared memory, a
// shuffle-xor reduction in warp 0 and float atomics. Also counts, with ballots, the threads
// that saw a positive element, and counts thread bodies (each must run exactly once).
__global__ void block_reduce(const float* __restrict__ x, int n, float* sum, int* threads_with_positive,
                             int* thread_runs) {
  __shared__ float warp_sums[32];
  __shared__ int warp_counts[32];
  const unsigned lane = threadIdx.x % 32, warp = threadIdx.x / 32, nwarps = blockDim.x / 32;
  float v = 0.0f;
  bool positive = false;
  for (int i = blockIdx.x * blockDim.x + threadIdx.x; i < n; i += gridDim.x * blockDim.x) {
    v += x[i];
    positive |= x[i] > 0.0f;
  }
  atomicAdd(thread_runs, 1);
  for (int offset = 16; offset > 0; offset /= 2) v += __shfl_down_sync(0xffffffffu, v, offset);
  const unsigned votes = __ballot_sync(0xffffffffu, positive);
  if (lane == 0) {
    warp_sums[warp] = v;
    warp_counts[warp] = __popc(votes);
  }
  __syncthreads();
  if (warp == 0) {
    float s = lane < nwarps ? warp_sums[lane] : 0.0f;
    int c = lane < nwarps ? warp_counts[lane] : 0;
    for (int offset = 16; offset > 0; offset /= 2) {
      s += __shfl_xor_sync(0xffffffffu, s, offset);
      c += __shfl_xor_sync(0xffffffffu, c, offset);
    }
    if (lane == 0) {
      atomicAdd(sum, s);
      atomicAdd(threads_with_positive, c);
    }
  }
}

// Reverses each block's chunk of `in` through dynamic shared memory.
__global__ void reverse_chunks(const int* __restrict__ in, int* __restrict__ out, int n) {
  KL_EXTERN_SHARED(int, s);
  const int base = blockIdx.x * blockDim.x;
  const int count = min(n - base, (int)blockDim.x);
  const int t = threadIdx.x;
  if (t < count) s[t] = in[base + t];
  __syncthreads();
  if (t < count) out[base + t] = s[count - 1 - t];
}

// out[t] = in[t-1] through shared memory; without the barrier a thread may read s[t-1]
// before thread t-1 wrote it.
template <bool kBarrier>
__global__ void shift_right(const int* __restrict__ in, int* __restrict__ out) {
  __shared__ int s[1024];
  const int t = threadIdx.x;
  s[t] = in[t];
  if (kBarrier) __syncthreads();
  out[t] = t > 0 ? s[t - 1] : 0;
}

__global__ void count_threads(int* counter) { atomicAdd(counter, 1); }

// Each thread takes a ticket: the tickets show the order in which threads ran.
__global__ void record_thread_order(int* counter, int* order) { order[atomicAdd(counter, 1)] = threadIdx.x; }
__global__ void record_block_order(int* counter, int* order) { order[atomicAdd(counter, 1)] = blockIdx.x; }

// Every shuffle flavour, type and width, the votes and the reductions; results per thread.
__global__ void warp_semantics(int* ints, float* floats, double* doubles, long long* lls,
                               unsigned long long* ulls, unsigned* votes) {
  const unsigned full = 0xffffffffu;
  const int t = threadIdx.x, lane = t % 32, warp = t / 32;
  const int v = 100 * warp + lane;
  int* o = ints + t * 8;
  o[0] = __shfl_sync(full, v, (lane * 7) % 32);
  o[1] = __shfl_sync(full, v, 3, 8);
  o[2] = __shfl_up_sync(full, v, 3, 16);
  o[3] = __shfl_down_sync(full, v, 5);
  o[4] = __shfl_xor_sync(full, v, 16, 16);
  o[5] = __reduce_add_sync(full, v);
  o[6] = __reduce_min_sync(full, lane - 10);
  o[7] = (int)__reduce_max_sync(full, (unsigned)lane * 3u);
  floats[t] = __shfl_xor_sync(full, lane + 0.5f, 1);
  doubles[t] = __shfl_down_sync(full, lane * 1e10 + 0.25, 1);
  lls[t] = __shfl_sync(full, (long long)lane << 40, 31 - lane);
  ulls[t] = __shfl_up_sync(full, 0xF000000000000000ull | (unsigned long long)lane, 1);
  unsigned* w = votes + t * 5;
  w[0] = __ballot_sync(full, lane % 3 == 0);
  w[1] = __any_sync(full, lane == 17);
  w[2] = __all_sync(full, lane < 31);
  w[3] = __activemask();
  w[4] = lane < 16 ? __ballot_sync(0x0000ffffu, lane & 1) : 0u;
  __syncwarp();
}

// Full-mask shuffles in a partial warp are fine while no lane reads a missing one.
__global__ void partial_warp_xor(int* out) {
  out[threadIdx.x] = __shfl_xor_sync(0xffffffffu, (int)threadIdx.x, 1);
}

// In ascending order lane 20 leaves last (it waits for lane 31 first), when lanes 0..15 wait
// in a full-warp collective and the others in a half-warp one: its exit alone must complete
// the half-warp one (exited lanes drop out of collectives).
__global__ void exit_completes_collective(int* out) {
  const int lane = threadIdx.x % 32;
  if (lane == 20 || lane == 31) __syncwarp(0x80100000u);
  if (lane == 20) return;
  const int half = lane >= 16 ? __reduce_add_sync(0xffff0000u, 1) : 0;
  out[threadIdx.x] = __reduce_add_sync(0xffffffffu, 1) * 100 + half;
}

__global__ void barrier_votes(int* out) {
  const int t = threadIdx.x;
  int* o = out + t * 5;
  o[0] = __syncthreads_count(t % 3 == 0);
  o[1] = __syncthreads_and(t < 1000);
  o[2] = __syncthreads_and(t != 5);
  o[3] = __syncthreads_or(t == 77);
  o[4] = __syncthreads_or(0);
}

__global__ void atomics_kernel(int* i, unsigned* u, unsigned long long* ull, long long* ll, float* f, double* d) {
  const int g = blockIdx.x * blockDim.x + threadIdx.x;
  atomicAdd(&i[0], g);
  atomicSub(&i[1], g);
  atomicMax(&i[2], g);
  atomicMin(&i[3], -g);
  atomicOr(&i[4], 1 << (g % 31));
  atomicXor(&i[5], g);
  int old = i[6], assumed;
  do {
    assumed = old;
    old = atomicCAS(&i[6], assumed, assumed + 1);
  } while (old != assumed);
  atomicExch(&i[7], 42);
  atomicAnd(&u[0], ~(1u << (g % 32)));
  atomicAdd(&u[1], 2u);
  atomicMax(&u[2], (unsigned)g * 3u);
  atomicMin(&u[3], (unsigned)g + 5u);
  atomicSub(&u[4], 1u);
  atomicAdd(&ull[0], (unsigned long long)g << 33);
  atomicMax(&ull[1], (unsigned long long)g);
  atomicOr(&ull[2], 1ull << (g % 64));
  atomicCAS(&ull[3], 0ull, (unsigned long long)g + 1);  // only the first thread wins
  atomicMin(&ll[0], -((long long)g << 40));
  atomicAdd(f, 0.5f);
  atomicAdd(d, 0.25);
}

__constant__ float c_coefficients[4];

__global__ void builtins_kernel(int* i, float* f, const float* in) {
  i[0] = __popc(0xF0F0u);
  i[1] = __popcll(0xFFFFFFFFFFull);
  i[2] = __clz(1);
  i[3] = __clz(0);
  i[4] = __clzll(1LL);
  i[5] = __ffs(0x50);
  i[6] = __ffs(0);
  i[7] = __ffsll(1LL << 40);
  i[8] = (int)__brev(0x00000003u);
  i[9] = __float2int_rn(2.5f);
  i[10] = __float2int_rn(3.5f);
  i[11] = __float2int_rd(-1.5f);
  i[12] = __float2int_ru(-1.5f);
  i[13] = __float2int_rz(-1.7f);
  i[14] = __float_as_int(1.0f);
  i[15] = min(3, 7) + max(-2, 5);
  i[16] = (int)min(2u, 9u) + (int)max(4ull, 1ull);
  i[17] = __float2int_rn(3e9f);
  f[0] = __int_as_float(0x40000000);
  f[1] = __saturatef(1.5f);
  f[2] = __saturatef(-0.5f);
  f[3] = rsqrtf(4.0f);
  f[4] = __expf(0.0f);
  f[5] = __logf(1.0f);
  f[6] = __fdividef(1.0f, 4.0f);
  f[7] = __fmaf_rn(2.0f, 3.0f, 1.0f);
  f[8] = __uint_as_float(__float_as_uint(3.25f));
  f[9] = max(1.5f, 2.5f) + min(1.5f, 2.5f);
  f[10] = __ldg(in) * c_coefficients[2];
  f[11] = nvcuda::wmma::__float_to_tf32(1.0f + 1.0f / 4096.0f);  // below half a TF32 ulp: down
  f[12] = nvcuda::wmma::__float_to_tf32(1.0f + 1.0f / 2048.0f);  // exactly half: away from zero
  __threadfence();
  __threadfence_block();
}

// One warp per 16x16 tile of C with TF32 tensor-core fragments; B is K x N row-major, or
// (kBColMajor) stored as its N x K transpose. m, n multiples of 16, k a multiple of 8.
template <bool kBColMajor>
__global__ void wmma_gemm_tf32(const float* a, const float* b, float* c, int m, int n, int k) {
  using namespace nvcuda;
  typedef typename std::conditional<kBColMajor, wmma::col_major, wmma::row_major>::type LayoutB;
  const int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
  const int tiles_n = n / 16;
  const int tm = warp / tiles_n, tn = warp % tiles_n;
  if (tm * 16 >= m) return;  // the whole warp leaves together
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc;
  wmma::fill_fragment(acc, 0.0f);
  for (int k0 = 0; k0 < k; k0 += 8) {
    wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, LayoutB> fb;
    wmma::load_matrix_sync(fa, a + (size_t)tm * 16 * k + k0, k);
    if (kBColMajor)
      wmma::load_matrix_sync(fb, b + (size_t)tn * 16 * k + k0, k);
    else
      wmma::load_matrix_sync(fb, b + (size_t)k0 * n + tn * 16, n);
    for (int i = 0; i < fa.num_elements; ++i) fa.x[i] = wmma::__float_to_tf32(fa.x[i]);
    for (int i = 0; i < fb.num_elements; ++i) fb.x[i] = wmma::__float_to_tf32(fb.x[i]);
    wmma::mma_sync(acc, fa, fb, acc);
  }
  wmma::store_matrix_sync(c + (size_t)tm * 16 * n + tn * 16, acc, n, wmma::mem_row_major);
}

// ---- planted misuse (each must be reported, never crash) -------------------------------------

__global__ void early_return_before_barrier(const int* in, int* out, int n) {
  __shared__ int s[64];
  const int t = threadIdx.x;
  if (t >= n) return;
  s[t] = in[t];
  __syncthreads();
  out[t] = s[n - 1 - t];
}

__global__ void barriers_at_different_sites(int* out) {
  if (threadIdx.x < 32) {
    __syncthreads();
    out[threadIdx.x] = 1;
  } else {
    __syncthreads();
    out[threadIdx.x] = 2;
  }
}

// Thread 0 waits at the block barrier while its warp waits for it in a shuffle.
__global__ void barrier_shuffle_deadlock(int* out) {
  if (threadIdx.x == 0)
    __syncthreads();
  else
    out[threadIdx.x] = __shfl_sync(0xffffffffu, (int)threadIdx.x, 0);
}

__global__ void shuffle_from_outside_mask(int* out) {
  const int lane = threadIdx.x % 32;
  if (lane < 16) out[lane] = __shfl_sync(0x0000ffffu, lane, 20);
}

__global__ void wmma_in_half_warp(float* out) {
  using namespace nvcuda;
  if (threadIdx.x >= 16) return;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc;
  wmma::fill_fragment(acc, 1.0f);
  wmma::store_matrix_sync(out, acc, 16, wmma::mem_row_major);
}

}  // namespace

// ---- launchers (host code, compiled by nvcc too) ---------------------------------------------
// External linkage on purpose: nvcc compiles them (and so instantiates the template kernels)
// even though only the emulation build calls them. Test code is never linked twice.
namespace emu_selftest {

cudaError_t sgemm(const float* a, const float* b, float* c, int m, int n, int k, bool second_barrier = true) {
  const dim3 block(16, 16), grid((n + 15) / 16, (m + 15) / 16);
  return second_barrier ? klaunch(sgemm_tiled<16, true>, grid, block, 0, nullptr, a, b, c, m, n, k)
                        : klaunch(sgemm_tiled<16, false>, grid, block, 0, nullptr, a, b, c, m, n, k);
}
cudaError_t reduce(const float* x, int n, int block, int grid, float* sum, int* positive, int* runs) {
  return klaunch(block_reduce, grid, block, 0, nullptr, x, n, sum, positive, runs);
}
cudaError_t reverse(const int* in, int* out, int n, int block, size_t smem_bytes) {
  return klaunch(reverse_chunks, (n + block - 1) / block, block, smem_bytes, nullptr, in, out, n);
}
cudaError_t allow_large_smem_for_reverse(int bytes) {
  return cudaFuncSetAttribute(reverse_chunks, cudaFuncAttributeMaxDynamicSharedMemorySize, bytes);
}
cudaError_t shift(const int* in, int* out, int n, bool barrier) {
  return barrier ? klaunch(shift_right<true>, 1, n, 0, nullptr, in, out)
                 : klaunch(shift_right<false>, 1, n, 0, nullptr, in, out);
}
cudaError_t count(int* counter, dim3 grid, dim3 block, size_t smem_bytes) {
  return klaunch(count_threads, grid, block, smem_bytes, nullptr, counter);
}
cudaError_t thread_order(int* counter, int* order, int threads) {
  return klaunch(record_thread_order, 1, threads, 0, nullptr, counter, order);
}
cudaError_t block_order(int* counter, int* order, int blocks) {
  return klaunch(record_block_order, blocks, 1, 0, nullptr, counter, order);
}
cudaError_t warps(int* i, float* f, double* d, long long* ll, unsigned long long* ull, unsigned* votes) {
  return klaunch(warp_semantics, 1, 64, 0, nullptr, i, f, d, ll, ull, votes);
}
cudaError_t partial_warp(int* out, int threads) { return klaunch(partial_warp_xor, 1, threads, 0, nullptr, out); }
cudaError_t exit_completes(int* out) { return klaunch(exit_completes_collective, 1, 32, 0, nullptr, out); }
cudaError_t votes(int* out, int threads) { return klaunch(barrier_votes, 1, threads, 0, nullptr, out); }
cudaError_t atomics(int* i, unsigned* u, unsigned long long* ull, long long* ll, float* f, double* d) {
  return klaunch(atomics_kernel, 4, 256, 0, nullptr, i, u, ull, ll, f, d);
}
cudaError_t builtins(int* i, float* f, const float* in, const float* coefficients) {
  const cudaError_t e = cudaMemcpyToSymbol(c_coefficients, coefficients, sizeof c_coefficients);
  return e != cudaSuccess ? e : klaunch(builtins_kernel, 1, 1, 0, nullptr, i, f, in);
}
cudaError_t wmma_gemm(const float* a, const float* b, float* c, int m, int n, int k, bool b_col_major) {
  const int warps = (m / 16) * (n / 16), warps_per_block = 4;
  const int grid = (warps + warps_per_block - 1) / warps_per_block;
  return b_col_major ? klaunch(wmma_gemm_tf32<true>, grid, 32 * warps_per_block, 0, nullptr, a, b, c, m, n, k)
                     : klaunch(wmma_gemm_tf32<false>, grid, 32 * warps_per_block, 0, nullptr, a, b, c, m, n, k);
}
cudaError_t early_return(const int* in, int* out, int n) {
  return klaunch(early_return_before_barrier, 1, 64, 0, nullptr, in, out, n);
}
cudaError_t split_barriers(int* out) { return klaunch(barriers_at_different_sites, 1, 64, 0, nullptr, out); }
cudaError_t deadlock(int* out) { return klaunch(barrier_shuffle_deadlock, 2, 32, 0, nullptr, out); }
cudaError_t bad_shuffle(int* out) { return klaunch(shuffle_from_outside_mask, 1, 32, 0, nullptr, out); }
cudaError_t half_warp_wmma(float* out) { return klaunch(wmma_in_half_warp, 1, 32, 0, nullptr, out); }

}  // namespace emu_selftest

#ifdef KL_EMULATE
// ---- tests (emulation build only) --------------------------------------------------------------
#include <stdlib.h>
#include <time.h>

#include <algorithm>
#include <numeric>
#include <string>
#include <thread>
#include <vector>

#include "check.h"

namespace {
using namespace emu_selftest;

// A device buffer initialised from (or read back into) a host vector.
template <typename T>
struct DeviceBuffer {
  T* ptr = nullptr;
  size_t count;
  explicit DeviceBuffer(size_t n) : count(n) { CHECK(cudaMalloc(&ptr, n * sizeof(T)) == cudaSuccess); }
  explicit DeviceBuffer(const std::vector<T>& host) : DeviceBuffer(host.size()) { put(host); }
  ~DeviceBuffer() { cudaFree(ptr); }
  DeviceBuffer(const DeviceBuffer&) = delete;
  DeviceBuffer& operator=(const DeviceBuffer&) = delete;
  void put(const std::vector<T>& host) {
    CHECK(cudaMemcpy(ptr, host.data(), count * sizeof(T), cudaMemcpyHostToDevice) == cudaSuccess);
  }
  std::vector<T> get() const {
    std::vector<T> host(count);
    CHECK(cudaMemcpy(host.data(), ptr, count * sizeof(T), cudaMemcpyDeviceToHost) == cudaSuccess);
    return host;
  }
};

// Runs a scope under a fixed schedule, then restores the previous one (from the environment).
struct ScopedSchedule {
  cudaemu::Schedule saved = cudaemu::schedule();
  ScopedSchedule(int order, unsigned long long seed, bool shuffle_blocks) {
    cudaemu::set_schedule(order, seed, shuffle_blocks);
  }
  ~ScopedSchedule() { cudaemu::set_schedule(saved.order, saved.seed, saved.shuffle_blocks); }
};

// Collects the emulator's reports during an expected-misuse test instead of printing them,
// and leaves no error behind for later tests (the failed launch's error would otherwise come
// back from their next cudaGetLastError or synchronization).
struct CapturedReports {
  char* buf = nullptr;
  size_t len = 0;
  FILE* stream = open_memstream(&buf, &len);
  FILE* previous = cudaemu::set_report_stream(stream);
  long long errors_before = cudaemu::error_count();
  ~CapturedReports() {
    cudaGetLastError();
    cudaDeviceSynchronize();
    cudaemu::set_report_stream(previous);
    fclose(stream);
    free(buf);
  }
  std::string text() {
    fflush(stream);
    return std::string(buf, len);
  }
  bool contains(const char* s) { return text().find(s) != std::string::npos; }
  long long new_errors() const { return cudaemu::error_count() - errors_before; }
};

std::vector<float> random_floats(size_t n, uint64_t seed) {
  mrcnn_check::Rng rng(seed);
  std::vector<float> v(n);
  for (float& x : v) x = rng.uniform(-1.0f, 1.0f);
  return v;
}

// Worst relative error of emulated SGEMM against a double-precision loop.
double sgemm_error(int m, int n, int k, bool second_barrier) {
  const std::vector<float> a = random_floats((size_t)m * k, 1 + m), b = random_floats((size_t)k * n, 2 + n);
  DeviceBuffer<float> da(a), db(b), dc((size_t)m * n);
  CHECK(sgemm(da.ptr, db.ptr, dc.ptr, m, n, k, second_barrier) == cudaSuccess);
  const std::vector<float> c = dc.get();
  double worst = 0;
  for (int i = 0; i < m; ++i)
    for (int j = 0; j < n; ++j) {
      double ref = 0, mag = 0;
      for (int p = 0; p < k; ++p) {
        ref += (double)a[(size_t)i * k + p] * b[(size_t)p * n + j];
        mag += std::fabs((double)a[(size_t)i * k + p] * b[(size_t)p * n + j]);
      }
      const double err = std::fabs(c[(size_t)i * n + j] - ref) / (mag + 1e-30);
      worst = std::max(worst, std::isnan(err) ? INFINITY : err);
    }
  return worst;
}

MRCNN_TEST(emu_sgemm_ragged_sizes) {
  const int sizes[][3] = {{1, 1, 1}, {16, 16, 16}, {17, 33, 5}, {64, 48, 80}, {100, 37, 129}, {255, 257, 31}};
  const long long errors = cudaemu::error_count();
  for (const auto& s : sizes) CHECK(sgemm_error(s[0], s[1], s[2], true) < 1e-5);
  CHECK(cudaemu::error_count() == errors);
}

MRCNN_TEST(emu_sgemm_missing_second_barrier_is_wrong) {
  // Even in ascending order the next tile overwrites shared memory other threads still read.
  CHECK(sgemm_error(64, 64, 64, false) > 1e-3);
}

MRCNN_TEST(emu_block_reduce_shuffles_ballot_atomics) {
  const int ns[] = {1, 31, 32, 33, 1000, 4097, 100000};
  const int blocks[] = {32, 64, 96, 256, 1024};
  for (int n : ns) {
    // Multiples of 1/4 in [-5, 5]: every partial sum is exact in float, so compare exactly.
    std::vector<float> x(n);
    for (int i = 0; i < n; ++i) x[i] = (float)((i * 37) % 41 - 20) * 0.25f;
    const double expected = std::accumulate(x.begin(), x.end(), 0.0);
    DeviceBuffer<float> dx(x);
    for (int block : blocks) {
      const int grid = std::min((n + block - 1) / block, 40);
      const int threads = grid * block;
      int positive = 0;  // threads whose grid-stride elements include a positive one
      for (int t = 0; t < threads; ++t) {
        bool p = false;
        for (int i = t; i < n; i += threads) p |= x[i] > 0.0f;
        positive += p;
      }
      DeviceBuffer<float> sum(std::vector<float>{0.0f});
      DeviceBuffer<int> pos(std::vector<int>{0}), runs(std::vector<int>{0});
      CHECK(reduce(dx.ptr, n, block, grid, sum.ptr, pos.ptr, runs.ptr) == cudaSuccess);
      CHECK_NEAR(sum.get()[0], expected, 0.0);
      CHECK(pos.get()[0] == positive);
      CHECK(runs.get()[0] == threads);
    }
  }
}

MRCNN_TEST(emu_dynamic_shared_memory_reverse) {
  for (int n : {1, 63, 64, 65, 1000}) {
    for (int block : {32, 64, 200}) {
      std::vector<int> in(n);
      std::iota(in.begin(), in.end(), 7);
      DeviceBuffer<int> din(in), dout(n);
      CHECK(reverse(din.ptr, dout.ptr, n, block, block * sizeof(int)) == cudaSuccess);
      const std::vector<int> out = dout.get();
      bool ok = true;
      for (int base = 0; base < n; base += block) {
        const int count = std::min(n - base, block);
        for (int t = 0; t < count; ++t) ok &= out[base + t] == in[base + count - 1 - t];
      }
      CHECK(ok);
    }
  }
}

MRCNN_TEST(emu_missing_barrier_caught_by_desc_and_random_order) {
  const int n = 1000;
  int salt = 0;
  // Shared memory keeps the previous launch's values: new input every launch, so stale reads show.
  auto mismatches = [&](bool barrier) {
    std::vector<int> in(n);
    ++salt;
    for (int i = 0; i < n; ++i) in[i] = i * 3 + salt * 100000;
    DeviceBuffer<int> din(in), dout(n);
    CHECK(shift(din.ptr, dout.ptr, n, barrier) == cudaSuccess);
    const std::vector<int> out = dout.get();
    int bad = 0;
    for (int t = 1; t < n; ++t) bad += out[t] != in[t - 1];
    return bad;
  };
  struct { int order; unsigned long long seed; } orders[] = {
      {cudaemu::kAscending, 1}, {cudaemu::kDescending, 1}, {cudaemu::kRandom, 1}, {cudaemu::kRandom, 2},
      {cudaemu::kRandom, 3}};
  for (const auto& o : orders) {
    ScopedSchedule schedule(o.order, o.seed, false);
    CHECK(mismatches(true) == 0);
    const int bad = mismatches(false);
    if (o.order == cudaemu::kAscending)
      CHECK(bad == 0);  // ascending order hides this race: that is why CI runs the others
    else
      CHECK(bad > 100);
  }
}

MRCNN_TEST(emu_schedule_orders_and_seeds) {
  const int threads = 64, blocks = 50;
  auto run_threads = [&] {
    DeviceBuffer<int> counter(std::vector<int>{0}), order(threads);
    CHECK(thread_order(counter.ptr, order.ptr, threads) == cudaSuccess);
    return order.get();
  };
  auto run_blocks = [&] {
    DeviceBuffer<int> counter(std::vector<int>{0}), order(blocks);
    CHECK(block_order(counter.ptr, order.ptr, blocks) == cudaSuccess);
    return order.get();
  };
  std::vector<int> ascending(threads), ascending_blocks(blocks);
  std::iota(ascending.begin(), ascending.end(), 0);
  std::iota(ascending_blocks.begin(), ascending_blocks.end(), 0);
  {
    ScopedSchedule s(cudaemu::kAscending, 1, false);
    CHECK(run_threads() == ascending);
    CHECK(run_blocks() == ascending_blocks);
  }
  {
    ScopedSchedule s(cudaemu::kDescending, 1, false);
    CHECK(run_threads() == std::vector<int>(ascending.rbegin(), ascending.rend()));
  }
  std::vector<int> seed5, seed5_blocks;
  {
    ScopedSchedule s(cudaemu::kRandom, 5, true);
    seed5 = run_threads();
    seed5_blocks = run_blocks();
    CHECK(run_threads() == seed5);  // reseeded per launch: a failing seed reproduces
    CHECK(run_blocks() == seed5_blocks);
  }
  std::vector<int> sorted = seed5, sorted_blocks = seed5_blocks;
  std::sort(sorted.begin(), sorted.end());
  std::sort(sorted_blocks.begin(), sorted_blocks.end());
  CHECK(sorted == ascending);
  CHECK(sorted_blocks == ascending_blocks);
  CHECK(seed5 != ascending);
  CHECK(seed5_blocks != ascending_blocks);
  ScopedSchedule s(cudaemu::kRandom, 6, true);
  CHECK(run_threads() != seed5);
  CHECK(!cudaemu::set_schedule(3, 1, false));
}

MRCNN_TEST(emu_warp_intrinsics_semantics) {
  const int n = 64;
  DeviceBuffer<int> ints(n * 8);
  DeviceBuffer<float> floats(n);
  DeviceBuffer<double> doubles(n);
  DeviceBuffer<long long> lls(n);
  DeviceBuffer<unsigned long long> ulls(n);
  DeviceBuffer<unsigned> votes(n * 5);
  const long long errors = cudaemu::error_count();
  CHECK(warps(ints.ptr, floats.ptr, doubles.ptr, lls.ptr, ulls.ptr, votes.ptr) == cudaSuccess);
  CHECK(cudaemu::error_count() == errors);
  const std::vector<int> i = ints.get();
  const std::vector<float> f = floats.get();
  const std::vector<double> d = doubles.get();
  const std::vector<long long> ll = lls.get();
  const std::vector<unsigned long long> ull = ulls.get();
  const std::vector<unsigned> v = votes.get();
  int bad = 0;
  for (int t = 0; t < n; ++t) {
    const int lane = t % 32, warp = t / 32, base = 100 * warp;
    auto val = [&](int l) { return base + l; };
    const int* o = &i[t * 8];
    bad += o[0] != val((lane * 7) % 32);
    bad += o[1] != val((lane & ~7) + 3);
    bad += o[2] != val(lane % 16 >= 3 ? lane - 3 : lane);
    bad += o[3] != val(lane + 5 < 32 ? lane + 5 : lane);
    bad += o[4] != val(lane >= 16 ? lane - 16 : lane);  // xor may reach an earlier segment only
    bad += o[5] != 32 * base + 496;
    bad += o[6] != -10;
    bad += o[7] != 93;
    bad += f[t] != (lane ^ 1) + 0.5f;
    bad += d[t] != (lane < 31 ? lane + 1 : lane) * 1e10 + 0.25;
    bad += ll[t] != (long long)(31 - lane) << 40;
    bad += ull[t] != (0xF000000000000000ull | (unsigned long long)(lane > 0 ? lane - 1 : 0));
    const unsigned* w = &v[t * 5];
    bad += w[0] != 0x49249249u;
    bad += w[1] != 1u;
    bad += w[2] != 0u;
    bad += w[3] != 0xffffffffu;
    bad += w[4] != (lane < 16 ? 0xAAAAu : 0u);
  }
  CHECK(bad == 0);

  DeviceBuffer<int> out(48);
  CHECK(partial_warp(out.ptr, 48) == cudaSuccess);
  const std::vector<int> p = out.get();
  bool ok = true;
  for (int t = 0; t < 48; ++t) ok &= p[t] == (t ^ 1);
  CHECK(ok);

  DeviceBuffer<int> sums(std::vector<int>(32, -1));
  CHECK(exit_completes(sums.ptr) == cudaSuccess);
  const std::vector<int> q = sums.get();
  ok = q[20] == -1;
  for (int lane = 0; lane < 32; ++lane)
    if (lane != 20) ok &= q[lane] == (lane >= 16 ? 3115 : 3100);
  CHECK(ok);
  CHECK(cudaemu::error_count() == errors);
}

MRCNN_TEST(emu_syncthreads_count_and_or) {
  const int n = 200;
  DeviceBuffer<int> out(n * 5);
  CHECK(votes(out.ptr, n) == cudaSuccess);
  const std::vector<int> o = out.get();
  bool ok = true;
  for (int t = 0; t < n; ++t) {
    const int* r = &o[t * 5];
    ok &= r[0] == 67 && r[1] == 1 && r[2] == 0 && r[3] == 1 && r[4] == 0;
  }
  CHECK(ok);
}

MRCNN_TEST(emu_atomics) {
  DeviceBuffer<int> i(std::vector<int>{0, 0, -1, 0, 0, 0, 0, 0});
  DeviceBuffer<unsigned> u(std::vector<unsigned>{0xffffffffu, 0, 0, 0xffffffffu, 0});
  DeviceBuffer<unsigned long long> ull(std::vector<unsigned long long>{0, 0, 0, 0});
  DeviceBuffer<long long> ll(std::vector<long long>{0});
  DeviceBuffer<float> f(std::vector<float>{0.0f});
  DeviceBuffer<double> d(std::vector<double>{0.0});
  CHECK(atomics(i.ptr, u.ptr, ull.ptr, ll.ptr, f.ptr, d.ptr) == cudaSuccess);
  const int threads = 1024, sum = threads * (threads - 1) / 2;
  CHECK(i.get() == (std::vector<int>{sum, -sum, threads - 1, -(threads - 1), 0x7fffffff, 0, threads, 42}));
  CHECK(u.get() == (std::vector<unsigned>{0u, 2u * threads, 3u * (threads - 1), 5u, (unsigned)-threads}));
  const std::vector<unsigned long long> ull_out = ull.get();
  CHECK(ull_out[0] == (unsigned long long)sum << 33 && ull_out[1] == threads - 1ull && ull_out[2] == ~0ull);
  CHECK(ull_out[3] >= 1 && ull_out[3] <= (unsigned long long)threads);  // whichever thread ran first
  CHECK(ll.get()[0] == -((long long)(threads - 1) << 40));
  CHECK(f.get()[0] == 512.0f);
  CHECK(d.get()[0] == 256.0);
}

MRCNN_TEST(emu_builtins) {
  DeviceBuffer<int> i(18);
  DeviceBuffer<float> f(13);
  DeviceBuffer<float> in(std::vector<float>{2.0f});
  const float coefficients[4] = {0.0f, 0.0f, 1.5f, 0.0f};
  CHECK(builtins(i.ptr, f.ptr, in.ptr, coefficients) == cudaSuccess);
  CHECK(i.get() == (std::vector<int>{8, 40, 31, 32, 63, 5, 0, 41, (int)0xC0000000u, 2, 4, -2, -1, -1, 0x3f800000,
                                     8, 6, 0x7fffffff}));
  CHECK(f.get() == (std::vector<float>{2.0f, 1.0f, 0.0f, 0.5f, 1.0f, 0.0f, 0.25f, 7.0f, 3.25f, 4.0f, 3.0f, 1.0f,
                                       1.0f + 1.0f / 1024.0f}));
}

// TF32 keeps 10 mantissa bits: the product error against fp64 is ~1e-3 relative, far above
// fp32's ~1e-7, which shows the truncation is emulated.
MRCNN_TEST(emu_wmma_tf32_gemm) {
  const int sizes[][3] = {{16, 16, 8}, {32, 48, 24}, {64, 64, 64}, {48, 32, 40}};
  for (bool b_col_major : {false, true}) {
    for (const auto& s : sizes) {
      const int m = s[0], n = s[1], k = s[2];
      const std::vector<float> a = random_floats((size_t)m * k, 11 + m), b = random_floats((size_t)k * n, 12 + n);
      std::vector<float> b_stored(b);
      if (b_col_major)
        for (int p = 0; p < k; ++p)
          for (int j = 0; j < n; ++j) b_stored[(size_t)j * k + p] = b[(size_t)p * n + j];
      DeviceBuffer<float> da(a), db(b_stored), dc((size_t)m * n);
      CHECK(wmma_gemm(da.ptr, db.ptr, dc.ptr, m, n, k, b_col_major) == cudaSuccess);
      const std::vector<float> c = dc.get();
      double worst = 0;
      for (int i = 0; i < m; ++i)
        for (int j = 0; j < n; ++j) {
          double ref = 0, mag = 0;
          for (int p = 0; p < k; ++p) {
            ref += (double)a[(size_t)i * k + p] * b[(size_t)p * n + j];
            mag += std::fabs((double)a[(size_t)i * k + p] * b[(size_t)p * n + j]);
          }
          const double err = std::fabs(c[(size_t)i * n + j] - ref) / mag;
          worst = std::max(worst, std::isnan(err) ? INFINITY : err);
        }
      CHECK(worst < 4e-3);
      CHECK(worst > 1e-5);
    }
  }
}

MRCNN_TEST(emu_launch_configuration_errors) {
  const long long errors = cudaemu::error_count();
  DeviceBuffer<int> din(std::vector<int>(2048, 1)), dout(2048), counter(std::vector<int>{0});
  auto launch = [&](dim3 grid, dim3 block, size_t smem) { return count(counter.ptr, grid, block, smem); };
  CHECK(launch(1, 1025, 0) == cudaErrorInvalidConfiguration);
  CHECK(launch(1, dim3(1024, 2), 0) == cudaErrorInvalidConfiguration);
  CHECK(launch(1, dim3(1, 1, 65), 0) == cudaErrorInvalidConfiguration);
  CHECK(launch(dim3(1, 65536), 32, 0) == cudaErrorInvalidConfiguration);
  CHECK(launch(dim3(1, 1, 65536), 32, 0) == cudaErrorInvalidConfiguration);
  CHECK(launch(0, 32, 0) == cudaErrorInvalidConfiguration);
  CHECK(launch(1, 0, 0) == cudaErrorInvalidConfiguration);
  CHECK(launch(1, 32, 228 * 1024) == cudaErrorInvalidConfiguration);
  // Above 48 KB of dynamic shared memory the kernel must opt in, as on the GPU.
  CHECK(reverse(din.ptr, dout.ptr, 2048, 1024, 64 * 1024) == cudaErrorInvalidConfiguration);
  CHECK(allow_large_smem_for_reverse(228 * 1024) == cudaErrorInvalidValue);
  CHECK(cudaGetLastError() == cudaErrorInvalidValue);  // runtime API errors are recorded, as in CUDA
  CHECK(allow_large_smem_for_reverse(64 * 1024) == cudaSuccess);
  CHECK(reverse(din.ptr, dout.ptr, 2048, 1024, 64 * 1024) == cudaSuccess);
  CHECK(counter.get()[0] == 0);  // none of the above ran
  CHECK(launch(dim3(1, 65535, 1), 1, 0) == cudaSuccess);
  CHECK(launch(dim3(2, 1, 3), dim3(1, 1, 64), 1) == cudaSuccess);
  CHECK(launch(1, dim3(32, 32), 48 * 1024) == cudaSuccess);
  CHECK(counter.get()[0] == 65535 + 6 * 64 + 1024);
  CHECK(cudaGetLastError() == cudaSuccess);  // launch errors are returned, not left behind
  CHECK(cudaemu::error_count() == errors);   // and they are not misuse reports
}

MRCNN_TEST(emu_runtime_api) {
  int count = 0, version = 0;
  CHECK(cudaGetDeviceCount(&count) == cudaSuccess && count == 1);
  CHECK(cudaRuntimeGetVersion(&version) == cudaSuccess && version > 0);
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0) == cudaSuccess && prop.warpSize == 32);
  unsigned char* p = nullptr;
  CHECK(cudaMalloc(&p, 16) == cudaSuccess && p && (uintptr_t)p % 256 == 0);
  CHECK(p && p[0] == 0xFF && p[15] == 0xFF);  // poisoned: read-before-write shows as NaN / -1
  CHECK(cudaMemset(p, 0, 16) == cudaSuccess && p[7] == 0);
  CHECK(cudaMemcpy(p, p + 8, 8, (cudaMemcpyKind)7) == cudaErrorInvalidMemcpyDirection);
  CHECK(cudaPeekAtLastError() == cudaErrorInvalidMemcpyDirection);
  CHECK(cudaGetLastError() == cudaErrorInvalidMemcpyDirection);
  CHECK(cudaGetLastError() == cudaSuccess);
  CHECK(cudaFree(p) == cudaSuccess);
  cudaStream_t stream;
  CHECK(cudaStreamCreate(&stream) == cudaSuccess && cudaStreamDestroy(stream) == cudaSuccess);
  CHECK(std::string(cudaGetErrorString(cudaErrorInsufficientDriver)).find("driver") != std::string::npos);
}

MRCNN_TEST(emu_misuse_early_return_before_barrier) {
  CapturedReports reports;
  std::vector<int> in(64, 3);
  DeviceBuffer<int> din(in), dout(64);
  CHECK(early_return(din.ptr, dout.ptr, 40) == cudaErrorLaunchFailure);
  CHECK(reports.new_errors() == 1);
  CHECK(reports.contains("divergent __syncthreads"));
  CHECK(reports.contains("reached by 40 threads while 24 threads of the block already returned"));
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
  CHECK(cudaDeviceSynchronize() == cudaErrorLaunchFailure);  // surfaced at the next sync, once
  CHECK(cudaDeviceSynchronize() == cudaSuccess);
  CHECK(early_return(din.ptr, dout.ptr, 64) == cudaSuccess);  // the emulator recovered
}

MRCNN_TEST(emu_misuse_barriers_at_different_sites) {
  CapturedReports reports;
  DeviceBuffer<int> out(64);
  CHECK(split_barriers(out.ptr) == cudaErrorLaunchFailure);
  CHECK(reports.new_errors() == 1);
  CHECK(reports.contains("threads wait at different barriers"));
}

MRCNN_TEST(emu_misuse_deadlock) {
  CapturedReports reports;
  DeviceBuffer<int> out(64);
  CHECK(deadlock(out.ptr) == cudaErrorLaunchFailure);
  CHECK(reports.new_errors() == 1);  // the first block's report; the second block is skipped
  CHECK(reports.contains("deadlock in block ("));
  CHECK(reports.contains("1 threads wait at __syncthreads"));
  CHECK(reports.contains("warp 0 lanes 0xfffffffe wait at __shfl_sync with mask 0xffffffff"));
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
}

MRCNN_TEST(emu_misuse_shuffle_from_lane_outside_mask) {
  CapturedReports reports;
  DeviceBuffer<int> out(32);
  CHECK(bad_shuffle(out.ptr) == cudaErrorLaunchFailure);
  CHECK(reports.new_errors() == 16);
  CHECK(reports.contains("lane 0 reads lane 20, which is not in the mask"));
  CHECK(reports.contains("further reports of this launch are suppressed"));
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
}

MRCNN_TEST(emu_misuse_wmma_in_half_a_warp) {
  CapturedReports reports;
  DeviceBuffer<float> out(256);
  CHECK(half_warp_wmma(out.ptr) == cudaErrorLaunchFailure);
  CHECK(reports.new_errors() == 1);
  CHECK(reports.contains("WMMA needs all 32 lanes, but lanes 0xffff0000 already returned"));
  CHECK(cudaGetLastError() == cudaErrorLaunchFailure);
}

MRCNN_TEST(emu_concurrent_launches_from_several_threads) {
  const int n = 5000;
  std::vector<float> x(n, 0.5f);
  DeviceBuffer<float> dx(x);
  std::vector<int> ok(4, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&, t] {
      for (int rep = 0; rep < 10; ++rep) {
        float* sum;
        int *pos, *runs;
        cudaMalloc(&sum, sizeof(float));
        cudaMalloc(&pos, sizeof(int));
        cudaMalloc(&runs, sizeof(int));
        cudaMemset(sum, 0, sizeof(float));
        cudaMemset(pos, 0, sizeof(int));
        cudaMemset(runs, 0, sizeof(int));
        const cudaError_t e = reduce(dx.ptr, n, 64 * (t + 1), 8, sum, pos, runs);
        ok[t] += e == cudaSuccess && *sum == 2500.0f && *runs == 8 * 64 * (t + 1);
        cudaFree(sum);
        cudaFree(pos);
        cudaFree(runs);
      }
    });
  for (std::thread& t : threads) t.join();
  CHECK(ok == std::vector<int>(4, 10));
}

MRCNN_TEST(emu_performance_sanity) {
#if defined(__SANITIZE_ADDRESS__)
  const double limit = 2.0;  // ASan makes every fiber switch and stack access dearer
#else
  const double limit = 0.5;
#endif
  const int n = 256;
  ScopedSchedule ascending(cudaemu::kAscending, 1, false);  // the random order costs a little more
  const std::vector<float> a = random_floats((size_t)n * n, 3), b = random_floats((size_t)n * n, 4);
  DeviceBuffer<float> da(a), db(b), dc((size_t)n * n);
  // Best of three, in CPU time of this thread (the launch runs on it): CI machines are busy.
  auto cpu_seconds = [] {
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return t.tv_sec + t.tv_nsec * 1e-9;
  };
  double best = INFINITY;
  for (int rep = 0; rep < 3; ++rep) {
    const double t0 = cpu_seconds();
    CHECK(sgemm(da.ptr, db.ptr, dc.ptr, n, n, n) == cudaSuccess);
    best = std::min(best, cpu_seconds() - t0);
  }
  printf("     (256^3 tiled SGEMM, 256 blocks x 256 threads, 33 barriers each: %.3f s CPU)\n", best);
  CHECK(best < limit);
}

}  // namespace
#endif  // KL_EMULATE
