// CPU launchers for compositing: one ray per iteration, rays spread over OpenMP threads.
// Rays differ in sample count, so chunks are handed out dynamically.
#include "nerfgen/composite.h"

namespace nerfgen {

template <typename scalar_t>
static void forward_impl(const CompositeForwardArgs<scalar_t>& args) {
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t ray = 0; ray < args.n_rays; ++ray) composite_forward_ray(args, ray);
}

template <typename scalar_t>
static void backward_impl(const CompositeBackwardArgs<scalar_t>& args) {
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t ray = 0; ray < args.n_rays; ++ray) composite_backward_ray(args, ray);
}

void composite_forward_cpu(const CompositeForwardArgs<float>& args) { forward_impl(args); }
void composite_forward_cpu(const CompositeForwardArgs<double>& args) { forward_impl(args); }
void composite_backward_cpu(const CompositeBackwardArgs<float>& args) { backward_impl(args); }
void composite_backward_cpu(const CompositeBackwardArgs<double>& args) { backward_impl(args); }

}  // namespace nerfgen
