/* cudaemu: scheduler, fibers and runtime API of the CUDA emulator (design: README.md).
 *
 * One fiber per CUDA thread; the blocks of a launch run one after another on the launching OS
 * thread. A fiber runs until it returns, reaches __syncthreads or reaches a warp collective;
 * then the next ready fiber is picked in the configured order (ascending, descending or
 * seeded random). When no fiber is ready and threads remain, the block is stuck: that is
 * reported as a deadlock, the block is abandoned and the launch fails. */
#include "cudaemu.h"

#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdarg>
#include <cstdlib>
#include <mutex>
#include <new>

#if defined(__SANITIZE_ADDRESS__)
#define CUDAEMU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CUDAEMU_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#error "cudaemu has no ThreadSanitizer fiber support; build the emulation tests without -fsanitize=thread"
#endif
#ifdef CUDAEMU_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif

// The hand-written context switch is x86-64 only; elsewhere (or with -DCUDAEMU_UCONTEXT)
// fall back to swapcontext, which is ~50x slower because it saves the signal mask by syscall.
#if !defined(__x86_64__) && !defined(CUDAEMU_UCONTEXT)
#define CUDAEMU_UCONTEXT 1
#endif
#ifdef CUDAEMU_UCONTEXT
#include <ucontext.h>
#endif

namespace cudaemu {
namespace detail {

cuda::uint3 g_thread_idx{0, 0, 0};
cuda::uint3 g_block_idx{0, 0, 0};
cuda::dim3 g_block_dim{1, 1, 1};
cuda::dim3 g_grid_dim{1, 1, 1};
void* g_dynamic_smem = nullptr;

#ifndef CUDAEMU_UCONTEXT
// Pushes the callee-saved registers on the current stack, stores the stack pointer in
// *save_sp, loads load_sp and pops the same registers from there. Written in assembly below;
// declared as an ordinary external function so the compiler assumes every caller-saved
// register is clobbered (which is true: other fibers ran).
//
// The MXCSR and x87 control words are callee-saved too but not switched: saving and loading
// them was 90% of the switch's cost, and kernels cannot change them (CUDA has no rounding-mode
// or exception-mask API). Every fiber starts with the launching thread's values.
void switch_stack(void** save_sp, void* load_sp);
#endif

}  // namespace detail
}  // namespace cudaemu

#ifndef CUDAEMU_UCONTEXT
// The symbol is cudaemu::detail::switch_stack(void**, void*), hidden from the shared library.
__asm__(
    ".text\n"
    ".p2align 4\n"
    ".globl _ZN7cudaemu6detail12switch_stackEPPvS1_\n"
    ".hidden _ZN7cudaemu6detail12switch_stackEPPvS1_\n"
    ".type _ZN7cudaemu6detail12switch_stackEPPvS1_, @function\n"
    "_ZN7cudaemu6detail12switch_stackEPPvS1_:\n"
    "  pushq %rbp\n"
    "  pushq %rbx\n"
    "  pushq %r12\n"
    "  pushq %r13\n"
    "  pushq %r14\n"
    "  pushq %r15\n"
    "  movq %rsp, (%rdi)\n"
    "  movq %rsi, %rsp\n"
    "  popq %r15\n"
    "  popq %r14\n"
    "  popq %r13\n"
    "  popq %r12\n"
    "  popq %rbx\n"
    "  popq %rbp\n"
    "  ret\n"
    ".size _ZN7cudaemu6detail12switch_stackEPPvS1_, .-_ZN7cudaemu6detail12switch_stackEPPvS1_\n");
#endif

namespace cudaemu {
namespace {

using cuda::cudaError_t;
using cuda::dim3;
using cuda::uint3;
using detail::BarrierKind;
using detail::WarpOp;

// ---- configuration ---------------------------------------------------------------------------
constexpr size_t kDefaultSmemLimit = 48 * 1024;   // without cudaFuncSetAttribute
constexpr size_t kMaxSmemOptin = 227 * 1024;      // sm_80 / sm_90 opt-in maximum
constexpr unsigned kMaxReportsPerLaunch = 10;

struct Config {
  Schedule schedule{kAscending, 1, false};
  size_t stack_bytes = 64 * 1024;
  bool allow_exited_barrier = false;  // __syncthreads while other threads already returned
};

std::mutex g_config_mutex;  // guards g_config, g_config_loaded, g_smem_optin
Config g_config;
bool g_config_loaded = false;

// cudaFuncSetAttribute(kernel, MaxDynamicSharedMemorySize, bytes) calls: a fixed table (no
// allocation, nothing that can throw); a library has a handful of such kernels.
struct SmemOptin {
  const void* kernel;
  size_t bytes;
};
SmemOptin g_smem_optin[256];
unsigned g_smem_optin_count = 0;

// The opt-in for `kernel`, or null. Requires g_config_mutex.
SmemOptin* find_smem_optin(const void* kernel) {
  for (unsigned i = 0; i < g_smem_optin_count; ++i)
    if (g_smem_optin[i].kernel == kernel) return &g_smem_optin[i];
  return nullptr;
}

void load_env_locked() {
  if (g_config_loaded) return;
  g_config_loaded = true;
  if (const char* v = getenv("CUDAEMU_ORDER")) {
    if (!strcmp(v, "asc")) g_config.schedule.order = kAscending;
    else if (!strcmp(v, "desc")) g_config.schedule.order = kDescending;
    else if (!strcmp(v, "random")) g_config.schedule.order = kRandom;
    else fprintf(stderr, "cudaemu: ignoring CUDAEMU_ORDER=%s (want asc, desc or random)\n", v);
  }
  if (const char* v = getenv("CUDAEMU_SEED")) g_config.schedule.seed = strtoull(v, nullptr, 0);
  if (const char* v = getenv("CUDAEMU_SHUFFLE_BLOCKS")) g_config.schedule.shuffle_blocks = atoi(v) != 0;
  if (const char* v = getenv("CUDAEMU_ALLOW_EXITED_BARRIER")) g_config.allow_exited_barrier = atoi(v) != 0;
  if (const char* v = getenv("CUDAEMU_STACK_KB")) {
    const long kb = atol(v);
    if (kb >= 4) g_config.stack_bytes = (size_t)kb * 1024;
    else fprintf(stderr, "cudaemu: ignoring CUDAEMU_STACK_KB=%s (minimum 4)\n", v);
  }
}

Config current_config() {
  std::lock_guard<std::mutex> lock(g_config_mutex);
  load_env_locked();
  return g_config;
}

// splitmix64: tiny, and good enough to pick among ready threads.
struct Rng {
  uint64_t state;
  uint64_t next() {
    uint64_t z = (state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  unsigned below(unsigned n) { return (unsigned)(((next() >> 32) * n) >> 32); }
};

// A seeded permutation of [0, n) without a table (grids can have billions of blocks): an
// invertible mix on the next power of two, re-applied until the value falls inside [0, n).
struct BlockPermutation {
  uint64_t n, mask, key1, key2;
  unsigned shift;
  BlockPermutation(uint64_t count, Rng& rng) : n(count), mask(0), key1(rng.next()), key2(rng.next()), shift(1) {
    unsigned bits = 0;
    while (bits < 64 && (uint64_t(1) << bits) < n) ++bits;
    mask = bits >= 64 ? ~uint64_t(0) : (uint64_t(1) << bits) - 1;
    shift = bits / 2 + 1;
  }
  uint64_t mix(uint64_t x) const {  // each step is a bijection on the masked bits
    x = ((x + key1) * 0x9E3779B97F4A7C15ull) & mask;
    x ^= x >> shift;
    x = ((x ^ key2) * 0xBF58476D1CE4E5B9ull) & mask;
    x ^= x >> shift;
    return x;
  }
  uint64_t operator()(uint64_t i) const {
    do i = mix(i); while (i >= n);
    return i;
  }
};

// ---- fibers ----------------------------------------------------------------------------------
struct Context {
#ifdef CUDAEMU_UCONTEXT
  ucontext_t uc;
#else
  void* sp = nullptr;
#endif
#ifdef CUDAEMU_ASAN
  // AddressSanitizer must be told which stack is in use and keeps a fake stack per context.
  const void* stack_bottom = nullptr;
  size_t stack_size = 0;
  void* fake_stack = nullptr;
#endif
};

enum class State : unsigned char { Ready, Running, AtBarrier, AtWarp, Done };

// A lane's part in a warp collective.
struct Slot {
  WarpOp op;
  unsigned mask;
  int width;
  unsigned arg;
  uint64_t value;
  uint64_t result;
};

struct Fiber {
  Context ctx;
  char* stack = nullptr;  // usable stack, above the PROT_NONE guard
  size_t stack_size = 0;
  size_t color = 0;  // bytes left unused at the top, see grow_pool
  uint3 tid{0, 0, 0};
  unsigned index = 0;  // linear thread index in the block
  State state = State::Done;
  bool in_kernel = false;  // between kernel entry and return: has kernel frames on its stack
  const char* file = nullptr;  // where it waits (barrier or warp op)
  int line = 0;
  BarrierKind barrier_kind = BarrierKind::Plain;
  int predicate = 0;
  Slot slot{};
};

struct Warp {
  unsigned exists;   // lanes present (the last warp of a block may be partial)
  unsigned exited;   // lanes that returned from the kernel
  unsigned waiting;  // lanes blocked in a warp collective
};

constexpr unsigned kMaxThreads = 1024;

// One launch: everything the scheduler needs, on the launching thread's stack.
struct Run {
  detail::Invoker invoke;
  const void* pack;
  dim3 grid;
  unsigned nthreads;
  int order;
  bool allow_exited_barrier;
  Rng rng;
  Context scheduler;
  uint64_t ready[kMaxThreads / 64];
  unsigned nready;
  unsigned live, exited, at_barrier;
  int barrier_result;
  bool fatal;     // the block cannot continue: abandon it and skip the remaining blocks
  bool aborting;  // resumed fibers end themselves at once
  bool failed;    // misuse was reported: the launch returns cudaErrorLaunchFailure
  unsigned reports;
  Warp warps[kMaxThreads / 32];
};

// Launches are serialized: static __shared__ variables exist once per kernel, and the fiber
// pool and the globals below are shared.
std::mutex g_launch_mutex;
// Grown to the largest block seen and kept for the process's life (a plain array: no
// destructor may free fibers at exit while another thread still launches).
Fiber* g_pool[kMaxThreads];
unsigned g_pool_size = 0;
size_t g_pool_stack_bytes = 0;
Run* g_run = nullptr;
Fiber* g_current = nullptr;  // the running emulated thread, null on the scheduler
#ifdef CUDAEMU_ASAN
Context* g_switch_from = nullptr;
#endif
thread_local bool t_in_launch = false;

// CUDA's last-error state is per host thread.
thread_local cudaError_t t_last_error = cuda::cudaSuccess;
thread_local cudaError_t t_pending_sync_error = cuda::cudaSuccess;

cudaError_t record(cudaError_t e) {
  if (e != cuda::cudaSuccess) t_last_error = e;
  return e;
}

// ---- reports ---------------------------------------------------------------------------------
std::atomic<long long> g_error_count{0};
std::mutex g_report_mutex;
// stderr until set_report_stream (not initialised with stderr: a launch from another
// translation unit's static initialiser could run before this one's).
FILE* g_report_stream = nullptr;
bool g_report_stream_set = false;

// Counts a misuse report and prints it (at most kMaxReportsPerLaunch per launch).
__attribute__((format(printf, 2, 3))) void report(Run* run, const char* fmt, ...) {
  ++g_error_count;
  if (run) {
    run->failed = true;
    if (++run->reports > kMaxReportsPerLaunch) return;
  }
  std::lock_guard<std::mutex> lock(g_report_mutex);
  FILE* out = g_report_stream_set ? g_report_stream : stderr;
  if (!out) return;
  va_list ap;
  va_start(ap, fmt);
  fputs("cudaemu: ", out);
  vfprintf(out, fmt, ap);
  if (run && run->reports == kMaxReportsPerLaunch)
    fputs("\ncudaemu: (further reports of this launch are suppressed)", out);
  fputc('\n', out);
  fflush(out);
  va_end(ap);
}

// "(x,y,z)" formatting for reports.
struct Xyz {
  char s[48];
  Xyz(uint3 v) { snprintf(s, sizeof s, "(%u,%u,%u)", v.x, v.y, v.z); }
};

const char* op_name(WarpOp op) {
  switch (op) {
    case WarpOp::ShflIdx: return "__shfl_sync";
    case WarpOp::ShflUp: return "__shfl_up_sync";
    case WarpOp::ShflDown: return "__shfl_down_sync";
    case WarpOp::ShflXor: return "__shfl_xor_sync";
    case WarpOp::Ballot: return "__ballot_sync";
    case WarpOp::Any: return "__any_sync";
    case WarpOp::All: return "__all_sync";
    case WarpOp::ReduceAdd: return "__reduce_add_sync";
    case WarpOp::ReduceMinS: case WarpOp::ReduceMinU: return "__reduce_min_sync";
    case WarpOp::ReduceMaxS: case WarpOp::ReduceMaxU: return "__reduce_max_sync";
    case WarpOp::ReduceAnd: return "__reduce_and_sync";
    case WarpOp::ReduceOr: return "__reduce_or_sync";
    case WarpOp::ReduceXor: return "__reduce_xor_sync";
    case WarpOp::SyncWarp: return "__syncwarp";
    case WarpOp::WmmaFill: return "wmma::fill_fragment";
    case WarpOp::WmmaLoad: return "wmma::load_matrix_sync";
    case WarpOp::WmmaStore: return "wmma::store_matrix_sync";
    case WarpOp::WmmaMma: return "wmma::mma_sync";
  }
  return "warp op";
}

const char* barrier_name(BarrierKind k) {
  switch (k) {
    case BarrierKind::Plain: return "__syncthreads";
    case BarrierKind::Count: return "__syncthreads_count";
    case BarrierKind::And: return "__syncthreads_and";
    case BarrierKind::Or: return "__syncthreads_or";
  }
  return "__syncthreads";
}

bool same_site(const char* f1, int l1, const char* f2, int l2) {
  return l1 == l2 && (f1 == f2 || strcmp(f1, f2) == 0);
}

// ---- ready set: a bitset over the block's threads, picked in the configured order -----------
void set_ready(Run& r, Fiber& f) {
  f.state = State::Ready;
  r.ready[f.index / 64] |= uint64_t(1) << (f.index % 64);
  ++r.nready;
}

Fiber* pick(Run& r) {
  if (r.nready == 0) return nullptr;
  const unsigned words = (r.nthreads + 63) / 64;
  unsigned w = 0, bit = 0;
  if (r.order == kAscending) {
    while (!r.ready[w]) ++w;
    bit = __builtin_ctzll(r.ready[w]);
  } else if (r.order == kDescending) {
    w = words - 1;
    while (!r.ready[w]) --w;
    bit = 63 - __builtin_clzll(r.ready[w]);
  } else {
    unsigned k = r.rng.below(r.nready);  // the k-th ready thread
    for (;; ++w) {
      const unsigned c = __builtin_popcountll(r.ready[w]);
      if (k < c) break;
      k -= c;
    }
    const uint64_t m = r.ready[w];
    for (;; bit += 8) {  // find the byte holding it, then the bit
      const unsigned c = __builtin_popcountll(m >> bit & 0xff);
      if (k < c) break;
      k -= c;
    }
    for (uint64_t b = m >> bit;; b &= b - 1, --k)
      if (k == 0) {
        bit += __builtin_ctzll(b);
        break;
      }
  }
  r.ready[w] &= ~(uint64_t(1) << bit);
  --r.nready;
  Fiber* f = g_pool[w * 64 + bit];
  f->state = State::Running;
  return f;
}

// ---- context switching -----------------------------------------------------------------------
[[noreturn]] void fiber_main();

void init_context(Fiber& f) {
#ifdef CUDAEMU_UCONTEXT
  getcontext(&f.ctx.uc);
  f.ctx.uc.uc_stack.ss_sp = f.stack;
  f.ctx.uc.uc_stack.ss_size = f.stack_size;
  f.ctx.uc.uc_link = nullptr;
  makecontext(&f.ctx.uc, fiber_main, 0);
#else
  // A frame as switch_stack leaves it, whose `ret` enters fiber_main with the stack aligned
  // as after a call (rsp = 8 mod 16) and a null return address ending backtraces.
  const uintptr_t end = reinterpret_cast<uintptr_t>(f.stack + f.stack_size - f.color) & ~uintptr_t(15);
  uint64_t* top = reinterpret_cast<uint64_t*>(end);
  top[-1] = 0;                                         // fiber_main's return address
  top[-2] = reinterpret_cast<uintptr_t>(&fiber_main);  // where switch_stack's ret lands
  for (int i = 3; i <= 8; ++i) top[-i] = 0;            // rbp rbx r12 r13 r14 r15
  f.ctx.sp = &top[-8];
#endif
#ifdef CUDAEMU_ASAN
  f.ctx.stack_bottom = f.stack;
  f.ctx.stack_size = f.stack_size;
  f.ctx.fake_stack = nullptr;
#endif
}

// Called first thing after landing on a context's stack.
void arrived(Context& self) {
#ifdef CUDAEMU_ASAN
  // Also learns the bounds of the stack we came from (for the scheduler: the OS thread's).
  __sanitizer_finish_switch_fiber(self.fake_stack, &g_switch_from->stack_bottom, &g_switch_from->stack_size);
#else
  (void)self;
#endif
}

// Leaves `from` for `to` (a fiber, or the scheduler when null). Returns when something switches
// back to `from`; never returns when `from_exits`, which lets ASan free its fake stack.
void transfer(Context& from, Fiber* to, bool from_exits) {
  Run& r = *g_run;
  g_current = to;
  if (to) detail::g_thread_idx = to->tid;
  Context& target = to ? to->ctx : r.scheduler;
#ifdef CUDAEMU_ASAN
  g_switch_from = &from;
  __sanitizer_start_switch_fiber(from_exits ? nullptr : &from.fake_stack, target.stack_bottom, target.stack_size);
#else
  (void)from_exits;
#endif
#ifdef CUDAEMU_UCONTEXT
  swapcontext(&from.uc, &target.uc);
#else
  detail::switch_stack(&from.sp, target.sp);
#endif
  arrived(from);
}

void release_warp_waiters(Run& r, Warp& w);
void complete_barrier(Run& r);

// The running thread's block failed: drop its frames without unwinding and end the fiber,
// which releases its ASan fake stack. The scheduler gives it a fresh context afterwards.
[[noreturn]] void abandon(Fiber& self) {
  self.state = State::Done;
  self.in_kernel = false;
  --g_run->live;
  transfer(self.ctx, nullptr, true);
  __builtin_unreachable();
}

// The running thread returned from the kernel: it is done for this block, and its fiber parks
// (keeping its context and fake stack) until it runs the kernel for a later block or launch.
void park(Fiber& self) {
  Run& r = *g_run;
  self.state = State::Done;
  self.in_kernel = false;
  --r.live;
  ++r.exited;
  Warp& w = r.warps[self.index / 32];
  w.exited |= 1u << (self.index % 32);
  release_warp_waiters(r, w);  // groups that were only waiting for this lane
  if (r.at_barrier > 0 && r.at_barrier == r.live) complete_barrier(r);
  transfer(self.ctx, r.fatal ? nullptr : pick(r), false);
}

[[noreturn]] void fiber_main() {
  Fiber& self = *g_current;
  arrived(self.ctx);
  for (;;) {
    self.in_kernel = true;
    g_run->invoke(g_run->pack);  // g_run is re-read: a parked fiber may resume in a later launch
    park(self);
  }
}

// The running thread blocks (its state already says why): run the next ready thread, or go
// back to the scheduler when none is ready or the block failed.
void yield(Fiber& self) {
  Run& r = *g_run;
  Fiber* next = r.fatal ? nullptr : pick(r);
  if (next != &self) transfer(self.ctx, next, false);
  if (r.aborting) abandon(self);
}

// ---- __syncthreads ---------------------------------------------------------------------------
void complete_barrier(Run& r) {
  Fiber* first = nullptr;
  unsigned count = 0;
  for (unsigned i = 0; i < r.nthreads; ++i) {
    Fiber& f = *g_pool[i];
    if (f.state != State::AtBarrier) continue;
    if (!first) first = &f;
    if (!same_site(f.file, f.line, first->file, first->line) || f.barrier_kind != first->barrier_kind) {
      report(&r, "block %s: threads wait at different barriers: thread %s at %s (%s:%d), thread %s at %s (%s:%d)",
             Xyz(detail::g_block_idx).s, Xyz(first->tid).s, barrier_name(first->barrier_kind), first->file,
             first->line, Xyz(f.tid).s, barrier_name(f.barrier_kind), f.file, f.line);
      r.fatal = true;
      return;
    }
    count += f.predicate != 0;
  }
  if (r.exited > 0 && !r.allow_exited_barrier) {
    Fiber* gone = nullptr;
    for (unsigned i = 0; i < r.nthreads && !gone; ++i)
      if (g_pool[i]->state == State::Done) gone = g_pool[i];
    report(&r,
           "divergent %s at %s:%d in block %s: reached by %u threads while %u threads of the block "
           "already returned (e.g. thread %s); CUDA requires every thread of the block to reach it "
           "(CUDAEMU_ALLOW_EXITED_BARRIER=1 tolerates this)",
           barrier_name(first->barrier_kind), first->file, first->line, Xyz(detail::g_block_idx).s, r.at_barrier,
           r.exited, Xyz(gone->tid).s);
    r.fatal = true;
    return;
  }
  switch (first->barrier_kind) {
    case BarrierKind::Plain: r.barrier_result = 0; break;
    case BarrierKind::Count: r.barrier_result = (int)count; break;
    case BarrierKind::And: r.barrier_result = count == r.at_barrier; break;
    case BarrierKind::Or: r.barrier_result = count > 0; break;
  }
  for (unsigned i = 0; i < r.nthreads; ++i)
    if (g_pool[i]->state == State::AtBarrier) set_ready(r, *g_pool[i]);
  r.at_barrier = 0;
}

// ---- warp collectives ------------------------------------------------------------------------
bool is_wmma(WarpOp op) {
  return op == WarpOp::WmmaFill || op == WarpOp::WmmaLoad || op == WarpOp::WmmaStore || op == WarpOp::WmmaMma;
}

// PTX shfl.sync semantics for CUDA's width argument: segments of `width` lanes; up/down/xor
// outside the segment (xor: only beyond its end) read the lane's own value.
unsigned shuffle_source(WarpOp op, unsigned lane, unsigned b, unsigned width) {
  const unsigned seg = 32 - width;  // CUDA's c[12:8] segment mask
  b &= 31;
  const unsigned first = lane & seg;
  const unsigned last = first | (31 & ~seg);
  switch (op) {
    case WarpOp::ShflUp: return lane >= first + b ? lane - b : lane;
    case WarpOp::ShflDown: return lane + b <= last ? lane + b : lane;
    case WarpOp::ShflXor: return (lane ^ b) <= last ? lane ^ b : lane;
    default: return first | (b & ~seg);
  }
}

// The misuse reports of warp collectives are kept out of line, so that the hot functions'
// frames stay small (under ASan every frame is set up on each call).
__attribute__((noinline, cold)) void report_not_in_mask(Run& r, const Fiber& f, WarpOp op, unsigned mask) {
  report(&r, "%s at %s:%d in block %s: thread %s (lane %u) is not in its own mask 0x%08x", op_name(op), f.file,
         f.line, Xyz(detail::g_block_idx).s, Xyz(f.tid).s, f.index % 32, mask);
}

__attribute__((noinline, cold)) void report_bad_width(Run& r, const Fiber& f, int group_width) {
  if (f.slot.width < 1 || f.slot.width > 32 || (f.slot.width & (f.slot.width - 1)))
    report(&r, "%s at %s:%d in block %s: width %d is not a power of two in [1, 32]", op_name(f.slot.op), f.file,
           f.line, Xyz(detail::g_block_idx).s, f.slot.width);
  else
    report(&r, "%s at %s:%d in block %s, warp %u: lanes pass different widths (%d and %d)", op_name(f.slot.op),
           f.file, f.line, Xyz(detail::g_block_idx).s, f.index / 32, group_width, f.slot.width);
}

__attribute__((noinline, cold)) void report_bad_source(Run& r, const Warp& w, const Fiber& f, unsigned src) {
  const unsigned bit = 1u << src;
  report(&r, "%s at %s:%d in block %s, warp %u: lane %u reads lane %u, which %s; the result is undefined on the GPU",
         op_name(f.slot.op), f.file, f.line, Xyz(detail::g_block_idx).s, f.index / 32, f.index % 32, src,
         !(f.slot.mask & bit)  ? "is not in the mask"
         : !(w.exists & bit)   ? "does not exist (partial warp)"
                               : "already returned");
}

// WMMA needs the whole warp at one call site with the same pointer and ldm.
__attribute__((noinline)) bool check_wmma(Run& r, const Warp& w, unsigned warp, Fiber* const* lanes, const Fiber& member) {
  const char* what = op_name(member.slot.op);
  if (w.exists != 0xffffffffu) {
    report(&r, "%s at %s:%d in block %s, warp %u: WMMA needs all 32 lanes, but lanes 0x%08x do not exist "
           "(the block size is not a multiple of 32)", what, member.file, member.line,
           Xyz(detail::g_block_idx).s, warp, ~w.exists);
    return false;
  }
  if (w.exited) {
    report(&r, "%s at %s:%d in block %s, warp %u: WMMA needs all 32 lanes, but lanes 0x%08x already returned",
           what, member.file, member.line, Xyz(detail::g_block_idx).s, warp, w.exited);
    return false;
  }
  for (unsigned l = 0; l < 32; ++l) {
    const Fiber& f = *lanes[l];
    if (!same_site(f.file, f.line, member.file, member.line)) {
      report(&r, "%s in block %s, warp %u: wmma lanes are at different calls (divergent warp): lane %u at "
             "%s:%d, lane %u at %s:%d", what, Xyz(detail::g_block_idx).s, warp, member.index % 32,
             member.file, member.line, l, f.file, f.line);
      return false;
    }
  }
  if (member.slot.op == WarpOp::WmmaLoad || member.slot.op == WarpOp::WmmaStore) {
    for (unsigned l = 0; l < 32; ++l)
      if (lanes[l]->slot.value != member.slot.value || lanes[l]->slot.arg != member.slot.arg) {
        report(&r, "%s at %s:%d in block %s, warp %u: lanes pass different pointers, ldm or layouts", what,
               member.file, member.line, Xyz(detail::g_block_idx).s, warp);
        break;
      }
    const unsigned ldm = member.slot.arg & 0x7fffffffu;
    if (member.slot.value % 32 != 0 || ldm * (unsigned)member.slot.width % 16 != 0)
      report(&r, "%s at %s:%d in block %s, warp %u: the pointer must be 32-byte aligned and ldm a multiple "
             "of 16 bytes (pointer %p, ldm %u elements)", what, member.file, member.line,
             Xyz(detail::g_block_idx).s, warp, detail::from_bits<void*>(member.slot.value), ldm);
  }
  return true;
}

// One step of a __reduce_*_sync.
uint32_t fold(WarpOp op, uint32_t a, uint32_t b) {
  switch (op) {
    case WarpOp::ReduceAdd: return a + b;
    case WarpOp::ReduceMinS: return (int32_t)b < (int32_t)a ? b : a;
    case WarpOp::ReduceMinU: return b < a ? b : a;
    case WarpOp::ReduceMaxS: return (int32_t)b > (int32_t)a ? b : a;
    case WarpOp::ReduceMaxU: return b > a ? b : a;
    case WarpOp::ReduceAnd: return a & b;
    case WarpOp::ReduceOr: return a | b;
    case WarpOp::ReduceXor: return a ^ b;
    default: return a;
  }
}

// Completes the collective `member` waits in, if every lane it needs has arrived at the same
// kind of op with the same mask. `running` is the calling lane (it keeps running), or null
// when called for a lane that just exited. Returns false if incomplete or the block failed.
bool try_complete_warp(Run& r, Warp& w, Fiber& member, Fiber* running) {
  const Slot& s = member.slot;
  const unsigned group = s.mask & w.exists & ~w.exited;
  if (group & ~w.waiting) return false;
  const unsigned warp = member.index / 32;
  Fiber* const* lanes = &g_pool[warp * 32];
  for (unsigned g = group; g; g &= g - 1) {
    const Slot& o = lanes[__builtin_ctz(g)]->slot;
    if (o.op != s.op || o.mask != s.mask) return false;  // busy in another collective: wait
  }
  if (is_wmma(s.op)) {
    if (!check_wmma(r, w, warp, lanes, member)) {
      r.fatal = true;
      return false;
    }
  }

  uint32_t ballot = 0;
  for (unsigned g = group; g; g &= g - 1)
    ballot |= uint32_t(lanes[__builtin_ctz(g)]->slot.value != 0) << __builtin_ctz(g);
  // Reductions work on the low 32 bits: start from the first lane, fold in the others.
  uint32_t red = (uint32_t)lanes[__builtin_ctz(group)]->slot.value;
  for (unsigned g = group & (group - 1); g; g &= g - 1)
    red = fold(s.op, red, (uint32_t)lanes[__builtin_ctz(g)]->slot.value);

  for (unsigned g = group; g; g &= g - 1) {
    const unsigned lane = __builtin_ctz(g);
    Slot& o = lanes[lane]->slot;
    switch (o.op) {
      case WarpOp::ShflIdx: case WarpOp::ShflUp: case WarpOp::ShflDown: case WarpOp::ShflXor: {
        const bool valid_width = o.width >= 1 && o.width <= 32 && (o.width & (o.width - 1)) == 0;
        if (!valid_width || o.width != s.width) report_bad_width(r, *lanes[lane], s.width);
        const unsigned src = shuffle_source(o.op, lane, o.arg, valid_width ? (unsigned)o.width : 32);
        if (group >> src & 1) {
          o.result = lanes[src]->slot.value;
        } else {
          report_bad_source(r, w, *lanes[lane], src);
          o.result = o.value;
        }
        break;
      }
      case WarpOp::Ballot: o.result = ballot; break;
      case WarpOp::Any: o.result = ballot != 0; break;
      case WarpOp::All: o.result = ballot == group; break;
      case WarpOp::WmmaMma: o.result = lanes[lane] == running; break;  // the caller computes the tile
      case WarpOp::SyncWarp: case WarpOp::WmmaFill: case WarpOp::WmmaLoad: case WarpOp::WmmaStore:
        o.result = 0;
        break;
      default: o.result = red; break;  // reductions
    }
  }
  for (unsigned g = group; g; g &= g - 1) {
    Fiber& f = *lanes[__builtin_ctz(g)];
    if (&f != running) set_ready(r, f);
  }
  w.waiting &= ~group;
  return true;
}

// A lane exited: retry every collective of its warp (each distinct op and mask once).
void release_warp_waiters(Run& r, Warp& w) {
  Fiber* const* lanes = &g_pool[(unsigned)(&w - r.warps) * 32];
  unsigned tried = 0;
  while (unsigned candidates = w.waiting & ~tried) {
    const Slot& s = lanes[__builtin_ctz(candidates)]->slot;
    for (unsigned c = candidates; c; c &= c - 1) {
      const Slot& o = lanes[__builtin_ctz(c)]->slot;
      if (o.op == s.op && o.mask == s.mask) tried |= 1u << __builtin_ctz(c);
    }
    try_complete_warp(r, w, *lanes[__builtin_ctz(candidates)], nullptr);
    if (r.fatal) return;
  }
}

// ---- the scheduler ---------------------------------------------------------------------------
// Explains why no thread of the block can continue (a fixed buffer: nothing here may throw).
void report_stall(Run& r) {
  char msg[2048];
  size_t len = (size_t)snprintf(msg, sizeof msg, "deadlock in block %s: no thread can continue;",
                                Xyz(detail::g_block_idx).s);
  auto append = [&](const char* fmt, auto... args) {
    if (len < sizeof msg) len += (size_t)snprintf(msg + len, sizeof msg - len, fmt, args...);
  };
  bool seen[kMaxThreads] = {};
  unsigned lines = 0;
  for (unsigned i = 0; i < r.nthreads && lines < 12; ++i) {
    const Fiber& f = *g_pool[i];
    if (seen[i] || (f.state != State::AtBarrier && f.state != State::AtWarp)) continue;
    // Group threads waiting at the same place (and, for warp ops, in the same warp and mask).
    unsigned n = 0, lanes = 0;
    for (unsigned j = i; j < r.nthreads; ++j) {
      const Fiber& o = *g_pool[j];
      if (o.state != f.state || !same_site(o.file, o.line, f.file, f.line)) continue;
      if (f.state == State::AtWarp && (j / 32 != i / 32 || o.slot.op != f.slot.op || o.slot.mask != f.slot.mask))
        continue;
      seen[j] = true;
      ++n;
      lanes |= 1u << (j % 32);
    }
    if (f.state == State::AtBarrier)
      append("\n    %u threads wait at %s (%s:%d), the first is thread %s", n, barrier_name(f.barrier_kind),
             f.file, f.line, Xyz(f.tid).s);
    else
      append("\n    warp %u lanes 0x%08x wait at %s with mask 0x%08x (%s:%d)", i / 32, lanes, op_name(f.slot.op),
             f.slot.mask, f.file, f.line);
    ++lines;
  }
  if (r.exited) append("\n    %u threads already returned", r.exited);
  report(&r, "%s", msg);
}

// Resumes every thread of the failed block that is inside the kernel, so that it abandons its
// frames; parked and fresh fibers stay as they are.
void abandon_block(Run& r) {
  r.aborting = true;
  for (unsigned i = 0; i < r.nthreads; ++i) {
    Fiber& f = *g_pool[i];
    if (f.in_kernel) {
      transfer(r.scheduler, &f, false);
      init_context(f);
    }
    f.state = State::Done;
  }
  r.aborting = false;
}

// Runs one block to the end. Returns false when it failed and the launch must stop.
bool run_block(Run& r, uint64_t linear_block, size_t smem_bytes) {
  const uint64_t gx = r.grid.x, gy = r.grid.y;
  detail::g_block_idx = uint3{(unsigned)(linear_block % gx), (unsigned)(linear_block / gx % gy),
                              (unsigned)(linear_block / (gx * gy))};
  if (smem_bytes) memset(detail::g_dynamic_smem, 0xFF, smem_bytes);  // poison: read-before-write shows
  for (unsigned i = 0; i < r.nthreads; ++i) set_ready(r, *g_pool[i]);
  for (unsigned w = 0; w * 32 < r.nthreads; ++w) {
    const unsigned lanes = r.nthreads - w * 32;
    r.warps[w] = Warp{lanes >= 32 ? 0xffffffffu : (1u << lanes) - 1, 0, 0};
  }
  r.live = r.nthreads;
  r.exited = r.at_barrier = 0;
  for (;;) {
    if (Fiber* f = r.fatal ? nullptr : pick(r)) {
      transfer(r.scheduler, f, false);  // returns when no thread is ready or the block failed
      continue;
    }
    if (r.live == 0) return true;
    if (!r.fatal) report_stall(r);
    r.fatal = true;
    abandon_block(r);
    memset(r.ready, 0, sizeof r.ready);
    r.nready = 0;
    return false;
  }
}

// Below each stack: a PROT_NONE guard, so an overflow faults instead of corrupting the next
// stack. 64 KB rather than one page, because a frame with a large local array can skip a
// single guard page entirely. Costs address space only.
constexpr size_t kGuardBytes = 64 * 1024;

bool grow_pool(unsigned n, size_t stack_bytes) {
  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  if (g_pool_size == 0) g_pool_stack_bytes = (stack_bytes + page - 1) / page * page;
  const size_t bytes = kGuardBytes + g_pool_stack_bytes;
  while (g_pool_size < n) {
    // MAP_NORESERVE: only the touched pages of a stack become resident (a few KB per fiber).
    void* m = mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (m == MAP_FAILED) return false;
    Fiber* f = mprotect(m, kGuardBytes, PROT_NONE) == 0 ? new (std::nothrow) Fiber : nullptr;
    if (!f) {
      munmap(m, bytes);
      return false;
    }
    f->stack = static_cast<char*>(m) + kGuardBytes;
    f->stack_size = g_pool_stack_bytes;
    // Stacks are page aligned, so without an offset every fiber's hot frames would map to the
    // same few cache sets and evict each other on every switch.
    f->color = g_pool_size * 7 % 64 * 64;
    init_context(*f);
    g_pool[g_pool_size++] = f;
  }
  return true;
}

#ifdef CUDAEMU_ASAN
void on_asan_death() {
  if (const Fiber* f = g_current)
    fprintf(stderr, "cudaemu: the error above happened in emulated block %s thread %s\n",
            Xyz(detail::g_block_idx).s, Xyz(f->tid).s);
}
#endif

cudaError_t check_launch_config(const void* kernel_id, dim3 grid, dim3 block, size_t smem_bytes) {
  const uint64_t threads = (uint64_t)block.x * block.y * block.z;
  if (threads == 0 || threads > kMaxThreads || block.x > 1024 || block.y > 1024 || block.z > 64)
    return cuda::cudaErrorInvalidConfiguration;
  if (grid.x == 0 || grid.y == 0 || grid.z == 0 || grid.x > 0x7fffffffu || grid.y > 65535 || grid.z > 65535)
    return cuda::cudaErrorInvalidConfiguration;
  if (smem_bytes > kDefaultSmemLimit) {
    // Above 48 KB the GPU needs cudaFuncSetAttribute(kernel, MaxDynamicSharedMemorySize, n).
    std::lock_guard<std::mutex> lock(g_config_mutex);
    const SmemOptin* optin = find_smem_optin(kernel_id);
    if (!optin || smem_bytes > optin->bytes) return cuda::cudaErrorInvalidConfiguration;
  }
  return cuda::cudaSuccess;
}

}  // namespace

// ---- launch ------------------------------------------------------------------------------------
namespace detail {

cuda::cudaError_t run_kernel(Invoker invoke, const void* pack, const void* kernel_id, cuda::dim3 grid,
                             cuda::dim3 block, size_t dynamic_smem_bytes) {
  if (const cudaError_t e = check_launch_config(kernel_id, grid, block, dynamic_smem_bytes)) return e;
  if (t_in_launch) {
    report(nullptr, "klaunch inside a kernel (dynamic parallelism) is not supported");
    return cuda::cudaErrorNotSupported;
  }
  const Config cfg = current_config();
  std::lock_guard<std::mutex> lock(g_launch_mutex);
#ifdef CUDAEMU_ASAN
  static bool death_callback_set = false;
  if (!death_callback_set) __sanitizer_set_death_callback(on_asan_death);
  death_callback_set = true;
#endif
  const unsigned nthreads = block.x * block.y * block.z;
  void* smem = nullptr;
  if (!grow_pool(nthreads, cfg.stack_bytes) || posix_memalign(&smem, 128, dynamic_smem_bytes) != 0)
    return cuda::cudaErrorMemoryAllocation;

  Run r{};
  r.invoke = invoke;
  r.pack = pack;
  r.grid = grid;
  r.nthreads = nthreads;
  r.order = cfg.schedule.order;
  r.allow_exited_barrier = cfg.allow_exited_barrier;
  r.rng.state = cfg.schedule.seed;  // reseeded every launch: a failing seed reproduces alone
  for (unsigned i = 0; i < nthreads; ++i) {
    Fiber& f = *g_pool[i];
    f.index = i;
    f.tid = uint3{i % block.x, i / block.x % block.y, i / (block.x * block.y)};
  }
  g_run = &r;
  t_in_launch = true;
  g_dynamic_smem = smem;
  g_block_dim = block;
  g_grid_dim = grid;
  const uint64_t nblocks = (uint64_t)grid.x * grid.y * grid.z;
  const BlockPermutation order(nblocks, r.rng);
  for (uint64_t b = 0; b < nblocks; ++b)
    if (!run_block(r, cfg.schedule.shuffle_blocks ? order(b) : b, dynamic_smem_bytes)) break;
  g_run = nullptr;
  t_in_launch = false;
  g_dynamic_smem = nullptr;
  free(smem);

  if (!r.failed) return cuda::cudaSuccess;
  t_pending_sync_error = cuda::cudaErrorLaunchFailure;
  return record(cuda::cudaErrorLaunchFailure);
}

int barrier(BarrierKind kind, int predicate, const char* file, int line) {
  Fiber* self = g_current;
  if (!self) {
    report(nullptr, "%s called outside a kernel (%s:%d)", barrier_name(kind), file, line);
    return 0;
  }
  Run& r = *g_run;
  self->state = State::AtBarrier;
  self->file = file;
  self->line = line;
  self->barrier_kind = kind;
  self->predicate = predicate;
  if (++r.at_barrier == r.live) complete_barrier(r);
  yield(*self);
  return r.barrier_result;
}

uint64_t warp_op(WarpOp op, unsigned mask, uint64_t value, unsigned arg, int width, const char* file, int line) {
  Fiber* self = g_current;
  if (!self) {
    report(nullptr, "%s called outside a kernel (%s:%d)", op_name(op), file, line);
    return value;
  }
  Run& r = *g_run;
  const unsigned bit = 1u << (self->index % 32);
  Warp& w = r.warps[self->index / 32];
  self->file = file;
  self->line = line;
  if (!(mask & bit)) {
    report_not_in_mask(r, *self, op, mask);
    mask |= bit;  // go on as if it were: the other lanes decide whether the op completes
  }
  // Field by field: a Slot temporary would be a stack object, which ASan sets up on every call.
  self->slot.op = op;
  self->slot.mask = mask;
  self->slot.width = width;
  self->slot.arg = arg;
  self->slot.value = value;
  self->state = State::AtWarp;
  w.waiting |= bit;
  if (try_complete_warp(r, w, *self, self))
    self->state = State::Running;
  else
    yield(*self);
  return self->slot.result;
}

unsigned active_lanes() {
  const Fiber* self = g_current;
  if (!self) {
    report(nullptr, "__activemask called outside a kernel");
    return 0;
  }
  const Warp& w = g_run->warps[self->index / 32];
  return w.exists & ~w.exited;
}

uint64_t wmma_peer_value(unsigned lane) {
  return g_pool[g_current->index / 32 * 32 + lane]->slot.value;
}

}  // namespace detail

// ---- controls ----------------------------------------------------------------------------------
bool set_schedule(int order, unsigned long long seed, bool shuffle_blocks) {
  if (order < kAscending || order > kRandom) return false;
  std::lock_guard<std::mutex> lock(g_config_mutex);
  load_env_locked();  // so a later first launch does not overwrite this with the environment
  g_config.schedule = Schedule{order, seed, shuffle_blocks};
  return true;
}

Schedule schedule() { return current_config().schedule; }

long long error_count() { return g_error_count.load(); }

FILE* set_report_stream(FILE* stream) {
  std::lock_guard<std::mutex> lock(g_report_mutex);
  FILE* previous = g_report_stream_set ? g_report_stream : stderr;
  g_report_stream = stream;
  g_report_stream_set = true;
  return previous;
}

// ---- error strings -----------------------------------------------------------------------------
namespace cuda {
const char* cudaGetErrorName(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "cudaSuccess";
    case cudaErrorInvalidValue: return "cudaErrorInvalidValue";
    case cudaErrorMemoryAllocation: return "cudaErrorMemoryAllocation";
    case cudaErrorInitializationError: return "cudaErrorInitializationError";
    case cudaErrorInvalidConfiguration: return "cudaErrorInvalidConfiguration";
    case cudaErrorInvalidMemcpyDirection: return "cudaErrorInvalidMemcpyDirection";
    case cudaErrorInsufficientDriver: return "cudaErrorInsufficientDriver";
    case cudaErrorInvalidDeviceFunction: return "cudaErrorInvalidDeviceFunction";
    case cudaErrorNoDevice: return "cudaErrorNoDevice";
    case cudaErrorInvalidDevice: return "cudaErrorInvalidDevice";
    case cudaErrorLaunchFailure: return "cudaErrorLaunchFailure";
    case cudaErrorNotSupported: return "cudaErrorNotSupported";
    case cudaErrorUnknown: return "cudaErrorUnknown";
  }
  return "cudaErrorUnknown";
}

const char* cudaGetErrorString(cudaError_t error) {
  switch (error) {
    case cudaSuccess: return "no error";
    case cudaErrorInvalidValue: return "invalid argument";
    case cudaErrorMemoryAllocation: return "out of memory";
    case cudaErrorInitializationError: return "initialization error";
    case cudaErrorInvalidConfiguration: return "invalid configuration argument";
    case cudaErrorInvalidMemcpyDirection: return "invalid copy direction for memcpy";
    case cudaErrorInsufficientDriver: return "CUDA driver version is insufficient for CUDA runtime version";
    case cudaErrorInvalidDeviceFunction: return "invalid device function";
    case cudaErrorNoDevice: return "no CUDA-capable device is detected";
    case cudaErrorInvalidDevice: return "invalid device ordinal";
    case cudaErrorLaunchFailure: return "unspecified launch failure (the CUDA emulator reported misuse)";
    case cudaErrorNotSupported: return "operation not supported";
    case cudaErrorUnknown: return "unknown error";
  }
  return "unrecognized error code";
}
}  // namespace cuda

// ---- runtime API -------------------------------------------------------------------------------
namespace runtime {

cudaError_t cudaGetLastError() {
  const cudaError_t e = t_last_error;
  t_last_error = cuda::cudaSuccess;
  return e;
}

cudaError_t cudaPeekAtLastError() { return t_last_error; }

cudaError_t cudaGetDeviceCount(int* count) {
  if (!count) return record(cuda::cudaErrorInvalidValue);
  *count = 1;
  return cuda::cudaSuccess;
}

cudaError_t cudaGetDevice(int* device) {
  if (!device) return record(cuda::cudaErrorInvalidValue);
  *device = 0;
  return cuda::cudaSuccess;
}

cudaError_t cudaSetDevice(int device) {
  return device == 0 ? cuda::cudaSuccess : record(cuda::cudaErrorInvalidDevice);
}

cudaError_t cudaGetDeviceProperties(cuda::cudaDeviceProp* prop, int device) {
  if (!prop) return record(cuda::cudaErrorInvalidValue);
  if (device != 0) return record(cuda::cudaErrorInvalidDevice);
  *prop = cuda::cudaDeviceProp{};
  snprintf(prop->name, sizeof prop->name, "cudaemu (CPU emulation)");
  prop->totalGlobalMem = (size_t)sysconf(_SC_PHYS_PAGES) * (size_t)sysconf(_SC_PAGESIZE);
  prop->sharedMemPerBlock = kDefaultSmemLimit;
  prop->sharedMemPerBlockOptin = kMaxSmemOptin;
  prop->sharedMemPerMultiprocessor = 228 * 1024;
  prop->regsPerBlock = 65536;
  prop->warpSize = 32;
  prop->maxThreadsPerBlock = (int)kMaxThreads;
  prop->maxThreadsDim[0] = 1024;
  prop->maxThreadsDim[1] = 1024;
  prop->maxThreadsDim[2] = 64;
  prop->maxGridSize[0] = 0x7fffffff;
  prop->maxGridSize[1] = 65535;
  prop->maxGridSize[2] = 65535;
  prop->maxThreadsPerMultiProcessor = 2048;
  prop->multiProcessorCount = 1;
  prop->major = 9;
  prop->minor = 0;
  return cuda::cudaSuccess;
}

cudaError_t cudaRuntimeGetVersion(int* version) {
  if (!version) return record(cuda::cudaErrorInvalidValue);
  *version = 13000;
  return cuda::cudaSuccess;
}

cudaError_t cudaDriverGetVersion(int* version) { return cudaRuntimeGetVersion(version); }

cudaError_t cudaMalloc(void** ptr, size_t bytes) {
  if (!ptr) return record(cuda::cudaErrorInvalidValue);
  *ptr = nullptr;
  if (bytes == 0) return cuda::cudaSuccess;
  if (posix_memalign(ptr, 256, bytes) != 0) {
    *ptr = nullptr;
    return record(cuda::cudaErrorMemoryAllocation);
  }
  memset(*ptr, 0xFF, bytes);
  return cuda::cudaSuccess;
}

cudaError_t cudaFree(void* ptr) {
  free(ptr);
  return cuda::cudaSuccess;
}

cudaError_t cudaMemcpy(void* dst, const void* src, size_t bytes, cuda::cudaMemcpyKind kind) {
  if ((unsigned)kind > cuda::cudaMemcpyDefault) return record(cuda::cudaErrorInvalidMemcpyDirection);
  if (bytes == 0) return cuda::cudaSuccess;
  if (!dst || !src) return record(cuda::cudaErrorInvalidValue);
  memcpy(dst, src, bytes);  // memcpy, not memmove: ASan reports overlapping copies
  return cuda::cudaSuccess;
}

cudaError_t cudaMemcpyAsync(void* dst, const void* src, size_t bytes, cuda::cudaMemcpyKind kind, cuda::cudaStream_t) {
  return cudaMemcpy(dst, src, bytes, kind);
}

cudaError_t cudaMemset(void* dst, int value, size_t bytes) {
  if (bytes == 0) return cuda::cudaSuccess;
  if (!dst) return record(cuda::cudaErrorInvalidValue);
  memset(dst, value, bytes);
  return cuda::cudaSuccess;
}

cudaError_t cudaMemsetAsync(void* dst, int value, size_t bytes, cuda::cudaStream_t) {
  return cudaMemset(dst, value, bytes);
}

cudaError_t cudaStreamCreate(cuda::cudaStream_t* stream) {
  if (!stream) return record(cuda::cudaErrorInvalidValue);
  *stream = static_cast<cuda::cudaStream_t>(malloc(1));  // a unique handle, nothing behind it
  return *stream ? cuda::cudaSuccess : record(cuda::cudaErrorMemoryAllocation);
}

cudaError_t cudaStreamDestroy(cuda::cudaStream_t stream) {
  free(stream);
  return cuda::cudaSuccess;
}

// A kernel's failure surfaces at the next synchronization on the GPU; the emulator's launch
// returned it already, and this returns it once more so code checking only here sees it.
cudaError_t cudaStreamSynchronize(cuda::cudaStream_t) {
  const cudaError_t e = t_pending_sync_error;
  t_pending_sync_error = cuda::cudaSuccess;
  return e;
}

cudaError_t cudaDeviceSynchronize() { return cudaStreamSynchronize(nullptr); }

cudaError_t cudaFuncSetAttribute(const void* kernel, cuda::cudaFuncAttribute attr, int value) {
  if (!kernel) return record(cuda::cudaErrorInvalidDeviceFunction);
  if (attr != cuda::cudaFuncAttributeMaxDynamicSharedMemorySize || value < 0 || (size_t)value > kMaxSmemOptin)
    return record(cuda::cudaErrorInvalidValue);
  std::lock_guard<std::mutex> lock(g_config_mutex);
  SmemOptin* optin = find_smem_optin(kernel);
  if (!optin) {
    if (g_smem_optin_count == sizeof g_smem_optin / sizeof g_smem_optin[0])
      return record(cuda::cudaErrorMemoryAllocation);
    optin = &g_smem_optin[g_smem_optin_count++];
    optin->kernel = kernel;
  }
  optin->bytes = (size_t)value;
  return cuda::cudaSuccess;
}

}  // namespace runtime
}  // namespace cudaemu
