// CPU launchers for march: pass 1 counts samples per ray, pass 2 fills each ray's slice.
// Rays differ a lot in length (misses vs long occupied stretches), hence dynamic chunks.
#include "nerfgen/march.h"

void march_count_cpu(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo, const float* t_hi,
                     const GridView& grid, const MarchParams& params, int64_t* counts) {
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t r = 0; r < n_rays; ++r) {
    counts[r] = march_ray(rays_o + 3 * r, rays_d + 3 * r, t_lo[r], t_hi[r], grid, params, nullptr, nullptr);
  }
}

void march_fill_cpu(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo, const float* t_hi,
                    const GridView& grid, const MarchParams& params, const int64_t* offsets, int64_t* ray_indices,
                    float* t_starts, float* t_ends) {
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t r = 0; r < n_rays; ++r) {
    const int64_t begin = offsets[r];
    if (offsets[r + 1] == begin) continue;
    march_ray(rays_o + 3 * r, rays_d + 3 * r, t_lo[r], t_hi[r], grid, params, t_starts + begin, t_ends + begin);
    for (int64_t k = begin; k < offsets[r + 1]; ++k) ray_indices[k] = r;
  }
}
