// Torch bindings for the hash encoding: checks, output allocation, dispatch to the
// raw-pointer launchers. Autograd is attached in nerfgen/ops/hash_encoding.py.
#include "common.h"
#include "nerfgen/hash_encoding.h"

#ifdef NERFGEN_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAGuard.h>
#endif

#include <limits>

namespace {

using at::Tensor;

// Checks x [N, 3] and params [n_levels, table_size, F] and fills the launcher arguments
// that do not depend on the direction (forward/backward).
template <typename scalar_t>
nerfgen::HashEncodeArgs<scalar_t> make_args(const Tensor& x, const Tensor& params, at::ArrayRef<double> level_scales) {
  nerfgen::HashEncodeArgs<scalar_t> a{};
  a.x = x.data_ptr<scalar_t>();
  a.params = params.data_ptr<scalar_t>();
  a.n_points = x.size(0);
  a.table_size = static_cast<uint32_t>(params.size(1));
  a.n_features = static_cast<int32_t>(params.size(2));
  a.levels.n_levels = static_cast<int32_t>(level_scales.size());
  for (size_t l = 0; l < level_scales.size(); ++l)
    a.levels.level[l] = nerfgen::make_hash_grid_level(static_cast<float>(level_scales[l]), a.table_size);
  return a;
}

void check_inputs(const char* op, const Tensor& x, const Tensor& params, at::ArrayRef<double> level_scales) {
  const auto dt = params.scalar_type();
  TORCH_CHECK(dt == at::kFloat || dt == at::kDouble, op, ": params must be float32 or float64, got ", dt);
  NG_CHECK_INPUT(x, dt);
  NG_CHECK_INPUT(params, dt);
  TORCH_CHECK(x.device() == params.device(), op, ": x and params must be on the same device");
  TORCH_CHECK(x.dim() == 2 && x.size(1) == 3, op, ": x must be [N, 3], got ", x.sizes());
  TORCH_CHECK(params.dim() == 3, op, ": params must be [n_levels, table_size, F], got ", params.sizes());
  const int64_t F = params.size(2);
  TORCH_CHECK(F == 1 || F == 2 || F == 4 || F == 8, op, ": features per level must be 1, 2, 4 or 8, got ", F);
  TORCH_CHECK(params.size(1) >= 1 && params.size(1) <= std::numeric_limits<uint32_t>::max(), op,
              ": table_size must be in [1, 2^32)");
  TORCH_CHECK(static_cast<int64_t>(level_scales.size()) == params.size(0), op, ": ", level_scales.size(),
              " level scales for ", params.size(0), " levels");
  TORCH_CHECK(params.size(0) <= nerfgen::kHashMaxLevels, op, ": at most ", nerfgen::kHashMaxLevels, " levels");
  for (double s : level_scales) TORCH_CHECK(s >= 0 && s < 4.0e9, op, ": level scale out of range: ", s);
}

void check_grad(const char* op, const Tensor& grad, const Tensor& x, const Tensor& params) {
  NG_CHECK_INPUT(grad, params.scalar_type());
  TORCH_CHECK(grad.device() == params.device(), op, ": grad must be on ", params.device());
  TORCH_CHECK(grad.dim() == 2 && grad.size(0) == x.size(0) && grad.size(1) == params.size(0) * params.size(2), op,
              ": grad must be [N, n_levels * F], got ", grad.sizes());
}

#ifdef NERFGEN_WITH_CUDA
#define NG_RUN(cpu_fn, cuda_fn, device, args)                                 \
  if ((device).is_cpu()) {                                                    \
    cpu_fn(args);                                                             \
  } else {                                                                    \
    const c10::cuda::CUDAGuard guard(device);                                 \
    cuda_fn(args, at::cuda::getCurrentCUDAStream().stream());                 \
  }
#else
#define NG_RUN(cpu_fn, cuda_fn, device, args)                                 \
  TORCH_CHECK((device).is_cpu(), "hash_encode: nerfgen was built without CUDA"); \
  cpu_fn(args);
#endif

Tensor hash_encode_forward(const Tensor& x, const Tensor& params, at::ArrayRef<double> level_scales) {
  check_inputs("hash_encode_forward", x, params, level_scales);
  Tensor encoding = empty_output({x.size(0), params.size(0) * params.size(2)}, params.options());
  AT_DISPATCH_FLOATING_TYPES(params.scalar_type(), "hash_encode_forward", [&] {
    auto a = make_args<scalar_t>(x, params, level_scales);
    a.encoding = encoding.data_ptr<scalar_t>();
    NG_RUN(nerfgen::hash_encode_forward_cpu, nerfgen::hash_encode_forward_cuda, x.device(), a);
  });
  return encoding;
}

// The three backward ops: checks, then allocates the gradients asked for (non-null
// outputs) and runs one launcher, `cpu(args)` or `cuda(args, stream)`.
template <typename Cpu, typename Cuda>
void run_backward(const char* op, const Tensor& grad_encoding, const Tensor& x, const Tensor& params,
                  at::ArrayRef<double> level_scales, Tensor* grad_x, Tensor* grad_params, Cpu cpu, Cuda cuda) {
  check_inputs(op, x, params, level_scales);
  check_grad(op, grad_encoding, x, params);
  if (grad_x) *grad_x = at::empty_like(x);
  if (grad_params) {
    *grad_params = empty_output(params.sizes(), params.options());  // the launchers write every entry
  }
  AT_DISPATCH_FLOATING_TYPES(params.scalar_type(), "hash_encode_backward", [&] {
    auto a = make_args<scalar_t>(x, params, level_scales);
    a.grad_encoding = grad_encoding.data_ptr<scalar_t>();
    if (grad_x) a.grad_x = grad_x->data_ptr<scalar_t>();
    if (grad_params) a.grad_params = grad_params->data_ptr<scalar_t>();
    NG_RUN(cpu, cuda, x.device(), a);
  });
}

#define NG_LAUNCHERS(name)                                       \
  [](const auto& a) { nerfgen::name##_cpu(a); },                 \
      [](const auto& a, void* stream) { nerfgen::name##_cuda(a, stream); }

Tensor hash_encode_backward_params(const Tensor& grad_encoding, const Tensor& x, const Tensor& params,
                                   at::ArrayRef<double> level_scales) {
  Tensor grad_params;
  run_backward("hash_encode_backward_params", grad_encoding, x, params, level_scales, nullptr, &grad_params,
               NG_LAUNCHERS(hash_encode_backward_params));
  return grad_params;
}

Tensor hash_encode_backward_x(const Tensor& grad_encoding, const Tensor& x, const Tensor& params,
                              at::ArrayRef<double> level_scales) {
  Tensor grad_x;
  run_backward("hash_encode_backward_x", grad_encoding, x, params, level_scales, &grad_x, nullptr,
               NG_LAUNCHERS(hash_encode_backward_x));
  return grad_x;
}

// Both gradients at once (what training with normals needs): one cell computation per
// point and level on the CPU.
std::tuple<Tensor, Tensor> hash_encode_backward(const Tensor& grad_encoding, const Tensor& x, const Tensor& params,
                                                at::ArrayRef<double> level_scales) {
  Tensor grad_x, grad_params;
  run_backward("hash_encode_backward", grad_encoding, x, params, level_scales, &grad_x, &grad_params,
               NG_LAUNCHERS(hash_encode_backward));
  return {grad_x, grad_params};
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(nerfgen, m) {
  m.def("hash_encode_forward(Tensor x, Tensor params, float[] level_scales) -> Tensor");
  m.def(
      "hash_encode_backward_params(Tensor grad_encoding, Tensor x, Tensor params, float[] level_scales) -> Tensor");
  m.def("hash_encode_backward_x(Tensor grad_encoding, Tensor x, Tensor params, float[] level_scales) -> Tensor");
  m.def(
      "hash_encode_backward(Tensor grad_encoding, Tensor x, Tensor params, float[] level_scales) -> (Tensor, Tensor)");
}

TORCH_LIBRARY_IMPL(nerfgen, CPU, m) {
  m.impl("hash_encode_forward", &hash_encode_forward);
  m.impl("hash_encode_backward_params", &hash_encode_backward_params);
  m.impl("hash_encode_backward_x", &hash_encode_backward_x);
  m.impl("hash_encode_backward", &hash_encode_backward);
}

#ifdef NERFGEN_WITH_CUDA
TORCH_LIBRARY_IMPL(nerfgen, CUDA, m) {
  m.impl("hash_encode_forward", &hash_encode_forward);
  m.impl("hash_encode_backward_params", &hash_encode_backward_params);
  m.impl("hash_encode_backward_x", &hash_encode_backward_x);
  m.impl("hash_encode_backward", &hash_encode_backward);
}
#endif
