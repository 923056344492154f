// CPU launcher for ray_box_intersect: threads over rays, boxes in the inner loop (a flat
// pair index would cost two 64-bit divisions per pair, more than the slab test itself).
#include "nerfgen/ray_box.h"

void ray_box_intersect_cpu(int64_t n_rays, int64_t n_boxes, const float* rays_o, const float* rays_d,
                           const float* box_min, const float* box_max, const float* world_to_box, float* t_near,
                           float* t_far, bool* hit) {
#pragma omp parallel for schedule(static)
  for (int64_t i = 0; i < n_rays; ++i) {
    for (int64_t j = 0; j < n_boxes; ++j) {
      ray_box_pair(i, j, n_boxes, rays_o, rays_d, box_min, box_max, world_to_box, t_near, t_far, hit);
    }
  }
}
