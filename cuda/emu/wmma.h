/* cudaemu: nvcuda::wmma, TF32 m16n16k8 only (included by cudaemu.h).
 *
 * Every lane's fragment holds the whole tile, row-major, so num_elements is M*K, K*N or M*N
 * rather than the hardware's per-lane share. Element-wise loops over frag.x[] (scaling,
 * __float_to_tf32) work, because the hardware's element-to-lane mapping is unspecified anyway;
 * code that sums a lane's elements and then reduces across lanes counts everything 32 times.
 *
 * Each operation is a warp collective of all 32 lanes at the same call site, so a WMMA call in
 * divergent code, in a partial warp, or after some lanes returned is reported. */
#pragma once

#include <type_traits>

namespace cudaemu {
namespace detail {
// The lane number of the running emulated thread (threads are numbered x-fastest).
inline unsigned lane_id() {
  return (g_thread_idx.x + g_block_dim.x * (g_thread_idx.y + g_block_dim.y * g_thread_idx.z)) % 32;
}
}  // namespace detail

namespace cuda {
namespace nvcuda {
namespace wmma {

struct row_major {};
struct col_major {};
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
namespace precision {
struct tf32 {};
}
enum layout_t { mem_row_major, mem_col_major };

// cvt.rna.tf32.f32: round to 10 mantissa bits, to nearest, ties away from zero. Adding half an
// ulp to the magnitude bits does exactly that (a carry into the exponent is correct rounding).
inline float __float_to_tf32(float in) {
  uint32_t b;
  memcpy(&b, &in, sizeof b);
  if ((b & 0x7f800000u) != 0x7f800000u) b = (b + 0x1000u) & 0xffffe000u;  // Inf/NaN unchanged
  memcpy(&in, &b, sizeof b);
  return in;
}

namespace emu {
// Tile shape of each fragment use for m16n16k8.
template <typename Use> struct tile;
template <> struct tile<matrix_a> { static constexpr int rows = 16, cols = 8; };
template <> struct tile<matrix_b> { static constexpr int rows = 8, cols = 16; };
template <> struct tile<accumulator> { static constexpr int rows = 16, cols = 16; };

// The tensor core reads fp32 operands of a TF32 mma by dropping the low 13 mantissa bits.
inline float truncate_tf32(float v) {
  uint32_t b;
  memcpy(&b, &v, sizeof b);
  if ((b & 0x7fffffffu) <= 0x7f800000u) b &= 0xffffe000u;  // keep NaN payloads NaN
  memcpy(&v, &b, sizeof b);
  return v;
}
constexpr unsigned kFullWarp = 0xffffffffu;
}  // namespace emu

template <typename Use, int m, int n, int k, typename T, typename Layout = void>
class fragment {
  static_assert(m == 16 && n == 16 && k == 8, "cudaemu emulates only the WMMA shape m16n16k8 (TF32)");
  static_assert(std::is_same<Use, accumulator>::value
                    ? std::is_same<T, float>::value && std::is_void<Layout>::value
                    : std::is_same<T, precision::tf32>::value &&
                          (std::is_same<Layout, row_major>::value || std::is_same<Layout, col_major>::value),
                "cudaemu: matrix_a/matrix_b fragments are precision::tf32 with row_major or col_major, "
                "accumulators are float without layout");

 public:
  enum { num_elements = emu::tile<Use>::rows * emu::tile<Use>::cols, num_storage_elements = num_elements };
  typedef T element_type;
  typedef float storage_element_type;
  storage_element_type x[num_elements];
};

template <typename Use, typename T, typename Layout>
inline void fill_fragment(fragment<Use, 16, 16, 8, T, Layout>& f, float value,
                          const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  detail::warp_op(detail::WarpOp::WmmaFill, emu::kFullWarp, 0, 0, sizeof(float), file, line);
  for (float& e : f.x) e = value;
}

template <typename Use, typename Layout>
inline void load_matrix_sync(fragment<Use, 16, 16, 8, precision::tf32, Layout>& f, const float* p,
                             unsigned ldm, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  detail::warp_op(detail::WarpOp::WmmaLoad, emu::kFullWarp, detail::to_bits(p), ldm, sizeof(float), file, line);
  constexpr int rows = emu::tile<Use>::rows, cols = emu::tile<Use>::cols;
  constexpr bool col = std::is_same<Layout, col_major>::value;
  for (int r = 0; r < rows; ++r)
    for (int c = 0; c < cols; ++c) f.x[r * cols + c] = col ? p[(size_t)c * ldm + r] : p[(size_t)r * ldm + c];
}

// The layout travels in the top bit of the collective's argument, so lanes must agree on it too.
inline void load_matrix_sync(fragment<accumulator, 16, 16, 8, float>& f, const float* p, unsigned ldm,
                             layout_t layout, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  detail::warp_op(detail::WarpOp::WmmaLoad, emu::kFullWarp, detail::to_bits(p),
                  ldm | (unsigned)layout << 31, sizeof(float), file, line);
  for (int r = 0; r < 16; ++r)
    for (int c = 0; c < 16; ++c)
      f.x[r * 16 + c] = layout == mem_col_major ? p[(size_t)c * ldm + r] : p[(size_t)r * ldm + c];
}

// Element i is written by lane i % 32 only, so no location is written twice.
inline void store_matrix_sync(float* p, const fragment<accumulator, 16, 16, 8, float>& f, unsigned ldm,
                              layout_t layout, const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  detail::warp_op(detail::WarpOp::WmmaStore, emu::kFullWarp, detail::to_bits(p),
                  ldm | (unsigned)layout << 31, sizeof(float), file, line);
  for (unsigned i = detail::lane_id(); i < 256; i += 32) {
    const unsigned r = i / 16, c = i % 16;
    p[layout == mem_col_major ? (size_t)c * ldm + r : (size_t)r * ldm + c] = f.x[i];
  }
}

// D = A*B + C with TF32-truncated inputs and fp32 accumulation. The last lane to arrive
// computes the tile once (from its own fragments) and writes it into every lane's d.
template <typename LayoutA, typename LayoutB>
inline void mma_sync(fragment<accumulator, 16, 16, 8, float>& d,
                     const fragment<matrix_a, 16, 16, 8, precision::tf32, LayoutA>& a,
                     const fragment<matrix_b, 16, 16, 8, precision::tf32, LayoutB>& b,
                     const fragment<accumulator, 16, 16, 8, float>& c,
                     const char* file = __builtin_FILE(), int line = __builtin_LINE()) {
  typedef fragment<accumulator, 16, 16, 8, float> Acc;
  const bool leader = detail::warp_op(detail::WarpOp::WmmaMma, emu::kFullWarp, detail::to_bits(&d), 0,
                                      sizeof(float), file, line) != 0;
  if (!leader) return;
  float out[256];
  for (int i = 0; i < 16; ++i)
    for (int j = 0; j < 16; ++j) {
      float acc = c.x[i * 16 + j];
      for (int kk = 0; kk < 8; ++kk)
        acc = fmaf(emu::truncate_tf32(a.x[i * 8 + kk]), emu::truncate_tf32(b.x[kk * 16 + j]), acc);
      out[i * 16 + j] = acc;
    }
  for (unsigned lane = 0; lane < 32; ++lane)
    memcpy(detail::from_bits<Acc*>(detail::wmma_peer_value(lane))->x, out, sizeof out);
}

}  // namespace wmma
}  // namespace nvcuda
}  // namespace cuda
}  // namespace cudaemu
