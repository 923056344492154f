// CPU launcher for merge_samples: one independent k-way merge per ray.
#include "nerfgen/merge.h"

void merge_samples_cpu(int64_t n_rays, int n_fields, const int64_t* field_offsets, const int64_t* field_base,
                       const float* t_starts, const float* t_ends, const int64_t* out_offsets, int64_t* ray_indices,
                       float* out_t_starts, float* out_t_ends, int64_t* field_ids, int64_t* source_index) {
#pragma omp parallel for schedule(dynamic, 1024)
  for (int64_t r = 0; r < n_rays; ++r) {
    merge_ray(r, n_rays, n_fields, field_offsets, field_base, t_starts, t_ends, out_offsets, ray_indices,
              out_t_starts, out_t_ends, field_ids, source_index);
  }
}
