// CUDA launchers for the hash encoding: one thread per (point, level) for forward and
// parameter backward (blockIdx.y is the level, so a warp shares one level's table, as in
// tcnn), one thread per point for the x gradient. The parameter gradient uses atomicAdd,
// as tiny-cuda-nn does (order of additions, hence the last bits, may vary run to run).
#include <cuda_runtime.h>

#include "nerfgen/hash_encoding.h"

namespace nerfgen {

namespace {
constexpr int kThreads = 256;

struct AtomicAdd {
  template <typename scalar_t>
  __device__ void operator()(scalar_t* p, scalar_t v) const { atomicAdd(p, v); }
};

template <typename scalar_t, int F>
__global__ void forward_kernel(const HashEncodeArgs<scalar_t> a) {
  const int64_t n = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (n < a.n_points) hash_encode_point_level<scalar_t, F>(a, n, blockIdx.y);
}

template <typename scalar_t, int F>
__global__ void backward_params_kernel(const HashEncodeArgs<scalar_t> a) {
  const int64_t n = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (n < a.n_points) hash_encode_backward_params_point_level<scalar_t, F>(a, n, blockIdx.y, AtomicAdd{});
}

template <typename scalar_t, int F>
__global__ void backward_x_kernel(const HashEncodeArgs<scalar_t> a) {
  const int64_t n = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (n < a.n_points) hash_encode_backward_x_point<scalar_t, F>(a, n);
}

dim3 grid_for(int64_t n_points, int n_levels) {
  return dim3(static_cast<unsigned>((n_points + kThreads - 1) / kThreads), static_cast<unsigned>(n_levels));
}

template <typename scalar_t, int F>
void launch_forward(const HashEncodeArgs<scalar_t>& a, cudaStream_t s) {
  forward_kernel<scalar_t, F><<<grid_for(a.n_points, a.levels.n_levels), kThreads, 0, s>>>(a);
}

template <typename scalar_t, int F>
void launch_backward_params(const HashEncodeArgs<scalar_t>& a, cudaStream_t s) {
  const size_t bytes = sizeof(scalar_t) * size_t(a.levels.n_levels) * a.table_size * F;
  cudaMemsetAsync(a.grad_params, 0, bytes, s);
  backward_params_kernel<scalar_t, F><<<grid_for(a.n_points, a.levels.n_levels), kThreads, 0, s>>>(a);
}

template <typename scalar_t, int F>
void launch_backward_x(const HashEncodeArgs<scalar_t>& a, cudaStream_t s) {
  backward_x_kernel<scalar_t, F><<<grid_for(a.n_points, 1), kThreads, 0, s>>>(a);
}

#define NG_DISPATCH_F(F_RUNTIME, FN, ARGS, STREAM)       \
  switch (F_RUNTIME) {                                    \
    case 1: FN<scalar_t, 1>(ARGS, STREAM); break;         \
    case 2: FN<scalar_t, 2>(ARGS, STREAM); break;         \
    case 4: FN<scalar_t, 4>(ARGS, STREAM); break;         \
    case 8: FN<scalar_t, 8>(ARGS, STREAM); break;         \
    default: break; /* rejected by the binding */         \
  }

template <typename scalar_t>
void forward(const HashEncodeArgs<scalar_t>& a, void* stream) {
  if (a.n_points == 0 || a.levels.n_levels == 0) return;
  NG_DISPATCH_F(a.n_features, launch_forward, a, static_cast<cudaStream_t>(stream))
}
template <typename scalar_t>
void backward_params(const HashEncodeArgs<scalar_t>& a, void* stream) {
  if (a.levels.n_levels == 0) return;
  if (a.n_points == 0) {
    cudaMemsetAsync(a.grad_params, 0, sizeof(scalar_t) * size_t(a.levels.n_levels) * a.table_size * a.n_features,
                    static_cast<cudaStream_t>(stream));
    return;
  }
  NG_DISPATCH_F(a.n_features, launch_backward_params, a, static_cast<cudaStream_t>(stream))
}
template <typename scalar_t>
void backward_x(const HashEncodeArgs<scalar_t>& a, void* stream) {
  if (a.n_points == 0) return;
  NG_DISPATCH_F(a.n_features, launch_backward_x, a, static_cast<cudaStream_t>(stream))
}
}  // namespace

void hash_encode_forward_cuda(const HashEncodeArgs<float>& a, void* s) { forward(a, s); }
void hash_encode_forward_cuda(const HashEncodeArgs<double>& a, void* s) { forward(a, s); }
void hash_encode_backward_params_cuda(const HashEncodeArgs<float>& a, void* s) { backward_params(a, s); }
void hash_encode_backward_params_cuda(const HashEncodeArgs<double>& a, void* s) { backward_params(a, s); }
void hash_encode_backward_x_cuda(const HashEncodeArgs<float>& a, void* s) { backward_x(a, s); }
void hash_encode_backward_x_cuda(const HashEncodeArgs<double>& a, void* s) { backward_x(a, s); }
// Both gradients: the two kernels in turn (atomics make a fused pass no cheaper on a GPU).
void hash_encode_backward_cuda(const HashEncodeArgs<float>& a, void* s) {
  backward_params(a, s);
  backward_x(a, s);
}
void hash_encode_backward_cuda(const HashEncodeArgs<double>& a, void* s) {
  backward_params(a, s);
  backward_x(a, s);
}

}  // namespace nerfgen
