// CPU launchers for the hash encoding.
//  forward, backward_x: level by level (one level's table in cache at a time), parallel
//  over chunks of points within a level.
//  backward_params: parallel over levels, without atomics: one thread owns a level's
//  table slice and adds its points in order, so the result is deterministic and
//  independent of the thread count.
// The fine levels are random gathers into megabyte tables, so the loops are bound by
// memory latency; every loop computes cells a few points ahead and prefetches their
// entries (about 2x faster than gathering on demand).
// A cell's 8 corners are computed as one vector (cell_lanes) and the backward adds a
// table entry's F features as one vector (scatter_lanes): the header's operations lane by
// lane (IEEE, unfused), so results stay bit-identical to the scalar CUDA code, with about
// half the instructions (backward_params 15-20 % faster with these two alone).
#include <algorithm>
#include <cstring>
#include <vector>

#include "nerfgen/hash_encoding.h"

namespace nerfgen {

namespace {

template <typename T, int kLanes>
struct Lanes {
  typedef T type __attribute__((vector_size(sizeof(T) * kLanes)));
};

template <typename Mask>
bool any_lane(Mask mask) {
  uint64_t words[sizeof(Mask) / 8];
  std::memcpy(words, &mask, sizeof mask);
  uint64_t any = 0;
  for (uint64_t w : words) any |= w;
  return any != 0;
}

// hash_grid_cell with each corner in its own lane: lane c takes the upper vertex along x
// in odd lanes, along y in lanes 2, 3, 6, 7 and along z in lanes 4-7.
template <typename scalar_t>
void cell_lanes(const HashGridLevel& lv, const scalar_t* xyz, HashGridCell<scalar_t>& cell) {
  typedef typename Lanes<uint32_t, 8>::type U8;
  typedef typename Lanes<scalar_t, 8>::type W8;
  const HashGridAxis<scalar_t> x = hash_grid_axis(lv, xyz[0], 0), y = hash_grid_axis(lv, xyz[1], 1),
                               z = hash_grid_axis(lv, xyz[2], 2);
  const U8 tx = {x.term[0], x.term[1], x.term[0], x.term[1], x.term[0], x.term[1], x.term[0], x.term[1]};
  const U8 ty = {y.term[0], y.term[0], y.term[1], y.term[1], y.term[0], y.term[0], y.term[1], y.term[1]};
  const U8 tz = {z.term[0], z.term[0], z.term[0], z.term[0], z.term[1], z.term[1], z.term[1], z.term[1]};
  const W8 wx = {x.weight[0], x.weight[1], x.weight[0], x.weight[1], x.weight[0], x.weight[1], x.weight[0], x.weight[1]};
  const W8 wy = {y.weight[0], y.weight[0], y.weight[1], y.weight[1], y.weight[0], y.weight[0], y.weight[1], y.weight[1]};
  const W8 wz = {z.weight[0], z.weight[0], z.weight[0], z.weight[0], z.weight[1], z.weight[1], z.weight[1], z.weight[1]};
  U8 index = hash_grid_combine(lv, tx, ty, tz);
  if (hash_grid_size_is_pow2(lv)) {
    index &= lv.size - 1u;
  } else if (any_lane(index >= lv.size)) {  // dense: only near x = 1 (or outside [0, 1])
    for (int c = 0; c < 8; ++c) index[c] = hash_grid_wrap(lv, index[c]);
  }
  const W8 weight = hash_grid_corner_weight(wx, wy, wz);
  std::memcpy(cell.index, &index, sizeof index);
  std::memcpy(cell.weight, &weight, sizeof weight);
  cell.frac[0] = x.frac;
  cell.frac[1] = y.frac;
  cell.frac[2] = z.frac;
}

// hash_grid_scatter (plain +=) with a table entry's F features in one vector. (The same
// for the forward's interpolation measured 10 % slower than the header's scalar loop.)
template <typename scalar_t, int F>
void scatter_lanes(scalar_t* grad_table, const HashGridCell<scalar_t>& cell, const scalar_t* grad) {
  typedef typename Lanes<scalar_t, F>::type Entry;
  Entry g;
  std::memcpy(&g, grad, sizeof g);
  for (int c = 0; c < 8; ++c) {
    scalar_t* entry = grad_table + static_cast<int64_t>(cell.index[c]) * F;
    Entry sum;
    std::memcpy(&sum, entry, sizeof sum);
    sum += cell.weight[c] * g;
    std::memcpy(entry, &sum, sizeof sum);
  }
}

// Points per scheduling chunk: large enough to amortise OpenMP, small enough to balance.
// Chunks are handed out dynamically so a thread that loses its core (shared machines)
// does not hold the others at the barrier.
constexpr int64_t kChunk = 1024;
constexpr int64_t kAhead = 16;  // prefetch distance in points
constexpr int64_t kRing = 32;   // cells kept in flight (power of two > kAhead)

// Visits points [begin, end) of one level in order, computing each point's cell kAhead
// points early and prefetching its 8 entries of `table` (for writing if kWrite) and, when
// given, of `also_read`.
template <typename scalar_t, int F, bool kWrite, typename Visit>
void for_each_cell(const HashEncodeArgs<scalar_t>& a, int level, const scalar_t* table, int64_t begin, int64_t end,
                   Visit visit, const scalar_t* also_read = nullptr) {
  HashGridCell<scalar_t> ring[kRing];
  const HashGridLevel& lv = a.levels.level[level];
  const auto prepare = [&](int64_t n) {
    HashGridCell<scalar_t>& cell = ring[n & (kRing - 1)];
    cell_lanes(lv, a.x + 3 * n, cell);
    for (int c = 0; c < 8; ++c) __builtin_prefetch(table + static_cast<int64_t>(cell.index[c]) * F, kWrite ? 1 : 0);
    if (also_read) {
      for (int c = 0; c < 8; ++c) __builtin_prefetch(also_read + static_cast<int64_t>(cell.index[c]) * F, 0);
    }
  };
  for (int64_t n = begin; n < std::min(end, begin + kAhead); ++n) prepare(n);
  for (int64_t n = begin; n < end; ++n) {
    if (n + kAhead < end) prepare(n + kAhead);
    visit(n, ring[n & (kRing - 1)]);
  }
}

// Level by level, all points of a level before the next: one level's table (a few MB)
// stays in the last-level cache and the TLB while it is gathered from, where interleaving
// all levels per chunk of points cycled through every table (64 MB at 16 x 2^19 x 2
// floats). Each level writes its F columns of the encoding rows directly (the rows are
// revisited once per level; a level-major buffer plus transpose measured slower). Threads
// split each level's points; `nowait` lets a thread start the next level while the others
// finish theirs (levels write disjoint columns).
template <typename scalar_t, int F>
void forward_f(const HashEncodeArgs<scalar_t>& a) {
  const int L = a.levels.n_levels;
  const int64_t N = a.n_points;
#pragma omp parallel
  {
    for (int level = 0; level < L; ++level) {
      const scalar_t* table = a.params + hash_table_offset<scalar_t, F>(a, level);
#pragma omp for schedule(dynamic, 1) nowait
      for (int64_t begin = 0; begin < N; begin += kChunk) {
        for_each_cell<scalar_t, F, false>(a, level, table, begin, std::min(begin + kChunk, N),
                                          [&](int64_t n, const HashGridCell<scalar_t>& cell) {
                                            hash_grid_interpolate<scalar_t, F>(
                                                table, cell, a.encoding + hash_encoding_offset<scalar_t, F>(a, n, level));
                                          });
      }
    }
  }
}

template <typename scalar_t, int F>
void backward_params_f(const HashEncodeArgs<scalar_t>& a) {
  const int L = a.levels.n_levels;
  const int64_t N = a.n_points;
#pragma omp parallel for schedule(dynamic, 1)
  for (int level = 0; level < L; ++level) {
    scalar_t* table = a.grad_params + hash_table_offset<scalar_t, F>(a, level);
    std::memset(table, 0, sizeof(scalar_t) * a.table_size * F);
    for_each_cell<scalar_t, F, true>(a, level, table, 0, N, [&](int64_t n, const HashGridCell<scalar_t>& cell) {
      scatter_lanes<scalar_t, F>(table, cell, a.grad_encoding + hash_encoding_offset<scalar_t, F>(a, n, level));
    });
  }
}

// Level by level as the forward (one table in cache at a time); each level's pass adds to
// every point's row of grad_x, in level order, so the sums do not depend on the threads.
template <typename scalar_t, int F>
void backward_x_f(const HashEncodeArgs<scalar_t>& a) {
  const int L = a.levels.n_levels;
  const int64_t N = a.n_points;
  std::fill(a.grad_x, a.grad_x + 3 * N, scalar_t(0));
#pragma omp parallel
  {
    for (int level = 0; level < L; ++level) {
      const scalar_t* table = a.params + hash_table_offset<scalar_t, F>(a, level);
      const scalar_t scale = static_cast<scalar_t>(a.levels.level[level].scale);
#pragma omp for schedule(dynamic, 1)
      for (int64_t begin = 0; begin < N; begin += kChunk) {
        for_each_cell<scalar_t, F, false>(a, level, table, begin, std::min(begin + kChunk, N),
                                          [&](int64_t n, const HashGridCell<scalar_t>& cell) {
                                            hash_grid_dx<scalar_t, F>(
                                                table, cell, a.grad_encoding + hash_encoding_offset<scalar_t, F>(a, n, level),
                                                scale, a.grad_x + 3 * n);
                                          });
      }
    }
  }
}

// Both gradients with one cell computation per point and level (computing the cells is
// about half of either backward on its own). Threads own levels as in backward_params;
// a level's position gradients go to its rows of a [L, chunk, 3] buffer, then each point
// sums its levels in level order: deterministic and independent of the thread count, as
// backward_x (whose sum runs in the same order, only rounded per level first). Points go
// in chunks to bound the buffer (kept per calling thread across calls: 48 MiB for 16
// float32 levels).
constexpr int64_t kBothChunk = int64_t(1) << 18;

template <typename scalar_t, int F>
void backward_both_f(const HashEncodeArgs<scalar_t>& a) {
  const int L = a.levels.n_levels;
  const int64_t N = a.n_points;
  const int64_t chunk = std::min(N, kBothChunk);
  thread_local std::vector<scalar_t> buffer;
  if (buffer.size() < static_cast<size_t>(L * chunk * 3)) buffer.resize(L * chunk * 3);
  scalar_t* level_dx = buffer.data();  // [L, chunk, 3]
#pragma omp parallel
  {
#pragma omp for schedule(dynamic, 1)
    for (int level = 0; level < L; ++level) {
      std::memset(a.grad_params + hash_table_offset<scalar_t, F>(a, level), 0, sizeof(scalar_t) * a.table_size * F);
    }
    for (int64_t begin = 0; begin < N; begin += chunk) {
      const int64_t end = std::min(begin + chunk, N);
#pragma omp for schedule(dynamic, 1)
      for (int level = 0; level < L; ++level) {
        scalar_t* grad_table = a.grad_params + hash_table_offset<scalar_t, F>(a, level);
        const scalar_t* table = a.params + hash_table_offset<scalar_t, F>(a, level);
        const scalar_t scale = static_cast<scalar_t>(a.levels.level[level].scale);
        scalar_t* dx = level_dx + static_cast<int64_t>(level) * chunk * 3 - begin * 3;
        for_each_cell<scalar_t, F, true>(
            a, level, grad_table, begin, end,
            [&](int64_t n, const HashGridCell<scalar_t>& cell) {
              const scalar_t* grad = a.grad_encoding + hash_encoding_offset<scalar_t, F>(a, n, level);
              scatter_lanes<scalar_t, F>(grad_table, cell, grad);
              scalar_t gx[3] = {scalar_t(0), scalar_t(0), scalar_t(0)};
              hash_grid_dx<scalar_t, F>(table, cell, grad, scale, gx);
              for (int d = 0; d < 3; ++d) dx[3 * n + d] = gx[d];
            },
            table);
      }
#pragma omp for schedule(static)
      for (int64_t n = begin; n < end; ++n) {
        for (int d = 0; d < 3; ++d) {
          scalar_t sum = scalar_t(0);
          for (int level = 0; level < L; ++level) sum += level_dx[(static_cast<int64_t>(level) * chunk + n - begin) * 3 + d];
          a.grad_x[3 * n + d] = sum;
        }
      }
    }
  }
}

// F is a template parameter so the per-feature loops unroll; tcnn supports the same set.
#define NG_DISPATCH_F(F_RUNTIME, FN, ARGS)       \
  switch (F_RUNTIME) {                            \
    case 1: FN<scalar_t, 1>(ARGS); break;         \
    case 2: FN<scalar_t, 2>(ARGS); break;         \
    case 4: FN<scalar_t, 4>(ARGS); break;         \
    case 8: FN<scalar_t, 8>(ARGS); break;         \
    default: break; /* rejected by the binding */ \
  }

template <typename scalar_t>
void forward(const HashEncodeArgs<scalar_t>& a) { NG_DISPATCH_F(a.n_features, forward_f, a) }
template <typename scalar_t>
void backward_params(const HashEncodeArgs<scalar_t>& a) { NG_DISPATCH_F(a.n_features, backward_params_f, a) }
template <typename scalar_t>
void backward_x(const HashEncodeArgs<scalar_t>& a) { NG_DISPATCH_F(a.n_features, backward_x_f, a) }
template <typename scalar_t>
void backward_both(const HashEncodeArgs<scalar_t>& a) { NG_DISPATCH_F(a.n_features, backward_both_f, a) }

}  // namespace

void hash_encode_forward_cpu(const HashEncodeArgs<float>& a) { forward(a); }
void hash_encode_forward_cpu(const HashEncodeArgs<double>& a) { forward(a); }
void hash_encode_backward_params_cpu(const HashEncodeArgs<float>& a) { backward_params(a); }
void hash_encode_backward_params_cpu(const HashEncodeArgs<double>& a) { backward_params(a); }
void hash_encode_backward_x_cpu(const HashEncodeArgs<float>& a) { backward_x(a); }
void hash_encode_backward_x_cpu(const HashEncodeArgs<double>& a) { backward_x(a); }
void hash_encode_backward_cpu(const HashEncodeArgs<float>& a) { backward_both(a); }
void hash_encode_backward_cpu(const HashEncodeArgs<double>& a) { backward_both(a); }

}  // namespace nerfgen
