// Checks the CPU hash-encoding launchers (cpu/hash_encoding.cpp, vector code) bit for bit
// against the header's per-point functions run on the host one point at a time: the code
// the CUDA kernels run. Built for several -march targets by tests/test_cpu_isa.py, so every
// vector width GCC lowers the lanes to is covered. Torch-free.
//
// usage: hash_driver   (prints "ok <checks>" and exits 0, or names the first mismatch, exit 1)
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

#include "nerfgen/hash_encoding.h"

using namespace nerfgen;

namespace {

uint64_t rng_state = 0x9E3779B97F4A7C15ull;
double uniform() {  // [0, 1), deterministic (splitmix64)
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return static_cast<double>((z ^ (z >> 31)) >> 11) * 0x1.0p-53;
}

int failures = 0, checks = 0;

template <typename scalar_t>
void expect_equal(const char* what, int features, const std::vector<scalar_t>& got, const std::vector<scalar_t>& want) {
  ++checks;
  for (size_t i = 0; i < want.size(); ++i) {
    if (std::memcmp(&got[i], &want[i], sizeof(scalar_t)) != 0) {
      if (failures++ == 0)
        std::printf("%s (%s, F=%d): element %zu is %.9g, the per-point code gives %.9g\n", what,
                    sizeof(scalar_t) == 4 ? "float32" : "float64", features, i, static_cast<double>(got[i]),
                    static_cast<double>(want[i]));
      return;
    }
  }
}

template <typename scalar_t, int F>
void check(int64_t n_points) {
  // Levels: dense with a non-power-of-two size, dense filling a power of two exactly
  // (res 16: 4096 entries), and hashed into the 2^12 table.
  const uint32_t table_size = 1u << 12;
  const float scales[] = {6.0f, 9.2f, 15.0f, 40.3f, 301.7f};
  HashEncodeArgs<scalar_t> a{};
  a.n_points = n_points;
  a.table_size = table_size;
  a.n_features = F;
  a.levels.n_levels = 5;
  for (int l = 0; l < 5; ++l) a.levels.level[l] = make_hash_grid_level(scales[l], table_size);
  const int L = a.levels.n_levels;
  std::vector<scalar_t> x(3 * n_points), params(static_cast<size_t>(L) * table_size * F);
  std::vector<scalar_t> grad(n_points * L * F);
  for (int64_t i = 0; i < 3 * n_points; ++i) {
    // Mostly inside [0, 1]; a few on the faces, at exact vertices, and outside (the dense
    // levels' indices wrap there).
    const double u = uniform(), v = uniform();
    x[i] = static_cast<scalar_t>(v < 0.05 ? 0.0 : v < 0.1 ? 1.0 : v < 0.15 ? std::floor(u * 7) / 6 : v < 0.2 ? u * 3 - 1 : u);
  }
  for (auto& p : params) p = static_cast<scalar_t>(uniform() * 2 - 1);
  for (auto& g : grad) g = static_cast<scalar_t>(uniform() * 2 - 1);
  a.x = x.data();
  a.params = params.data();
  a.grad_encoding = grad.data();

  // The launchers.
  std::vector<scalar_t> encoding(n_points * L * F), grad_params(params.size()), grad_x(3 * n_points);
  std::vector<scalar_t> both_params(params.size()), both_x(3 * n_points);
  a.encoding = encoding.data();
  hash_encode_forward_cpu(a);
  a.grad_params = grad_params.data();
  hash_encode_backward_params_cpu(a);
  a.grad_x = grad_x.data();
  hash_encode_backward_x_cpu(a);
  a.grad_params = both_params.data();
  a.grad_x = both_x.data();
  hash_encode_backward_cpu(a);

  // The per-point functions, points in order (the CPU's order of additions per entry).
  std::vector<scalar_t> want_encoding(encoding.size()), want_params(params.size(), scalar_t(0));
  std::vector<scalar_t> want_x(3 * n_points), want_both_x(3 * n_points);
  a.encoding = want_encoding.data();
  a.grad_params = want_params.data();
  a.grad_x = want_x.data();
  const auto add = [](scalar_t* p, scalar_t v) { *p += v; };
  for (int level = 0; level < L; ++level) {
    for (int64_t n = 0; n < n_points; ++n) {
      hash_encode_point_level<scalar_t, F>(a, n, level);
      hash_encode_backward_params_point_level<scalar_t, F>(a, n, level, add);
    }
  }
  for (int64_t n = 0; n < n_points; ++n) {
    hash_encode_backward_x_point<scalar_t, F>(a, n);
    // backward (both) rounds each level's position gradient before summing the levels.
    scalar_t sum[3] = {0, 0, 0};
    for (int level = 0; level < L; ++level) {
      HashGridCell<scalar_t> cell;
      hash_grid_cell(a.levels.level[level], a.x + 3 * n, cell);
      scalar_t gx[3] = {0, 0, 0};
      hash_grid_dx<scalar_t, F>(a.params + hash_table_offset<scalar_t, F>(a, level), cell,
                                a.grad_encoding + hash_encoding_offset<scalar_t, F>(a, n, level),
                                static_cast<scalar_t>(a.levels.level[level].scale), gx);
      for (int d = 0; d < 3; ++d) sum[d] += gx[d];
    }
    for (int d = 0; d < 3; ++d) want_both_x[3 * n + d] = sum[d];
  }
  expect_equal("forward", F, encoding, want_encoding);
  expect_equal("backward_params", F, grad_params, want_params);
  expect_equal("backward_x", F, grad_x, want_x);
  expect_equal("backward (params)", F, both_params, want_params);
  expect_equal("backward (x)", F, both_x, want_both_x);
}

template <typename scalar_t>
void check_all_features() {
  for (int64_t n : {int64_t(1), int64_t(37), int64_t(5000)}) {
    check<scalar_t, 1>(n);
    check<scalar_t, 2>(n);
    check<scalar_t, 4>(n);
    check<scalar_t, 8>(n);
  }
}

}  // namespace

int main() {
  check_all_features<float>();
  check_all_features<double>();
  if (failures) return 1;
  std::printf("ok %d\n", checks);
  return 0;
}
