// Torch bindings for compositing: checks, output allocation, dispatch to the raw-pointer
// launchers in cpu/ and cuda/. Autograd is attached in nerfgen/ops/composite.py.
#include "common.h"
#include "nerfgen/composite.h"

#ifdef NERFGEN_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#endif

#include <tuple>
#include <vector>

namespace {

using at::Tensor;

// Validates the packed-sample inputs shared by forward and backward.
void check_packed(const Tensor& sigmas, const Tensor& values, const Tensor& t_starts, const Tensor& t_ends,
                  const Tensor& offsets) {
  const auto dt = sigmas.scalar_type();
  TORCH_CHECK(dt == at::kFloat || dt == at::kDouble, "composite: sigmas must be float32 or float64, got ", dt);
  NG_CHECK_INPUT(sigmas, dt);
  NG_CHECK_INPUT(values, dt);
  NG_CHECK_INPUT(t_starts, dt);
  NG_CHECK_INPUT(t_ends, dt);
  NG_CHECK_INPUT(offsets, at::kLong);
  TORCH_CHECK(sigmas.dim() == 1, "composite: sigmas must be [S], got ", sigmas.sizes());
  const int64_t S = sigmas.size(0);
  TORCH_CHECK(values.dim() == 2 && values.size(0) == S, "composite: values must be [S, C] with S=", S, ", got ",
              values.sizes());
  TORCH_CHECK(t_starts.sizes() == sigmas.sizes() && t_ends.sizes() == sigmas.sizes(),
              "composite: t_starts and t_ends must be [S] with S=", S);
  TORCH_CHECK(offsets.dim() == 1 && offsets.size(0) >= 1, "composite: offsets must be [n_rays + 1]");
  for (const Tensor* t : {&values, &t_starts, &t_ends, &offsets})
    TORCH_CHECK(t->device() == sigmas.device(), "composite: all inputs must be on ", sigmas.device());
  if (offsets.is_cpu()) {
    // The kernels index samples through offsets: refuse anything that could read out of
    // bounds. (Skipped on CUDA, where it would cost a device sync.)
    const int64_t* o = offsets.data_ptr<int64_t>();
    const int64_t n = offsets.size(0);
    TORCH_CHECK(o[0] == 0 && o[n - 1] == S, "composite: offsets must start at 0 and end at S=", S, ", got ", o[0],
                " and ", o[n - 1]);
    for (int64_t r = 0; r + 1 < n; ++r)
      TORCH_CHECK(o[r] <= o[r + 1], "composite: offsets must be non-decreasing (ray ", r, ")");
  }
}

std::tuple<Tensor, Tensor, Tensor, Tensor, Tensor> composite_forward(const Tensor& sigmas, const Tensor& values,
                                                                     const Tensor& t_starts, const Tensor& t_ends,
                                                                     const Tensor& offsets, double threshold) {
  check_packed(sigmas, values, t_starts, t_ends, offsets);
  const int64_t n_rays = offsets.size(0) - 1, C = values.size(1);
  Tensor weights = at::empty_like(sigmas), transmittance = at::empty_like(sigmas);
  Tensor out_values = at::empty({n_rays, C}, sigmas.options());
  Tensor out_range = at::empty({n_rays}, sigmas.options()), out_opacity = at::empty({n_rays}, sigmas.options());
  AT_DISPATCH_FLOATING_TYPES(sigmas.scalar_type(), "composite_forward", [&] {
    nerfgen::CompositeForwardArgs<scalar_t> args{
        sigmas.data_ptr<scalar_t>(),     values.data_ptr<scalar_t>(),      t_starts.data_ptr<scalar_t>(),
        t_ends.data_ptr<scalar_t>(),     offsets.data_ptr<int64_t>(),      n_rays,
        C,                               static_cast<scalar_t>(threshold), weights.data_ptr<scalar_t>(),
        transmittance.data_ptr<scalar_t>(), out_values.data_ptr<scalar_t>(), out_range.data_ptr<scalar_t>(),
        out_opacity.data_ptr<scalar_t>()};
    if (sigmas.is_cpu()) {
      nerfgen::composite_forward_cpu(args);
    } else {
#ifdef NERFGEN_WITH_CUDA
      const c10::cuda::CUDAGuard guard(sigmas.device());
      nerfgen::composite_forward_cuda(args, at::cuda::getCurrentCUDAStream().stream());
#else
      TORCH_CHECK(false, "composite: nerfgen was built without CUDA");
#endif
    }
  });
  return {weights, transmittance, out_values, out_range, out_opacity};
}

std::tuple<Tensor, Tensor> composite_backward(const std::optional<Tensor>& grad_weights, const Tensor& grad_values,
                                              const Tensor& grad_range, const Tensor& grad_opacity,
                                              const Tensor& sigmas, const Tensor& values, const Tensor& t_starts,
                                              const Tensor& t_ends, const Tensor& offsets, const Tensor& weights,
                                              const Tensor& transmittance, double threshold) {
  check_packed(sigmas, values, t_starts, t_ends, offsets);
  const int64_t n_rays = offsets.size(0) - 1, C = values.size(1);
  const auto dt = sigmas.scalar_type();
  // grad_weights is optional: None (the loss did not use the weights) reads as zeros,
  // which saves materialising, zero-filling and reading an [S] tensor.
  std::vector<const Tensor*> inputs{&grad_values, &grad_range, &grad_opacity, &weights, &transmittance};
  if (grad_weights.has_value()) inputs.push_back(&*grad_weights);
  for (const Tensor* t : inputs) {
    NG_CHECK_INPUT(*t, dt);
    TORCH_CHECK(t->device() == sigmas.device(), "composite_backward: all inputs must be on ", sigmas.device());
  }
  TORCH_CHECK((!grad_weights.has_value() || grad_weights->sizes() == sigmas.sizes()) &&
                  weights.sizes() == sigmas.sizes() && transmittance.sizes() == sigmas.sizes(),
              "composite_backward: per-sample tensors must be [S]");
  TORCH_CHECK(grad_values.dim() == 2 && grad_values.size(0) == n_rays && grad_values.size(1) == C,
              "composite_backward: grad_values must be [n_rays, C]");
  TORCH_CHECK(grad_range.numel() == n_rays && grad_opacity.numel() == n_rays,
              "composite_backward: grad_range and grad_opacity must be [n_rays]");
  // [S, C] is tens of MB: from the output cache, not mapped and faulted in afresh per call
  // (4 KB pages: ~20 ms of the rgb benchmark's backward in a VM).
  Tensor grad_sigmas = empty_output(sigmas.sizes(), sigmas.options());
  Tensor grad_values_in = empty_output(values.sizes(), values.options());
  AT_DISPATCH_FLOATING_TYPES(dt, "composite_backward", [&] {
    nerfgen::CompositeBackwardArgs<scalar_t> args{
        grad_weights.has_value() ? grad_weights->data_ptr<scalar_t>() : nullptr, grad_values.data_ptr<scalar_t>(),  grad_range.data_ptr<scalar_t>(),
        grad_opacity.data_ptr<scalar_t>(), sigmas.data_ptr<scalar_t>(),       values.data_ptr<scalar_t>(),
        t_starts.data_ptr<scalar_t>(),     t_ends.data_ptr<scalar_t>(),       offsets.data_ptr<int64_t>(),
        weights.data_ptr<scalar_t>(),      transmittance.data_ptr<scalar_t>(), n_rays,
        C,                                 static_cast<scalar_t>(threshold),  grad_sigmas.data_ptr<scalar_t>(),
        grad_values_in.data_ptr<scalar_t>()};
    if (sigmas.is_cpu()) {
      nerfgen::composite_backward_cpu(args);
    } else {
#ifdef NERFGEN_WITH_CUDA
      const c10::cuda::CUDAGuard guard(sigmas.device());
      nerfgen::composite_backward_cuda(args, at::cuda::getCurrentCUDAStream().stream());
#else
      TORCH_CHECK(false, "composite: nerfgen was built without CUDA");
#endif
    }
  });
  return {grad_sigmas, grad_values_in};
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(nerfgen, m) {
  m.def(
      "composite_forward(Tensor sigmas, Tensor values, Tensor t_starts, Tensor t_ends, Tensor offsets, "
      "float transmittance_threshold) -> (Tensor weights, Tensor transmittance, Tensor values, Tensor range, "
      "Tensor opacity)");
  m.def(
      "composite_backward(Tensor? grad_weights, Tensor grad_values, Tensor grad_range, Tensor grad_opacity, "
      "Tensor sigmas, Tensor values, Tensor t_starts, Tensor t_ends, Tensor offsets, Tensor weights, "
      "Tensor transmittance, float transmittance_threshold) -> (Tensor grad_sigmas, Tensor grad_values)");
}

TORCH_LIBRARY_IMPL(nerfgen, CPU, m) {
  m.impl("composite_forward", &composite_forward);
  m.impl("composite_backward", &composite_backward);
}

#ifdef NERFGEN_WITH_CUDA
TORCH_LIBRARY_IMPL(nerfgen, CUDA, m) {
  m.impl("composite_forward", &composite_forward);
  m.impl("composite_backward", &composite_backward);
}
#endif
