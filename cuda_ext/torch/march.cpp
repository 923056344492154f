// torch.ops.nerfgen.march: count pass -> exclusive scan (torch.cumsum) -> fill pass.
// No atomics, so CPU and CUDA produce the same packed layout.
#include "common.h"
#include "nerfgen/march.h"

#ifdef NERFGEN_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace {

enum class Backend { CPU, CUDA };

using MarchResult = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor>;

MarchResult march(Backend backend, const at::Tensor& rays_o, const at::Tensor& rays_d, const at::Tensor& t_lo,
                  const at::Tensor& t_hi, const at::Tensor& binaries, at::ArrayRef<double> grid_center,
                  at::ArrayRef<double> grid_half, double step_size, double cone_angle, double max_step) {
  NG_CHECK_INPUT(rays_o, at::kFloat);
  NG_CHECK_INPUT(rays_d, at::kFloat);
  NG_CHECK_INPUT(t_lo, at::kFloat);
  NG_CHECK_INPUT(t_hi, at::kFloat);
  NG_CHECK_INPUT(binaries, at::kBool);
  TORCH_CHECK(rays_o.dim() == 2 && rays_o.size(1) == 3 && rays_d.sizes() == rays_o.sizes(),
              "rays_o and rays_d must both be [n_rays, 3]");
  for (const auto* x : {&rays_d, &t_lo, &t_hi, &binaries}) NG_CHECK_SAME_DEVICE(*x, rays_o);
  const int64_t n_rays = rays_o.size(0);
  TORCH_CHECK(t_lo.dim() == 1 && t_lo.size(0) == n_rays && t_hi.sizes() == t_lo.sizes(),
              "t_min and t_max must both be [n_rays]");
  TORCH_CHECK(binaries.dim() == 4 && binaries.size(1) == binaries.size(2) && binaries.size(2) == binaries.size(3),
              "binaries must be [levels, res, res, res]");
  TORCH_CHECK(binaries.size(0) >= 1 && binaries.size(0) <= 16, "grid levels must be in [1, 16]");
  TORCH_CHECK(grid_center.size() == 3 && grid_half.size() == 3, "grid_center and grid_half must have 3 values");
  TORCH_CHECK(step_size > 0 && max_step >= step_size, "need 0 < step_size <= max_step");

  GridView grid;
  grid.bits = binaries.data_ptr<bool>();
  grid.levels = static_cast<int>(binaries.size(0));
  grid.res = static_cast<int>(binaries.size(1));
  for (int a = 0; a < 3; ++a) {
    // Python passes float32 values, so these casts are exact and match the reference.
    grid.center[a] = static_cast<float>(grid_center[a]);
    grid.half[a] = static_cast<float>(grid_half[a]);
    TORCH_CHECK(grid.half[a] > 0, "grid box must have positive size");
  }
  grid.cell_v = 2.0f / static_cast<float>(grid.res);
  const MarchParams params{static_cast<float>(step_size), static_cast<float>(cone_angle),
                           static_cast<float>(max_step)};

  const float* o = rays_o.data_ptr<float>();
  const float* d = rays_d.data_ptr<float>();
  const float* lo = t_lo.data_ptr<float>();
  const float* hi = t_hi.data_ptr<float>();
  auto counts = at::empty({n_rays}, rays_o.options().dtype(at::kLong));
  void* stream = nullptr;  // only used by the CUDA launchers
  (void)stream;
#ifdef NERFGEN_WITH_CUDA
  if (backend == Backend::CUDA) stream = at::cuda::getCurrentCUDAStream().stream();
#endif
  if (backend == Backend::CPU) {
    march_count_cpu(n_rays, o, d, lo, hi, grid, params, counts.data_ptr<int64_t>());
  } else {
#ifdef NERFGEN_WITH_CUDA
    march_count_cuda(n_rays, o, d, lo, hi, grid, params, counts.data_ptr<int64_t>(), stream);
#endif
  }
  auto offsets = at::zeros({n_rays + 1}, counts.options());
  offsets.slice(0, 1).copy_(at::cumsum(counts, 0));
  const int64_t n_samples = offsets[n_rays].item<int64_t>();
  auto ray_indices = at::empty({n_samples}, counts.options());
  auto t_starts = at::empty({n_samples}, rays_o.options());
  auto t_ends = at::empty({n_samples}, rays_o.options());
  if (backend == Backend::CPU) {
    march_fill_cpu(n_rays, o, d, lo, hi, grid, params, offsets.data_ptr<int64_t>(), ray_indices.data_ptr<int64_t>(),
                   t_starts.data_ptr<float>(), t_ends.data_ptr<float>());
  } else {
#ifdef NERFGEN_WITH_CUDA
    march_fill_cuda(n_rays, o, d, lo, hi, grid, params, offsets.data_ptr<int64_t>(), ray_indices.data_ptr<int64_t>(),
                    t_starts.data_ptr<float>(), t_ends.data_ptr<float>(), stream);
#endif
  }
  return {ray_indices, t_starts, t_ends, offsets};
}

MarchResult march_cpu_op(const at::Tensor& rays_o, const at::Tensor& rays_d, const at::Tensor& t_lo,
                         const at::Tensor& t_hi, const at::Tensor& binaries, at::ArrayRef<double> grid_center,
                         at::ArrayRef<double> grid_half, double step_size, double cone_angle, double max_step) {
  return march(Backend::CPU, rays_o, rays_d, t_lo, t_hi, binaries, grid_center, grid_half, step_size, cone_angle,
               max_step);
}

#ifdef NERFGEN_WITH_CUDA
MarchResult march_cuda_op(const at::Tensor& rays_o, const at::Tensor& rays_d, const at::Tensor& t_lo,
                          const at::Tensor& t_hi, const at::Tensor& binaries, at::ArrayRef<double> grid_center,
                          at::ArrayRef<double> grid_half, double step_size, double cone_angle, double max_step) {
  return march(Backend::CUDA, rays_o, rays_d, t_lo, t_hi, binaries, grid_center, grid_half, step_size, cone_angle,
               max_step);
}
#endif

}  // namespace

TORCH_LIBRARY_FRAGMENT(nerfgen, m) {
  m.def(
      "march(Tensor rays_o, Tensor rays_d, Tensor t_min, Tensor t_max, Tensor binaries, float[] grid_center,"
      " float[] grid_half, float step_size, float cone_angle, float max_step)"
      " -> (Tensor ray_indices, Tensor t_starts, Tensor t_ends, Tensor offsets)");
}

TORCH_LIBRARY_IMPL(nerfgen, CPU, m) { m.impl("march", &march_cpu_op); }

#ifdef NERFGEN_WITH_CUDA
TORCH_LIBRARY_IMPL(nerfgen, CUDA, m) { m.impl("march", &march_cuda_op); }
#endif
