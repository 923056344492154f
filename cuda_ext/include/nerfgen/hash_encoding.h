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

NG_HD uint32_t hash_grid_index(const HashGridLevel& lv, uint32_t gx, uint32_t gy, uint32_t gz) {
  uint32_t index;
  if (lv.dense) {
    index = gx + gy * lv.resolution + gz * (lv.resolution * lv.resolution);
  } else {
    index = (gx * 1u) ^ (gy * 2654435761u) ^ (gz * 805459861u);
  }
  return index % lv.size;
}

namespace hash_detail {
NG_HD float floor_(float x) { return floorf(x); }
NG_HD double floor_(double x) { return floor(x); }
}  // namespace hash_detail

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
  uint32_t g[3];
  for (int d = 0; d < 3; ++d) {
    const scalar_t pos = xyz[d] * static_cast<scalar_t>(lv.scale) + scalar_t(0.5);
    const scalar_t fl = hash_detail::floor_(pos);
    g[d] = static_cast<uint32_t>(static_cast<int32_t>(fl));
    cell.frac[d] = pos - fl;
  }
  for (int c = 0; c < 8; ++c) {
    scalar_t w = scalar_t(1);
    for (int d = 0; d < 3; ++d) w *= (c >> d & 1) ? cell.frac[d] : scalar_t(1) - cell.frac[d];
    cell.weight[c] = w;
    cell.index[c] = hash_grid_index(lv, g[0] + (c & 1), g[1] + (c >> 1 & 1), g[2] + (c >> 2 & 1));
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

// Forward for one point at one level.
template <typename scalar_t, int F>
NG_HD void hash_encode_point_level(const HashEncodeArgs<scalar_t>& a, int64_t n, int level) {
  HashGridCell<scalar_t> cell;
  hash_grid_cell(a.levels.level[level], a.x + 3 * n, cell);
  const scalar_t* table = a.params + static_cast<int64_t>(level) * a.table_size * F;
  scalar_t acc[F];
  for (int f = 0; f < F; ++f) acc[f] = scalar_t(0);
  for (int c = 0; c < 8; ++c) {
    const scalar_t* entry = table + static_cast<int64_t>(cell.index[c]) * F;
    for (int f = 0; f < F; ++f) acc[f] += cell.weight[c] * entry[f];
  }
  scalar_t* out = a.encoding + n * (static_cast<int64_t>(a.levels.n_levels) * F) + level * F;
  for (int f = 0; f < F; ++f) out[f] = acc[f];
}

// Parameter gradient of one point at one level: scatters grad * weight into the 8
// corner entries through add(pointer, value) (plain += on CPU, atomicAdd on CUDA).
template <typename scalar_t, int F, typename Add>
NG_HD void hash_encode_backward_params_point_level(const HashEncodeArgs<scalar_t>& a, int64_t n, int level, Add add) {
  const scalar_t* g = a.grad_encoding + n * (static_cast<int64_t>(a.levels.n_levels) * F) + level * F;
  scalar_t grad[F];
  bool any = false;
  for (int f = 0; f < F; ++f) {
    grad[f] = g[f];
    any = any || grad[f] != scalar_t(0);
  }
  if (!any) return;  // e.g. points whose samples were terminated
  HashGridCell<scalar_t> cell;
  hash_grid_cell(a.levels.level[level], a.x + 3 * n, cell);
  scalar_t* table = a.grad_params + static_cast<int64_t>(level) * a.table_size * F;
  for (int c = 0; c < 8; ++c) {
    scalar_t* entry = table + static_cast<int64_t>(cell.index[c]) * F;
    for (int f = 0; f < F; ++f) add(entry + f, cell.weight[c] * grad[f]);
  }
}

// Gradient w.r.t. x of one point, all levels: d enc / d x_d = scale * sum over corners of
// d weight / d frac_d * value (piecewise constant in frac_d, as tcnn's dy_dx).
template <typename scalar_t, int F>
NG_HD void hash_encode_backward_x_point(const HashEncodeArgs<scalar_t>& a, int64_t n) {
  scalar_t gx[3] = {scalar_t(0), scalar_t(0), scalar_t(0)};
  const int L = a.levels.n_levels;
  for (int level = 0; level < L; ++level) {
    const scalar_t* g = a.grad_encoding + n * (static_cast<int64_t>(L) * F) + level * F;
    HashGridCell<scalar_t> cell;
    hash_grid_cell(a.levels.level[level], a.x + 3 * n, cell);
    const scalar_t* table = a.params + static_cast<int64_t>(level) * a.table_size * F;
    const scalar_t scale = static_cast<scalar_t>(a.levels.level[level].scale);
    for (int c = 0; c < 8; ++c) {
      const scalar_t* entry = table + static_cast<int64_t>(cell.index[c]) * F;
      scalar_t dot = scalar_t(0);  // grad . value at this corner
      for (int f = 0; f < F; ++f) dot += g[f] * entry[f];
      for (int d = 0; d < 3; ++d) {
        scalar_t dw = scale;  // d weight_c / d x_d
        for (int e = 0; e < 3; ++e) {
          const bool upper = (c >> e) & 1;
          if (e == d) dw *= upper ? scalar_t(1) : scalar_t(-1);
          else dw *= upper ? cell.frac[e] : scalar_t(1) - cell.frac[e];
        }
        gx[d] += dw * dot;
      }
    }
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
void hash_encode_forward_cuda(const HashEncodeArgs<float>& args, void* stream);
void hash_encode_forward_cuda(const HashEncodeArgs<double>& args, void* stream);
void hash_encode_backward_params_cuda(const HashEncodeArgs<float>& args, void* stream);
void hash_encode_backward_params_cuda(const HashEncodeArgs<double>& args, void* stream);
void hash_encode_backward_x_cuda(const HashEncodeArgs<float>& args, void* stream);
void hash_encode_backward_x_cuda(const HashEncodeArgs<double>& args, void* stream);

}  // namespace nerfgen
