// CPU launchers for compositing: one ray per iteration, rays spread over OpenMP threads.
// Rays differ in sample count, so chunks are handed out dynamically.
#include <vector>

#include "nerfgen/composite.h"

namespace nerfgen {

// Each ray's exp(-tau) are computed first in a tight loop into a per-thread buffer, then
// the ray loop reads them: with the expf call inside the ray loop every running sum was
// spilled to the stack and reloaded around it (the calling convention clobbers all vector
// registers). Same function, same values.
template <int kChannels, typename scalar_t>
static void forward_c(const CompositeForwardArgs<scalar_t>& args) {
#pragma omp parallel
  {
    std::vector<scalar_t> survive;
#pragma omp for schedule(dynamic, 256)
    for (int64_t ray = 0; ray < args.n_rays; ++ray) {
      const int64_t begin = args.offsets[ray], n = args.offsets[ray + 1] - begin;
      if (static_cast<int64_t>(survive.size()) < n) survive.resize(n);
      scalar_t* s = survive.data();
      for (int64_t i = 0; i < n; ++i) s[i] = CompositeSurvive{}(args, begin + i);
      composite_forward_ray<scalar_t, kChannels>(
          args, ray, [s, begin](const CompositeForwardArgs<scalar_t>&, int64_t i) { return s[i - begin]; });
    }
  }
}

// Asks for the cache lines of elements [begin, end) of an array of `width` scalars per
// sample (0: read, 1: write).
template <int kWrite, typename scalar_t>
static void prefetch_range(const scalar_t* base, int64_t begin, int64_t end, int64_t width) {
  const char* p = reinterpret_cast<const char*>(base + begin * width);
  const char* const q = reinterpret_cast<const char*>(base + end * width);
  for (; p < q; p += 64) __builtin_prefetch(p, kWrite);
}

// The backward walks each ray's samples last to first, while consecutive rays follow one
// another forwards: the hardware prefetchers lose track of that zig-zag, and the loop
// stalled on loads (the weights load was ~35% of its samples). Before each ray we fetch
// the next ray's samples of every array the ray loop touches, so they arrive while this
// ray is computed (rgb benchmark backward, one thread: 42 -> 27 ms).
template <int kChannels, typename scalar_t>
static void backward_c(const CompositeBackwardArgs<scalar_t>& args) {
  const int64_t C = kChannels > 0 ? kChannels : args.n_channels;
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t ray = 0; ray < args.n_rays; ++ray) {
    if (ray + 1 < args.n_rays) {
      const int64_t b = args.offsets[ray + 1], e = args.offsets[ray + 2];
      prefetch_range<0>(args.weights, b, e, 1);
      prefetch_range<0>(args.transmittance, b, e + 1, 1);
      if (args.grad_weights) prefetch_range<0>(args.grad_weights, b, e, 1);
      prefetch_range<0>(args.t_starts, b, e, 1);
      prefetch_range<0>(args.t_ends, b, e, 1);
      prefetch_range<0>(args.values, b, e, C);
      prefetch_range<1>(args.grad_sigmas, b, e, 1);
      prefetch_range<1>(args.grad_values_in, b, e, C);
      if (e > b) __builtin_prefetch(args.sigmas + e - 1);  // the last sample's exp
    }
    composite_backward_ray<scalar_t, kChannels>(args, ray);
  }
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
