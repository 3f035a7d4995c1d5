// conv2d on CUDA: implicit GEMM over NHWC activations.
//   C[M x N] = A[M x K] * B[K x N],  M = n*out_h*out_w pixels, N = c_out, K = kh*kw*c_in
// A is never formed: each tile of A is gathered from the input (im2col on the fly, taps in
// the padding read zero); B is the packed weight [Kp][Np] (k = (ky*kw + kx)*c_in + ci,
// K padded to a multiple of 16 and c_out to a multiple of 64 with zeros, so weight tiles
// need no bounds checks). The epilogue applies act(acc + bias + residual) from
// mrcnn/math/conv2d.h and writes NHWC output.
//
// Two kernels share the packed weight: conv2d (fp32, the default) and conv2d_tf32 (TF32
// tensor cores through WMMA, ~1e-3 relative error; opt-in).
//
// fp32 kernel: 128x64 block tile, k-step 8, 256 threads each owning an 8x4 register tile;
// A and B tiles are double-buffered in shared memory with the next tile's global loads
// issued into registers before the current tile's FMAs (one barrier per k-step). A loads:
// two threads per pixel, 4 consecutive k each (a float4 when c_in % 4 == 0), so a warp
// reads 16 pixels x 32 contiguous bytes; B loads: a warp reads one 256-byte weight row.
#include "common.cuh"
#include "mrcnn/conv2d.h"
#include "mrcnn/math/conv2d.h"

namespace {

using mrcnn_conv2d::Geom;

constexpr int kKPad = 16;  // packed K is a multiple of this (the TF32 kernel's k-step)
constexpr int kNPad = 64;  // packed N is a multiple of this (both kernels' block N)

struct Params {
  Geom g;
  int M, K, Kp, Np;
  const float* input;
  const float* weight;
  const float* bias;
  const float* residual;
  float* output;
  int relu;
};

// Position of one reduction index k = (ky*kw + kx)*c_in + ci, advanced incrementally.
struct KPos {
  int ci, kx, ky;
  __device__ void set(int k, const Geom& g) {
    ci = k % g.c_in;
    const int tap = k / g.c_in;
    kx = tap % g.kw;
    ky = tap / g.kw;
  }
  __device__ void advance(int by, const Geom& g) {
    ci += by;
    while (ci >= g.c_in) {
      ci -= g.c_in;
      if (++kx == g.kw) { kx = 0; ++ky; }
    }
  }
};

// The output pixel a thread gathers A values for.
struct Pixel {
  long long img_off;  // offset of its image in the input
  int y0, x0;         // input coordinates of tap (0,0)
  bool valid;
  __device__ void set(int m, const Params& p) {
    const Geom& g = p.g;
    valid = m < p.M;
    const int mm = valid ? m : 0;
    const int hw = g.oh * g.ow;
    const int img = mm / hw, rem = mm % hw;
    img_off = (long long)img * g.h * g.w * g.c_in;
    y0 = (rem / g.ow) * g.sh - g.ph;
    x0 = (rem % g.ow) * g.sw - g.pw;
  }
  // Input element for reduction position q (k = its index), zero outside the input.
  __device__ float load(const Params& p, const KPos& q, int k) const {
    const Geom& g = p.g;
    const int iy = y0 + q.ky * g.dh, ix = x0 + q.kx * g.dw;
    if (!valid || k >= p.K || iy < 0 || iy >= g.h || ix < 0 || ix >= g.w) return 0.0f;
    return __ldg(p.input + img_off + ((long long)iy * g.w + ix) * g.c_in + q.ci);
  }
  // Four consecutive k starting at q, when c_in % 4 == 0 (they share one tap and are
  // 16-byte aligned).
  __device__ float4 load4(const Params& p, const KPos& q, int k) const {
    const Geom& g = p.g;
    const int iy = y0 + q.ky * g.dh, ix = x0 + q.kx * g.dw;
    if (!valid || k >= p.K || iy < 0 || iy >= g.h || ix < 0 || ix >= g.w)
      return make_float4(0.f, 0.f, 0.f, 0.f);
    return __ldg(reinterpret_cast<const float4*>(p.input + img_off + ((long long)iy * g.w + ix) * g.c_in + q.ci));
  }
};

// Epilogue for one output element (m, co), both inside the output.
__device__ __forceinline__ float finish(const Params& p, long long o, int co, float acc) {
  return mrcnn_conv2d::epilogue(acc, p.bias ? p.bias[co] : 0.0f, p.residual ? p.residual[o] : 0.0f,
                                p.relu);
}

// ---- fp32 kernel ---------------------------------------------------------------------------
constexpr int kBM = 128, kBN = 64, kBK = 8, kThreads = 256, kTM = 8, kTN = 4;
constexpr int kAStride = kBM + 4;  // padded: the two k-groups of a warp's stores hit different banks

template <bool kVecA>
__global__ void __launch_bounds__(kThreads) conv2d_fp32_kernel(Params p) {
  __shared__ __align__(16) float As[2][kBK][kAStride];
  __shared__ __align__(16) float Bs[2][kBK][kBN];
  const int tid = threadIdx.x;
  const int m0 = blockIdx.x * kBM, n0 = blockIdx.y * kBN;
  const Geom& g = p.g;

  // A gather: pixel m0 + tid/2, k offsets (tid%2)*4 .. +4 of each k-step.
  const int a_m = tid >> 1, a_k = (tid & 1) * 4;
  Pixel px;
  px.set(m0 + a_m, p);
  KPos q;
  q.set(a_k, g);
  int k_next = a_k;  // reduction index of q
  // B load: row tid/32 of the k-step, columns (tid%32)*2 .. +2.
  const int b_k = tid >> 5, b_n = (tid & 31) * 2;
  const float* bptr = p.weight + (long long)b_k * p.Np + n0 + b_n;

  float a_reg[4];
  float2 b_reg;
  auto load_tile = [&](int kt) {
    if (kVecA) {
      const float4 v = px.load4(p, q, k_next);
      a_reg[0] = v.x; a_reg[1] = v.y; a_reg[2] = v.z; a_reg[3] = v.w;
    } else {
      KPos r = q;
      for (int i = 0; i < 4; ++i) {
        a_reg[i] = px.load(p, r, k_next + i);
        r.advance(1, g);
      }
    }
    b_reg = *reinterpret_cast<const float2*>(bptr + (long long)kt * kBK * p.Np);
    q.advance(kBK, g);
    k_next += kBK;
  };
  auto store_tile = [&](int buf) {
    for (int i = 0; i < 4; ++i) As[buf][a_k + i][a_m] = a_reg[i];
    *reinterpret_cast<float2*>(&Bs[buf][b_k][b_n]) = b_reg;  // a warp writes one 256-B row
  };

  float acc[kTM][kTN];
#pragma unroll
  for (int i = 0; i < kTM; ++i)
#pragma unroll
    for (int j = 0; j < kTN; ++j) acc[i][j] = 0.0f;

  const int tm = tid / (kBN / kTN), tn = tid % (kBN / kTN);
  const int ktiles = (p.K + kBK - 1) / kBK;
  load_tile(0);
  store_tile(0);
  __syncthreads();
  for (int kt = 0; kt < ktiles; ++kt) {
    const int buf = kt & 1;
    if (kt + 1 < ktiles) load_tile(kt + 1);
#pragma unroll
    for (int kk = 0; kk < kBK; ++kk) {
      const float4 a0 = *reinterpret_cast<const float4*>(&As[buf][kk][tm * kTM]);
      const float4 a1 = *reinterpret_cast<const float4*>(&As[buf][kk][tm * kTM + 4]);
      const float4 b = *reinterpret_cast<const float4*>(&Bs[buf][kk][tn * kTN]);
      const float av[kTM] = {a0.x, a0.y, a0.z, a0.w, a1.x, a1.y, a1.z, a1.w};
      const float bv[kTN] = {b.x, b.y, b.z, b.w};
#pragma unroll
      for (int i = 0; i < kTM; ++i)
#pragma unroll
        for (int j = 0; j < kTN; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    if (kt + 1 < ktiles) store_tile(buf ^ 1);
    __syncthreads();
  }

  // Epilogue: each thread writes 8 pixels x 4 consecutive channels.
  const int co = n0 + tn * kTN;
  const bool vec_out = (g.c_out % 4 == 0) && co + kTN <= g.c_out &&
                       ((reinterpret_cast<size_t>(p.output) | (p.residual ? reinterpret_cast<size_t>(p.residual) : 0)) % 16 == 0);
#pragma unroll
  for (int i = 0; i < kTM; ++i) {
    const int m = m0 + tm * kTM + i;
    if (m >= p.M) break;
    const long long o = (long long)m * g.c_out + co;
    if (vec_out) {
      float4 v;
      v.x = finish(p, o, co, acc[i][0]);
      v.y = finish(p, o + 1, co + 1, acc[i][1]);
      v.z = finish(p, o + 2, co + 2, acc[i][2]);
      v.w = finish(p, o + 3, co + 3, acc[i][3]);
      *reinterpret_cast<float4*>(p.output + o) = v;
    } else {
#pragma unroll
      for (int j = 0; j < kTN; ++j)
        if (co + j < g.c_out) p.output[o + j] = finish(p, o + j, co + j, acc[i][j]);
    }
  }
}

// ---- TF32 tensor-core kernel (WMMA m16n16k8) -----------------------------------------------
// 64x64 block tile, k-step 16, 4 warps in a 2x2 grid each owning a 32x32 sub-tile (2x2
// accumulator fragments). A and B tiles are double-buffered in shared memory like the fp32
// kernel (next tile's global loads into registers before the current tile's MMAs); inputs are
// rounded to TF32 after the fragment loads, accumulation is fp32. The accumulators go through
// shared memory (reusing the tile buffers) so the epilogue writes whole output rows.
constexpr int kWBM = 64, kWBN = 64, kWBK = 16, kWThreads = 128;
constexpr int kWALd = kWBK + 4;  // A tile [m][k]: row stride 20 floats (80 B: 16-B aligned rows)
constexpr int kWBLd = kWBN + 4;  // B tile [k][n]
constexpr int kWCLd = kWBN + 4;  // C tile [m][n]
constexpr int kWASize = kWBM * kWALd, kWBSize = kWBK * kWBLd;
constexpr int kWSmem = 2 * (kWASize + kWBSize) > kWBM * kWCLd ? 2 * (kWASize + kWBSize) : kWBM * kWCLd;

template <bool kVecA>
__global__ void __launch_bounds__(kWThreads) conv2d_tf32_kernel(Params p) {
  namespace wmma = nvcuda::wmma;
  __shared__ __align__(32) float smem[kWSmem];
  float* const As = smem;                 // [2][kWBM][kWALd]
  float* const Bs = smem + 2 * kWASize;   // [2][kWBK][kWBLd]
  float* const Cs = smem;                 // [kWBM][kWCLd], after the last k-step
  const int tid = threadIdx.x, warp = tid / 32;
  const int m0 = blockIdx.x * kWBM, n0 = blockIdx.y * kWBN;
  const Geom& g = p.g;

  // A gather: pixel m0 + tid/2, k offsets (tid%2)*8 + {0..3} and + {4..7} of each k-step.
  const int a_m = tid >> 1, a_k = (tid & 1) * 8;
  Pixel px;
  px.set(m0 + a_m, p);
  KPos q0, q1;
  q0.set(a_k, g);
  q1.set(a_k + 4, g);
  int k_next = a_k;
  // B load: row tid/8 of the k-step, columns (tid%8)*8 .. +8.
  const int b_k = tid >> 3, b_n = (tid & 7) * 8;
  const float* bptr = p.weight + (long long)b_k * p.Np + n0 + b_n;

  float a_reg[8];
  float4 b_reg[2];
  auto load_group = [&](const KPos& q, int k, float* dst) {
    if (kVecA) {
      const float4 v = px.load4(p, q, k);
      dst[0] = v.x; dst[1] = v.y; dst[2] = v.z; dst[3] = v.w;
    } else {
      KPos r = q;
      for (int i = 0; i < 4; ++i) {
        dst[i] = px.load(p, r, k + i);
        r.advance(1, g);
      }
    }
  };
  auto load_tile = [&](int kt) {
    load_group(q0, k_next, a_reg);
    load_group(q1, k_next + 4, a_reg + 4);
    const float* b = bptr + (long long)kt * kWBK * p.Np;
    b_reg[0] = *reinterpret_cast<const float4*>(b);
    b_reg[1] = *reinterpret_cast<const float4*>(b + 4);
    q0.advance(kWBK, g);
    q1.advance(kWBK, g);
    k_next += kWBK;
  };
  auto store_tile = [&](int buf) {
    float* a = As + buf * kWASize + a_m * kWALd + a_k;
    *reinterpret_cast<float4*>(a) = make_float4(a_reg[0], a_reg[1], a_reg[2], a_reg[3]);
    *reinterpret_cast<float4*>(a + 4) = make_float4(a_reg[4], a_reg[5], a_reg[6], a_reg[7]);
    float* b = Bs + buf * kWBSize + b_k * kWBLd + b_n;
    *reinterpret_cast<float4*>(b) = b_reg[0];
    *reinterpret_cast<float4*>(b + 4) = b_reg[1];
  };

  const int wm = (warp >> 1) * 32, wn = (warp & 1) * 32;
  wmma::fragment<wmma::accumulator, 16, 16, 8, float> acc[2][2];
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j) wmma::fill_fragment(acc[i][j], 0.0f);

  const int ktiles = (p.K + kWBK - 1) / kWBK;
  load_tile(0);
  store_tile(0);
  __syncthreads();
  for (int kt = 0; kt < ktiles; ++kt) {
    const int buf = kt & 1;
    if (kt + 1 < ktiles) load_tile(kt + 1);
    const float* a_tile = As + buf * kWASize;
    const float* b_tile = Bs + buf * kWBSize;
#pragma unroll
    for (int kk = 0; kk < kWBK; kk += 8) {
      wmma::fragment<wmma::matrix_a, 16, 16, 8, wmma::precision::tf32, wmma::row_major> af[2];
      wmma::fragment<wmma::matrix_b, 16, 16, 8, wmma::precision::tf32, wmma::row_major> bf[2];
      for (int i = 0; i < 2; ++i) {
        wmma::load_matrix_sync(af[i], a_tile + (wm + 16 * i) * kWALd + kk, kWALd);
        for (int t = 0; t < af[i].num_elements; ++t) af[i].x[t] = wmma::__float_to_tf32(af[i].x[t]);
      }
      for (int j = 0; j < 2; ++j) {
        wmma::load_matrix_sync(bf[j], b_tile + kk * kWBLd + wn + 16 * j, kWBLd);
        for (int t = 0; t < bf[j].num_elements; ++t) bf[j].x[t] = wmma::__float_to_tf32(bf[j].x[t]);
      }
      for (int i = 0; i < 2; ++i)
        for (int j = 0; j < 2; ++j) wmma::mma_sync(acc[i][j], af[i], bf[j], acc[i][j]);
    }
    if (kt + 1 < ktiles) store_tile(buf ^ 1);
    __syncthreads();
  }

  // Accumulators -> shared memory (the tile buffers are free after the last barrier).
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 2; ++j)
      wmma::store_matrix_sync(Cs + (wm + 16 * i) * kWCLd + wn + 16 * j, acc[i][j], kWCLd, wmma::mem_row_major);
  __syncthreads();
  // Epilogue: consecutive threads write consecutive channels of one output pixel.
  for (int e = tid; e < kWBM * kWBN; e += kWThreads) {
    const int r = e / kWBN, c = e % kWBN;
    const int m = m0 + r, co = n0 + c;
    if (m < p.M && co < g.c_out) {
      const long long o = (long long)m * g.c_out + co;
      p.output[o] = finish(p, o, co, Cs[r * kWCLd + c]);
    }
  }
}

long long packed_k(int c_in, int kh, int kw) {
  const long long k = (long long)c_in * kh * kw;
  return (k + kKPad - 1) / kKPad * kKPad;
}
long long packed_n(int c_out) { return ((long long)c_out + kNPad - 1) / kNPad * kNPad; }

// Checks and fills Params; returns a status.
int prepare(const char* what, Params* p, const float* input, int n, int h, int w, int c_in,
            const float* weight, int c_out, int kh, int kw, const float* bias,
            const float* residual, float* output, int out_h, int out_w, int sh, int sw, int ph,
            int pw, int dh, int dw, int relu) {
  int st = mrcnn_conv2d::check_args(what, input, n, h, w, c_in, weight, c_out, kh, kw, output,
                                    out_h, out_w, sh, sw, ph, pw, dh, dw);
  if (st) return st;
  p->g = Geom{n, h, w, c_in, c_out, kh, kw, out_h, out_w, sh, sw, ph, pw, dh, dw};
  p->M = n * out_h * out_w;
  p->K = c_in * kh * kw;
  p->Kp = (int)packed_k(c_in, kh, kw);
  p->Np = (int)packed_n(c_out);
  p->input = input;
  p->weight = weight;
  p->bias = bias;
  p->residual = residual;
  p->output = output;
  p->relu = relu ? 1 : 0;
  if (reinterpret_cast<size_t>(weight) % 16 != 0)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "%s: the packed weight must be 16-byte aligned", what);
  if (((long long)p->M + kBM - 1) / kBM > 2147483647LL || (c_out + kBN - 1) / kBN > 65535)
    return mrcnn_fail(MRCNN_ERR_UNSUPPORTED, "%s: grid too large", what);
  return MRCNN_OK;
}

}  // namespace

MRCNN_API size_t MRCNN_CUDA_FN(conv2d_packed_weight_size)(int c_out, int c_in, int kh, int kw) {
  if (c_out < 1 || c_in < 1 || kh < 1 || kw < 1) return 0;
  return (size_t)(packed_k(c_in, kh, kw) * packed_n(c_out));
}

MRCNN_API int MRCNN_CUDA_FN(conv2d_pack_weight)(const float* w, int c_out, int c_in, int kh,
                                                int kw, float* packed) {
  if (c_out < 1 || c_in < 1 || kh < 1 || kw < 1)
    return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "conv2d_pack_weight: bad dims %dx%dx%dx%d",
                      c_out, c_in, kh, kw);
  if (!w || !packed) return mrcnn_fail(MRCNN_ERR_INVALID_ARGUMENT, "conv2d_pack_weight: null pointer");
  const long long kp = packed_k(c_in, kh, kw), np = packed_n(c_out);
  for (long long k = 0; k < kp; ++k) {
    const long long ci = k % c_in, tap = k / c_in, kx = tap % kw, ky = tap / kw;
    for (long long co = 0; co < np; ++co)
      packed[k * np + co] = (co < c_out && ky < kh)
                                ? w[((co * c_in + ci) * kh + ky) * kw + kx]
                                : 0.0f;
  }
  return MRCNN_OK;
}

MRCNN_API size_t MRCNN_CUDA_FN(conv2d_workspace_size)(int, int, int, int, int, int, int, int, int,
                                                      int, int, int, int, int, int) {
  return 0;
}

namespace {
// Both entry points: checks, then one launch of the fp32 or the TF32 kernel.
int run(bool tf32, const float* input, int n, int h, int w, int c_in, const float* packed_weight,
        int c_out, int kernel_h, int kernel_w, const float* bias, const float* residual,
        float* output, int out_h, int out_w, int stride_h, int stride_w, int pad_h, int pad_w,
        int dil_h, int dil_w, int relu, void* stream) {
  const char* what = tf32 ? "conv2d_tf32" : "conv2d";
  Params p;
  int st = prepare(what, &p, input, n, h, w, c_in, packed_weight, c_out, kernel_h, kernel_w, bias,
                   residual, output, out_h, out_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w,
                   relu);
  if (st) return st;
  if (p.M == 0) return MRCNN_OK;
  const bool vec = c_in % 4 == 0 && reinterpret_cast<size_t>(input) % 16 == 0;
  const cudaStream_t s = (cudaStream_t)stream;
  cudaError_t e;
  if (tf32) {
    const dim3 grid((unsigned)((p.M + kWBM - 1) / kWBM), (unsigned)((c_out + kWBN - 1) / kWBN));
    e = vec ? klaunch(conv2d_tf32_kernel<true>, grid, dim3(kWThreads), 0, s, p)
            : klaunch(conv2d_tf32_kernel<false>, grid, dim3(kWThreads), 0, s, p);
  } else {
    const dim3 grid((unsigned)((p.M + kBM - 1) / kBM), (unsigned)((c_out + kBN - 1) / kBN));
    e = vec ? klaunch(conv2d_fp32_kernel<true>, grid, dim3(kThreads), 0, s, p)
            : klaunch(conv2d_fp32_kernel<false>, grid, dim3(kThreads), 0, s, p);
  }
  return mrcnn_cuda::status_from(e, what);
}
}  // namespace

MRCNN_API int MRCNN_CUDA_FN(conv2d)(const float* input, int n, int h, int w, int c_in,
                                    const float* packed_weight, int c_out, int kernel_h,
                                    int kernel_w, const float* bias, const float* residual,
                                    float* output, int out_h, int out_w, int stride_h,
                                    int stride_w, int pad_h, int pad_w, int dil_h, int dil_w,
                                    int relu, void* workspace, size_t workspace_bytes,
                                    void* stream) {
  (void)workspace; (void)workspace_bytes;  // needs none
  return run(false, input, n, h, w, c_in, packed_weight, c_out, kernel_h, kernel_w, bias, residual,
             output, out_h, out_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, relu, stream);
}

MRCNN_API int MRCNN_CUDA_FN(conv2d_tf32)(const float* input, int n, int h, int w, int c_in,
                                         const float* packed_weight, int c_out, int kernel_h,
                                         int kernel_w, const float* bias, const float* residual,
                                         float* output, int out_h, int out_w, int stride_h,
                                         int stride_w, int pad_h, int pad_w, int dil_h, int dil_w,
                                         int relu, void* workspace, size_t workspace_bytes,
                                         void* stream) {
  (void)workspace; (void)workspace_bytes;  // needs none
  return run(true, input, n, h, w, c_in, packed_weight, c_out, kernel_h, kernel_w, bias, residual,
             output, out_h, out_w, stride_h, stride_w, pad_h, pad_w, dil_h, dil_w, relu, stream);
}
