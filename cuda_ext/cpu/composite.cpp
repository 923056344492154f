// CPU launchers for compositing: one ray per iteration, rays spread over OpenMP threads.
// Rays differ in sample count, so chunks are handed out dynamically.
#include "nerfgen/composite.h"

namespace nerfgen {

template <int kChannels, typename scalar_t>
static void forward_c(const CompositeForwardArgs<scalar_t>& args) {
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t ray = 0; ray < args.n_rays; ++ray) composite_forward_ray<scalar_t, kChannels>(args, ray);
}

template <int kChannels, typename scalar_t>
static void backward_c(const CompositeBackwardArgs<scalar_t>& args) {
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t ray = 0; ray < args.n_rays; ++ray) composite_backward_ray<scalar_t, kChannels>(args, ray);
}

// Common channel counts (rgb, rgb + alpha-like extras) get unrolled code.
#define NG_DISPATCH_CHANNELS(FN, ARGS)         \
  switch ((ARGS).n_channels) {                  \
    case 1: FN<1>(ARGS); break;                 \
    case 3: FN<3>(ARGS); break;                 \
    case 4: FN<4>(ARGS); break;                 \
    default: FN<0>(ARGS); break;                \
  }

template <typename scalar_t>
static void forward_impl(const CompositeForwardArgs<scalar_t>& args) { NG_DISPATCH_CHANNELS(forward_c, args) }

template <typename scalar_t>
static void backward_impl(const CompositeBackwardArgs<scalar_t>& args) { NG_DISPATCH_CHANNELS(backward_c, args) }

void composite_forward_cpu(const CompositeForwardArgs<float>& args) { forward_impl(args); }
void composite_forward_cpu(const CompositeForwardArgs<double>& args) { forward_impl(args); }
void composite_backward_cpu(const CompositeBackwardArgs<float>& args) { backward_impl(args); }
void composite_backward_cpu(const CompositeBackwardArgs<double>& args) { backward_impl(args); }

}  // namespace nerfgen
