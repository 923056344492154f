// torch.ops.nerfgen.march: per-ray counts -> exclusive scan (torch.cumsum) -> samples placed
// at the offsets (CUDA: a fill pass; CPU: a copy from the single traversal's buffers).
// No atomics, so CPU and CUDA produce the same packed layout.
#include "common.h"
#include "nerfgen/march.h"

#ifdef NERFGEN_WITH_CUDA
#include <ATen/cuda/CUDAContext.h>
#endif

namespace {

enum class Backend { CPU, CUDA };

using MarchResult = std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor>;

struct PackedOutputs {
  at::Tensor offsets, ray_indices, t_starts, t_ends;
};

// offsets [n_rays + 1] = exclusive scan of counts [n_rays]; the sample arrays sized to its total.
PackedOutputs allocate_packed(const at::Tensor& counts, const at::TensorOptions& float_options) {
  const int64_t n_rays = counts.size(0);
  PackedOutputs out;
  out.offsets = at::zeros({n_rays + 1}, counts.options());
  out.offsets.slice(0, 1).copy_(at::cumsum(counts, 0));
  const int64_t n_samples = out.offsets[n_rays].item<int64_t>();
  out.ray_indices = empty_output({n_samples}, counts.options());
  out.t_starts = empty_output({n_samples}, float_options);
  out.t_ends = empty_output({n_samples}, float_options);
  return out;
}

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

  GridView grid{};  // packed stays null: the CPU launcher packs its own copy
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
  if (backend == Backend::CPU) {
    TORCH_CHECK(binaries.numel() < (int64_t{1} << 31), "march on CPU: the grid must have fewer than 2^31 cells, got ",
                binaries.numel());  // cell indices are 32-bit SIMD lanes
    MarchCpuSamples samples;
    march_traverse_cpu(n_rays, o, d, lo, hi, grid, params, counts.data_ptr<int64_t>(), samples);
    PackedOutputs out = allocate_packed(counts, rays_o.options());
    march_gather_cpu(n_rays, samples, out.offsets.data_ptr<int64_t>(), out.ray_indices.data_ptr<int64_t>(),
                     out.t_starts.data_ptr<float>(), out.t_ends.data_ptr<float>());
    return {out.ray_indices, out.t_starts, out.t_ends, out.offsets};
  }
#ifdef NERFGEN_WITH_CUDA
  void* stream = at::cuda::getCurrentCUDAStream().stream();
  march_count_cuda(n_rays, o, d, lo, hi, grid, params, counts.data_ptr<int64_t>(), stream);
  PackedOutputs out = allocate_packed(counts, rays_o.options());
  march_fill_cuda(n_rays, o, d, lo, hi, grid, params, out.offsets.data_ptr<int64_t>(),
                  out.ray_indices.data_ptr<int64_t>(), out.t_starts.data_ptr<float>(), out.t_ends.data_ptr<float>(),
                  stream);
  return {out.ray_indices, out.t_starts, out.t_ends, out.offsets};
#else
  TORCH_CHECK(false, "march: nerfgen was built without CUDA");
#endif
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
