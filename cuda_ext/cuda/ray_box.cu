// CUDA launcher for ray_box_intersect: one thread per (ray, box) pair. Torch-free.
#include <cuda_runtime.h>

#include "nerfgen/ray_box.h"

__global__ void ray_box_kernel(int64_t n_rays, int64_t n_boxes, const float* rays_o, const float* rays_d,
                               const float* box_min, const float* box_max, const float* world_to_box, float* t_near,
                               float* t_far, bool* hit) {
  const int64_t k = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (k >= n_rays * n_boxes) return;
  ray_box_pair(k / n_boxes, k % n_boxes, n_boxes, rays_o, rays_d, box_min, box_max, world_to_box, t_near, t_far, hit);
}

void ray_box_intersect_cuda(int64_t n_rays, int64_t n_boxes, const float* rays_o, const float* rays_d,
                            const float* box_min, const float* box_max, const float* world_to_box, float* t_near,
                            float* t_far, bool* hit, void* stream) {
  const int64_t n_pairs = n_rays * n_boxes;
  if (n_pairs == 0) return;
  const int threads = 256;
  const int64_t blocks = (n_pairs + threads - 1) / threads;
  ray_box_kernel<<<blocks, threads, 0, static_cast<cudaStream_t>(stream)>>>(
      n_rays, n_boxes, rays_o, rays_d, box_min, box_max, world_to_box, t_near, t_far, hit);
}
