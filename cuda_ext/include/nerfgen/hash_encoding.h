// Multi-resolution hash encoding (Instant-NGP) with tiny-cuda-nn's semantics, for 3-D
// inputs. Shared by the CPU loops (cpu/hash_encoding.cpp) and the CUDA kernels
// (cuda/hash_encoding.cu).
//
// Per level (tcnn grid.h): scale = 2^(level * log2(per_level_scale)) * base_resolution - 1
// (computed once, in Python, and passed in so every back end uses the same float),
// resolution = ceil(scale) + 1, pos = x * scale + 0.5, corner = floor(pos) and trilinear
// weights from pos - corner. A level whose resolution^3 vertices fit in the table is
// indexed densely (x + y*res + z*res^2); finer levels use the spatial hash
// x*1 ^ y*2654435761 ^ z*805459861. Either index is taken modulo the level's size,
// min(round_up(resolution^3, 8), table_size), all in uint32 arithmetic as in tcnn.
//
// Layouts: x [N, 3]; params [n_levels, table_size, F]; encoding [N, n_levels * F] with
// level-major features (column level * F + f), as tcnn outputs them.
#pragma once
#include "common.h"

#if !defined(__CUDACC__)
#include <cmath>
#endif

namespace nerfgen {

constexpr int kHashMaxLevels = 32;

struct HashGridLevel {
  float scale;          // grid units per unit of x
  uint32_t resolution;  // vertices per axis
  uint32_t size;        // table entries this level uses (<= table_size)
  uint32_t dense;       // 1: dense index, 0: spatial hash
};

// Passed by value into kernels, so the level table needs no device allocation.
struct HashGridLevels {
  HashGridLevel level[kHashMaxLevels];
  int32_t n_levels;
};

NG_HD HashGridLevel make_hash_grid_level(float scale, uint32_t table_size) {
  HashGridLevel lv;
  lv.scale = scale;
  lv.resolution = static_cast<uint32_t>(ceilf(scale)) + 1u;
  const uint64_t r = lv.resolution;
  const uint64_t vertices = r * r * r;
  const uint64_t padded = (vertices + 7u) / 8u * 8u;  // tcnn aligns each level to 8 entries
  lv.size = static_cast<uint32_t>(padded < table_size ? padded : table_size);
  lv.dense = vertices <= lv.size ? 1u : 0u;
  return lv;
}

// True for the hashed levels of a 2^k table (tcnn's, nerfgen's configs): a mask reduces.
NG_HD bool hash_grid_size_is_pow2(const HashGridLevel& lv) { return (lv.size & (lv.size - 1u)) == 0u; }

// Reduces a raw index to the level's table: the same value as index % size, without the
// integer division (hot: 8 corners x 16 levels per point): hashed tables are powers of
// two, and dense indices are already in range except near the upper boundary x = 1 (and
// outside [0, 1]).
NG_HD uint32_t hash_grid_wrap(const HashGridLevel& lv, uint32_t index) {
  if (hash_grid_size_is_pow2(lv)) return index & (lv.size - 1u);
  return index < lv.size ? index : index % lv.size;
}

namespace hash_detail {
NG_HD float floor_(float x) { return floorf(x); }
NG_HD double floor_(double x) { return floor(x); }
}  // namespace hash_detail

// One axis of a point's cell at one level. The dense index (x + y*res + z*res^2) and the
// hash (x*1 ^ y*2654435761 ^ z*805459861) are both a combination (+ or ^) of one term
// per axis, so the lower and upper vertex's terms along each axis serve all 8 corners.
template <typename scalar_t>
struct HashGridAxis {
  uint32_t term[2];    // lower, upper vertex times the axis stride (uint32, wrapping as in tcnn)
  scalar_t weight[2];  // their trilinear weights: 1 - frac, frac
  scalar_t frac;       // position inside the cell along this axis, in [0, 1)
};

template <typename scalar_t>
NG_HD HashGridAxis<scalar_t> hash_grid_axis(const HashGridLevel& lv, scalar_t x, int d) {
  const uint32_t stride = d == 0 ? 1u
                          : d == 1 ? (lv.dense ? lv.resolution : 2654435761u)
                                   : (lv.dense ? lv.resolution * lv.resolution : 805459861u);
  const scalar_t pos = x * static_cast<scalar_t>(lv.scale) + scalar_t(0.5);
  const scalar_t fl = hash_detail::floor_(pos);
  const uint32_t g = static_cast<uint32_t>(static_cast<int32_t>(fl));
  HashGridAxis<scalar_t> axis;
  axis.frac = pos - fl;
  axis.term[0] = g * stride;
  axis.term[1] = (g + 1u) * stride;
  axis.weight[0] = scalar_t(1) - axis.frac;
  axis.weight[1] = axis.frac;
  return axis;
}

// A corner's raw index and weight from its per-axis terms and weights. U and W are
// uint32_t and scalar_t for one corner, or (CPU) vectors holding all 8 corners.
template <typename U>
NG_HD U hash_grid_combine(const HashGridLevel& lv, U tx, U ty, U tz) {
  return lv.dense ? tx + ty + tz : tx ^ ty ^ tz;
}
template <typename W>
NG_HD W hash_grid_corner_weight(W wx, W wy, W wz) {
  return (wx * wy) * wz;
}

// The 8 corners of the cell containing one point at one level: table entries and
// trilinear weights. Corner c takes the upper vertex along dim d when bit d of c is set.
template <typename scalar_t>
struct HashGridCell {
  uint32_t index[8];
  scalar_t weight[8];
  scalar_t frac[3];  // position inside the cell, in [0, 1)
};

template <typename scalar_t>
NG_HD void hash_grid_cell(const HashGridLevel& lv, const scalar_t* xyz, HashGridCell<scalar_t>& cell) {
  HashGridAxis<scalar_t> axis[3];
  for (int d = 0; d < 3; ++d) {
    axis[d] = hash_grid_axis(lv, xyz[d], d);
    cell.frac[d] = axis[d].frac;
  }
  for (int c = 0; c < 8; ++c) {
    const int ux = c & 1, uy = (c >> 1) & 1, uz = (c >> 2) & 1;
    cell.index[c] = hash_grid_wrap(lv, hash_grid_combine(lv, axis[0].term[ux], axis[1].term[uy], axis[2].term[uz]));
    cell.weight[c] = hash_grid_corner_weight(axis[0].weight[ux], axis[1].weight[uy], axis[2].weight[uz]);
  }
}

template <typename scalar_t>
struct HashEncodeArgs {
  const scalar_t* x;       // [N, 3]
  const scalar_t* params;  // [n_levels, table_size, F]
  int64_t n_points;
  uint32_t table_size;
  int32_t n_features;  // F, per level: 1, 2, 4 or 8
  HashGridLevels levels;
  scalar_t* encoding;          // forward output [N, n_levels * F]
  const scalar_t* grad_encoding;  // backward input [N, n_levels * F]
  scalar_t* grad_params;       // backward output [n_levels, table_size, F]
  scalar_t* grad_x;            // backward output [N, 3]
};

// Building blocks on one point's cell at one level. `table` is that level's slice of
// params (or of grad_params), F features per entry.

// Trilinear interpolation of the 8 corner entries.
template <typename scalar_t, int F>
NG_HD void hash_grid_interpolate(const scalar_t* table, const HashGridCell<scalar_t>& cell, scalar_t* out) {
  scalar_t acc[F];
  for (int f = 0; f < F; ++f) acc[f] = scalar_t(0);
  for (int c = 0; c < 8; ++c) {
    const scalar_t* entry = table + static_cast<int64_t>(cell.index[c]) * F;
    for (int f = 0; f < F; ++f) acc[f] += cell.weight[c] * entry[f];
  }
  for (int f = 0; f < F; ++f) out[f] = acc[f];
}

// Parameter gradient: scatters grad * weight into the 8 corner entries through
// add(pointer, value) (plain += on CPU, atomicAdd on CUDA).
template <typename scalar_t, int F, typename Add>
NG_HD void hash_grid_scatter(scalar_t* grad_table, const HashGridCell<scalar_t>& cell, const scalar_t* grad, Add add) {
  for (int c = 0; c < 8; ++c) {
    scalar_t* entry = grad_table + static_cast<int64_t>(cell.index[c]) * F;
    for (int f = 0; f < F; ++f) add(entry + f, cell.weight[c] * grad[f]);
  }
}

// Position gradient: adds grad . d(encoding)/dx to gx[3]. d weight_c / d x_d is
// scale * (+-1) * (weights of the other two dims), piecewise constant in x_d, as tcnn's
// dy_dx.
template <typename scalar_t, int F>
NG_HD void hash_grid_dx(const scalar_t* table, const HashGridCell<scalar_t>& cell, const scalar_t* grad, scalar_t scale,
                        scalar_t* gx) {
  for (int c = 0; c < 8; ++c) {
    const scalar_t* entry = table + static_cast<int64_t>(cell.index[c]) * F;
    scalar_t dot = scalar_t(0);  // grad . value at this corner
    for (int f = 0; f < F; ++f) dot += grad[f] * entry[f];
    for (int d = 0; d < 3; ++d) {
      scalar_t dw = scale;
      for (int e = 0; e < 3; ++e) {
        const bool upper = (c >> e) & 1;
        if (e == d) dw *= upper ? scalar_t(1) : scalar_t(-1);
        else dw *= upper ? cell.frac[e] : scalar_t(1) - cell.frac[e];
      }
      gx[d] += dw * dot;
    }
  }
}

// Row of point n, level `level` in encoding-shaped arrays [N, n_levels * F].
template <typename scalar_t, int F>
NG_HD int64_t hash_encoding_offset(const HashEncodeArgs<scalar_t>& a, int64_t n, int level) {
  return n * (static_cast<int64_t>(a.levels.n_levels) * F) + level * F;
}

template <typename scalar_t, int F>
NG_HD int64_t hash_table_offset(const HashEncodeArgs<scalar_t>& a, int level) {
  return static_cast<int64_t>(level) * a.table_size * F;
}

// Whole-point, whole-level entry points (used by the CUDA kernels; the CPU loops use the
// building blocks directly so they can prefetch ahead).
template <typename scalar_t, int F>
NG_HD void hash_encode_point_level(const HashEncodeArgs<scalar_t>& a, int64_t n, int level) {
  HashGridCell<scalar_t> cell;
  hash_grid_cell(a.levels.level[level], a.x + 3 * n, cell);
  hash_grid_interpolate<scalar_t, F>(a.params + hash_table_offset<scalar_t, F>(a, level), cell,
                                     a.encoding + hash_encoding_offset<scalar_t, F>(a, n, level));
}

template <typename scalar_t, int F, typename Add>
NG_HD void hash_encode_backward_params_point_level(const HashEncodeArgs<scalar_t>& a, int64_t n, int level, Add add) {
  const scalar_t* grad = a.grad_encoding + hash_encoding_offset<scalar_t, F>(a, n, level);
  HashGridCell<scalar_t> cell;
  hash_grid_cell(a.levels.level[level], a.x + 3 * n, cell);
  hash_grid_scatter<scalar_t, F>(a.grad_params + hash_table_offset<scalar_t, F>(a, level), cell, grad, add);
}

template <typename scalar_t, int F>
NG_HD void hash_encode_backward_x_point(const HashEncodeArgs<scalar_t>& a, int64_t n) {
  scalar_t gx[3] = {scalar_t(0), scalar_t(0), scalar_t(0)};
  for (int level = 0; level < a.levels.n_levels; ++level) {
    HashGridCell<scalar_t> cell;
    hash_grid_cell(a.levels.level[level], a.x + 3 * n, cell);
    hash_grid_dx<scalar_t, F>(a.params + hash_table_offset<scalar_t, F>(a, level), cell,
                              a.grad_encoding + hash_encoding_offset<scalar_t, F>(a, n, level),
                              static_cast<scalar_t>(a.levels.level[level].scale), gx);
  }
  for (int d = 0; d < 3; ++d) a.grad_x[3 * n + d] = gx[d];
}

// Launchers: raw pointers. forward writes encoding; backward_params writes every entry
// of grad_params (zeros where no point landed) deterministically; backward_x writes
// grad_x. stream is a cudaStream_t.
void hash_encode_forward_cpu(const HashEncodeArgs<float>& args);
void hash_encode_forward_cpu(const HashEncodeArgs<double>& args);
void hash_encode_backward_params_cpu(const HashEncodeArgs<float>& args);
void hash_encode_backward_params_cpu(const HashEncodeArgs<double>& args);
void hash_encode_backward_x_cpu(const HashEncodeArgs<float>& args);
void hash_encode_backward_x_cpu(const HashEncodeArgs<double>& args);
void hash_encode_backward_cpu(const HashEncodeArgs<float>& args);  // grad_params and grad_x together
void hash_encode_backward_cpu(const HashEncodeArgs<double>& args);
void hash_encode_forward_cuda(const HashEncodeArgs<float>& args, void* stream);
void hash_encode_forward_cuda(const HashEncodeArgs<double>& args, void* stream);
void hash_encode_backward_params_cuda(const HashEncodeArgs<float>& args, void* stream);
void hash_encode_backward_params_cuda(const HashEncodeArgs<double>& args, void* stream);
void hash_encode_backward_x_cuda(const HashEncodeArgs<float>& args, void* stream);
void hash_encode_backward_x_cuda(const HashEncodeArgs<double>& args, void* stream);
void hash_encode_backward_cuda(const HashEncodeArgs<float>& args, void* stream);
void hash_encode_backward_cuda(const HashEncodeArgs<double>& args, void* stream);

}  // namespace nerfgen
