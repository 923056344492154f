// CUDA launcher for merge_samples: one thread per ray doing the k-way merge. Torch-free.
#include <cuda_runtime.h>

#include "nerfgen/merge.h"

__global__ void merge_samples_kernel(int64_t n_rays, int n_fields, const int64_t* field_offsets,
                                     const int64_t* field_base, const float* t_starts, const float* t_ends,
                                     const int64_t* out_offsets, int64_t* ray_indices, float* out_t_starts,
                                     float* out_t_ends, int64_t* field_ids, int64_t* source_index) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= n_rays) return;
  merge_ray(r, n_rays, n_fields, field_offsets, field_base, t_starts, t_ends, out_offsets, ray_indices, out_t_starts,
            out_t_ends, field_ids, source_index);
}

void merge_samples_cuda(int64_t n_rays, int n_fields, const int64_t* field_offsets, const int64_t* field_base,
                        const float* t_starts, const float* t_ends, const int64_t* out_offsets, int64_t* ray_indices,
                        float* out_t_starts, float* out_t_ends, int64_t* field_ids, int64_t* source_index,
                        void* stream) {
  if (n_rays == 0) return;
  const int threads = 128;
  merge_samples_kernel<<<(n_rays + threads - 1) / threads, threads, 0, static_cast<cudaStream_t>(stream)>>>(
      n_rays, n_fields, field_offsets, field_base, t_starts, t_ends, out_offsets, ray_indices, out_t_starts,
      out_t_ends, field_ids, source_index);
}
