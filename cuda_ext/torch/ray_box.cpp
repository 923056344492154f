// torch.ops.nerfgen.ray_box_intersect: checks, allocation, dispatch to the CPU/CUDA launcher.
#include "common.h"
#include "nerfgen/ray_box.h"

#ifdef NERFGEN_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace {

enum class Backend { CPU, CUDA };

std::tuple<at::Tensor, at::Tensor, at::Tensor> ray_box_intersect(Backend backend, const at::Tensor& rays_o,
                                                                 const at::Tensor& rays_d, const at::Tensor& box_min,
                                                                 const at::Tensor& box_max,
                                                                 const std::optional<at::Tensor>& world_to_box) {
  NG_CHECK_INPUT(rays_o, at::kFloat);
  NG_CHECK_INPUT(rays_d, at::kFloat);
  NG_CHECK_INPUT(box_min, at::kFloat);
  NG_CHECK_INPUT(box_max, at::kFloat);
  TORCH_CHECK(rays_o.dim() == 2 && rays_o.size(1) == 3 && rays_d.sizes() == rays_o.sizes(),
              "rays_o and rays_d must both be [n_rays, 3]");
  TORCH_CHECK(box_min.dim() == 2 && box_min.size(1) == 3 && box_max.sizes() == box_min.sizes(),
              "box_min and box_max must both be [n_boxes, 3]");
  for (const auto* x : {&rays_d, &box_min, &box_max}) NG_CHECK_SAME_DEVICE(*x, rays_o);
  const int64_t n_rays = rays_o.size(0), n_boxes = box_min.size(0);
  const float* w2b = nullptr;
  if (world_to_box.has_value()) {
    NG_CHECK_INPUT(*world_to_box, at::kFloat);
    NG_CHECK_SAME_DEVICE(*world_to_box, rays_o);
    TORCH_CHECK(world_to_box->sizes() == at::IntArrayRef({n_boxes, 4, 4}), "world_to_box must be [n_boxes, 4, 4]");
    w2b = world_to_box->data_ptr<float>();
  }
  auto t_near = at::empty({n_rays, n_boxes}, rays_o.options());
  auto t_far = at::empty({n_rays, n_boxes}, rays_o.options());
  auto hit = at::empty({n_rays, n_boxes}, rays_o.options().dtype(at::kBool));
  if (backend == Backend::CPU) {
    ray_box_intersect_cpu(n_rays, n_boxes, rays_o.data_ptr<float>(), rays_d.data_ptr<float>(),
                          box_min.data_ptr<float>(), box_max.data_ptr<float>(), w2b, t_near.data_ptr<float>(),
                          t_far.data_ptr<float>(), hit.data_ptr<bool>());
  } else {
#ifdef NERFGEN_WITH_CUDA
    ray_box_intersect_cuda(n_rays, n_boxes, rays_o.data_ptr<float>(), rays_d.data_ptr<float>(),
                           box_min.data_ptr<float>(), box_max.data_ptr<float>(), w2b, t_near.data_ptr<float>(),
                           t_far.data_ptr<float>(), hit.data_ptr<bool>(), at::cuda::getCurrentCUDAStream().stream());
#endif
  }
  return {t_near, t_far, hit};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> ray_box_intersect_cpu_op(const at::Tensor& rays_o,
                                                                        const at::Tensor& rays_d,
                                                                        const at::Tensor& box_min,
                                                                        const at::Tensor& box_max,
                                                                        const std::optional<at::Tensor>& world_to_box) {
  return ray_box_intersect(Backend::CPU, rays_o, rays_d, box_min, box_max, world_to_box);
}

#ifdef NERFGEN_WITH_CUDA
std::tuple<at::Tensor, at::Tensor, at::Tensor> ray_box_intersect_cuda_op(
    const at::Tensor& rays_o, const at::Tensor& rays_d, const at::Tensor& box_min, const at::Tensor& box_max,
    const std::optional<at::Tensor>& world_to_box) {
  return ray_box_intersect(Backend::CUDA, rays_o, rays_d, box_min, box_max, world_to_box);
}
#endif

}  // namespace

TORCH_LIBRARY_FRAGMENT(nerfgen, m) {
  m.def(
      "ray_box_intersect(Tensor rays_o, Tensor rays_d, Tensor box_min, Tensor box_max, Tensor? world_to_box)"
      " -> (Tensor t_near, Tensor t_far, Tensor hit)");
}

TORCH_LIBRARY_IMPL(nerfgen, CPU, m) { m.impl("ray_box_intersect", &ray_box_intersect_cpu_op); }

#ifdef NERFGEN_WITH_CUDA
TORCH_LIBRARY_IMPL(nerfgen, CUDA, m) { m.impl("ray_box_intersect", &ray_box_intersect_cuda_op); }
#endif
