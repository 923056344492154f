// CUDA launchers for compositing: one thread per ray, running the same per-ray code as
// the CPU path (include/nerfgen/composite.h). No torch headers: raw pointers only.
#include <cuda_runtime.h>

#include "nerfgen/composite.h"

namespace nerfgen {

namespace {
constexpr int kThreads = 256;

template <typename scalar_t>
__global__ void composite_forward_kernel(const CompositeForwardArgs<scalar_t> args) {
  const int64_t ray = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (ray < args.n_rays) composite_forward_ray(args, ray);
}

template <typename scalar_t>
__global__ void composite_backward_kernel(const CompositeBackwardArgs<scalar_t> args) {
  const int64_t ray = int64_t(blockIdx.x) * blockDim.x + threadIdx.x;
  if (ray < args.n_rays) composite_backward_ray(args, ray);
}

int64_t n_blocks(int64_t n) { return (n + kThreads - 1) / kThreads; }

template <typename scalar_t>
void forward_impl(const CompositeForwardArgs<scalar_t>& args, void* stream) {
  if (args.n_rays == 0) return;
  composite_forward_kernel<<<n_blocks(args.n_rays), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(args);
}

template <typename scalar_t>
void backward_impl(const CompositeBackwardArgs<scalar_t>& args, void* stream) {
  if (args.n_rays == 0) return;
  composite_backward_kernel<<<n_blocks(args.n_rays), kThreads, 0, static_cast<cudaStream_t>(stream)>>>(args);
}
}  // namespace

void composite_forward_cuda(const CompositeForwardArgs<float>& args, void* stream) { forward_impl(args, stream); }
void composite_forward_cuda(const CompositeForwardArgs<double>& args, void* stream) { forward_impl(args, stream); }
void composite_backward_cuda(const CompositeBackwardArgs<float>& args, void* stream) { backward_impl(args, stream); }
void composite_backward_cuda(const CompositeBackwardArgs<double>& args, void* stream) { backward_impl(args, stream); }

}  // namespace nerfgen
