// Volume-rendering compositing over packed samples (nerfacc layout), forward and
// backward for one ray. Shared by the CPU loops (cpu/composite.cpp) and the CUDA
// kernels (cuda/composite.cu): one definition, so both back ends agree bit for bit in
// their arithmetic order.
//
// For ray r, samples i in offsets[r]..offsets[r+1] (sorted by t):
//   tau_i   = sigma_i * (t_end_i - t_start_i)
//   alpha_i = 1 - exp(-tau_i)
//   T_i     = prod_{j<i} (1 - alpha_j)              (transmittance before sample i)
//   w_i     = T_i * alpha_i  if T_i >= threshold, else 0   (early termination)
//   values  = sum_i w_i * v_i,  range = sum_i w_i * (t_start_i + t_end_i) / 2,
//   opacity = sum_i w_i.
// T_i is reported for every sample, terminated ones included.
#pragma once
#include "common.h"

#if !defined(__CUDACC__)
#include <cmath>
#endif

namespace nerfgen {

namespace composite_detail {
NG_HD float exp_(float x) { return expf(x); }
NG_HD double exp_(double x) { return exp(x); }
}  // namespace composite_detail

template <typename scalar_t>
struct CompositeForwardArgs {
  // inputs
  const scalar_t* sigmas;    // [S]
  const scalar_t* values;    // [S, n_channels]
  const scalar_t* t_starts;  // [S]
  const scalar_t* t_ends;    // [S]
  const int64_t* offsets;    // [n_rays + 1]
  int64_t n_rays;
  int64_t n_channels;
  scalar_t threshold;  // transmittance below which a ray stops accumulating
  // outputs
  scalar_t* weights;        // [S]
  scalar_t* transmittance;  // [S]
  scalar_t* out_values;     // [n_rays, n_channels]
  scalar_t* out_range;      // [n_rays]
  scalar_t* out_opacity;    // [n_rays]
};

template <typename scalar_t>
struct CompositeBackwardArgs {
  // gradients of the forward outputs
  const scalar_t* grad_weights;  // [S], or null when the weights got no gradient (zeros)
  const scalar_t* grad_values;   // [n_rays, n_channels]
  const scalar_t* grad_range;    // [n_rays]
  const scalar_t* grad_opacity;  // [n_rays]
  // forward inputs and saved outputs
  const scalar_t* sigmas;
  const scalar_t* values;
  const scalar_t* t_starts;
  const scalar_t* t_ends;
  const int64_t* offsets;
  const scalar_t* weights;
  const scalar_t* transmittance;
  int64_t n_rays;
  int64_t n_channels;
  scalar_t threshold;
  // outputs (every entry written)
  scalar_t* grad_sigmas;  // [S]
  scalar_t* grad_values_in;  // [S, n_channels]
};

// exp(-tau_i) = 1 - alpha_i of sample i, the forward's only transcendental.
struct CompositeSurvive {
  template <typename scalar_t>
  NG_HD scalar_t operator()(const CompositeForwardArgs<scalar_t>& a, int64_t i) const {
    return composite_detail::exp_(-(a.sigmas[i] * (a.t_ends[i] - a.t_starts[i])));
  }
};

// kChannels > 0 fixes the channel count at compile time (unrolled loops); 0 reads it
// from the arguments. `survive(a, i)` returns CompositeSurvive's value for sample i: the
// CPU launcher passes the values precomputed in a batch (an out-of-line expf call inside
// this loop made the compiler spill and reload every running sum around it).
template <typename scalar_t, int kChannels = 0, typename Survive = CompositeSurvive>
NG_HD void composite_forward_ray(const CompositeForwardArgs<scalar_t>& a, int64_t ray, Survive survive = {}) {
  const int64_t begin = a.offsets[ray], end = a.offsets[ray + 1];
  const int64_t C = kChannels > 0 ? kChannels : a.n_channels;
  scalar_t* out_v = a.out_values + ray * C;
  // With C fixed at compile time the colour sums live in registers and are stored once;
  // summed in out_v they were a load-add-store chain through memory on every sample (the
  // compiler cannot keep them in registers: out_v might alias the per-sample outputs).
  // Same additions in the same order either way.
  scalar_t acc_local[kChannels > 0 ? kChannels : 1];
  scalar_t* acc = kChannels > 0 ? acc_local : out_v;
  for (int64_t c = 0; c < C; ++c) acc[c] = scalar_t(0);
  scalar_t T = scalar_t(1), range = scalar_t(0), opacity = scalar_t(0);
  int64_t i = begin;
  for (; i < end && T >= a.threshold; ++i) {
    const scalar_t s = survive(a, i);
    const scalar_t w = T * (scalar_t(1) - s);
    a.transmittance[i] = T;
    a.weights[i] = w;
    const scalar_t* v = a.values + i * C;
    for (int64_t c = 0; c < C; ++c) acc[c] += w * v[c];
    range += w * scalar_t(0.5) * (a.t_starts[i] + a.t_ends[i]);
    opacity += w;
    T *= s;
  }
  // Terminated samples: no weight, but their transmittance is still reported.
  for (; i < end; ++i) {
    a.transmittance[i] = T;
    a.weights[i] = scalar_t(0);
    T *= survive(a, i);
  }
  if (kChannels > 0) {
    for (int64_t c = 0; c < C; ++c) out_v[c] = acc[c];
  }
  a.out_range[ray] = range;
  a.out_opacity[ray] = opacity;
}

// Reverse accumulation over the ray (O(samples)). With g_i = dL/dw_i in total
// (grad_weights_i + grad_values . v_i + grad_range * mid_i + grad_opacity) and
// w_i = T_i - T_{i+1}:  dL/dtau_k = g_k * T_{k+1} - sum_{i>k, active} g_i * w_i.
// Walking the ray backwards keeps that suffix sum as a running total, so there is no
// cancellation of a large prefix against a large total.
// kChannels > 0 fixes the channel count at compile time (unrolled loops); 0 reads it
// from the arguments.
template <typename scalar_t, int kChannels = 0>
NG_HD void composite_backward_ray(const CompositeBackwardArgs<scalar_t>& a, int64_t ray) {
  const int64_t begin = a.offsets[ray], end = a.offsets[ray + 1];
  const int64_t C = kChannels > 0 ? kChannels : a.n_channels;
  const scalar_t* gv = a.grad_values + ray * C;
  const scalar_t g_range = a.grad_range[ray], g_opacity = a.grad_opacity[ray];
  // Active samples form a prefix of the ray (T never increases).
  int64_t active_end = begin;
  while (active_end < end && a.transmittance[active_end] >= a.threshold) ++active_end;
  for (int64_t i = active_end; i < end; ++i) {
    a.grad_sigmas[i] = scalar_t(0);
    for (int64_t c = 0; c < C; ++c) a.grad_values_in[i * C + c] = scalar_t(0);
  }
  scalar_t suffix = scalar_t(0);  // sum over later active samples of g_i * w_i
  for (int64_t i = active_end - 1; i >= begin; --i) {
    const scalar_t w = a.weights[i];
    const scalar_t* v = a.values + i * C;
    scalar_t* gvi = a.grad_values_in + i * C;
    scalar_t g = (a.grad_weights ? a.grad_weights[i] : scalar_t(0)) + g_range * scalar_t(0.5) * (a.t_starts[i] + a.t_ends[i]) + g_opacity;
    for (int64_t c = 0; c < C; ++c) {
      g += gv[c] * v[c];
      gvi[c] = w * gv[c];
    }
    const scalar_t dt = a.t_ends[i] - a.t_starts[i];
    // T after this sample: the forward pass stored it as the next sample's transmittance
    // (same product, so bit-identical); only a ray's last sample needs the exp again.
    const scalar_t T_next = i + 1 < end ? a.transmittance[i + 1]
                                        : a.transmittance[i] * composite_detail::exp_(-a.sigmas[i] * dt);
    a.grad_sigmas[i] = dt * (g * T_next - suffix);
    suffix += g * w;
  }
}

// Launchers: raw pointers, every output fully written. stream is a cudaStream_t.
void composite_forward_cpu(const CompositeForwardArgs<float>& args);
void composite_forward_cpu(const CompositeForwardArgs<double>& args);
void composite_backward_cpu(const CompositeBackwardArgs<float>& args);
void composite_backward_cpu(const CompositeBackwardArgs<double>& args);
void composite_forward_cuda(const CompositeForwardArgs<float>& args, void* stream);
void composite_forward_cuda(const CompositeForwardArgs<double>& args, void* stream);
void composite_backward_cuda(const CompositeBackwardArgs<float>& args, void* stream);
void composite_backward_cuda(const CompositeBackwardArgs<double>& args, void* stream);

}  // namespace nerfgen
