// CPU launcher for ray_box_intersect: one iteration per (ray, box) pair.
#include "nerfgen/ray_box.h"

void ray_box_intersect_cpu(int64_t n_rays, int64_t n_boxes, const float* rays_o, const float* rays_d,
                           const float* box_min, const float* box_max, const float* world_to_box, float* t_near,
                           float* t_far, bool* hit) {
  const int64_t n_pairs = n_rays * n_boxes;
#pragma omp parallel for schedule(static)
  for (int64_t k = 0; k < n_pairs; ++k) {
    ray_box_pair(k / n_boxes, k % n_boxes, n_boxes, rays_o, rays_d, box_min, box_max, world_to_box, t_near, t_far,
                 hit);
  }
}
