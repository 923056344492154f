// CPU launchers for the hash encoding.
//  forward, backward_x: parallel over points (each point's outputs are its own).
//  backward_params: parallel over levels, without atomics: one thread owns a level's
//  table slice and adds its points in order, so the result is deterministic and
//  independent of the thread count.
#include <cstring>

#include "nerfgen/hash_encoding.h"

namespace nerfgen {

namespace {

// Points per scheduling chunk: large enough to amortise OpenMP, small enough to balance.
constexpr int64_t kChunk = 1024;

template <typename scalar_t, int F>
void forward_f(const HashEncodeArgs<scalar_t>& a) {
  const int L = a.levels.n_levels;
#pragma omp parallel for schedule(static)
  for (int64_t begin = 0; begin < a.n_points; begin += kChunk) {
    const int64_t end = begin + kChunk < a.n_points ? begin + kChunk : a.n_points;
    // Level-outer within a chunk keeps one level's table region hot in cache.
    for (int level = 0; level < L; ++level)
      for (int64_t n = begin; n < end; ++n) hash_encode_point_level<scalar_t, F>(a, n, level);
  }
}

template <typename scalar_t, int F>
void backward_params_f(const HashEncodeArgs<scalar_t>& a) {
  const int L = a.levels.n_levels;
  const auto add = [](scalar_t* p, scalar_t v) { *p += v; };
#pragma omp parallel for schedule(dynamic, 1)
  for (int level = 0; level < L; ++level) {
    scalar_t* slice = a.grad_params + static_cast<int64_t>(level) * a.table_size * F;
    std::memset(slice, 0, sizeof(scalar_t) * a.table_size * F);
    for (int64_t n = 0; n < a.n_points; ++n) hash_encode_backward_params_point_level<scalar_t, F>(a, n, level, add);
  }
}

template <typename scalar_t, int F>
void backward_x_f(const HashEncodeArgs<scalar_t>& a) {
#pragma omp parallel for schedule(static)
  for (int64_t n = 0; n < a.n_points; ++n) hash_encode_backward_x_point<scalar_t, F>(a, n);
}

// F is a template parameter so the per-feature loops unroll; tcnn supports the same set.
#define NG_DISPATCH_F(F_RUNTIME, FN, ARGS)                        \
  switch (F_RUNTIME) {                                             \
    case 1: FN<scalar_t, 1>(ARGS); break;                          \
    case 2: FN<scalar_t, 2>(ARGS); break;                          \
    case 4: FN<scalar_t, 4>(ARGS); break;                          \
    case 8: FN<scalar_t, 8>(ARGS); break;                          \
    default: break; /* rejected by the binding */                  \
  }

template <typename scalar_t>
void forward(const HashEncodeArgs<scalar_t>& a) { NG_DISPATCH_F(a.n_features, forward_f, a) }
template <typename scalar_t>
void backward_params(const HashEncodeArgs<scalar_t>& a) { NG_DISPATCH_F(a.n_features, backward_params_f, a) }
template <typename scalar_t>
void backward_x(const HashEncodeArgs<scalar_t>& a) { NG_DISPATCH_F(a.n_features, backward_x_f, a) }

}  // namespace

void hash_encode_forward_cpu(const HashEncodeArgs<float>& a) { forward(a); }
void hash_encode_forward_cpu(const HashEncodeArgs<double>& a) { forward(a); }
void hash_encode_backward_params_cpu(const HashEncodeArgs<float>& a) { backward_params(a); }
void hash_encode_backward_params_cpu(const HashEncodeArgs<double>& a) { backward_params(a); }
void hash_encode_backward_x_cpu(const HashEncodeArgs<float>& a) { backward_x(a); }
void hash_encode_backward_x_cpu(const HashEncodeArgs<double>& a) { backward_x(a); }

}  // namespace nerfgen
