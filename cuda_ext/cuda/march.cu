// CUDA launchers for march: a counting kernel and a filling kernel, one thread per ray,
// both running the same march_ray() as the CPU (kCone is a template parameter, chosen
// once per launch). The scan between them is done by the
// binding (torch.cumsum), so the layout is the CPU's exactly. Torch-free.
#include <cuda_runtime.h>

#include "nerfgen/march.h"

template <bool kCone>
__global__ void march_count_kernel(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo,
                                   const float* t_hi, GridView grid, MarchParams params, int64_t* counts) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= n_rays) return;
  SampleCounter counter;
  march_ray<kCone>(rays_o + 3 * r, rays_d + 3 * r, t_lo[r], t_hi[r], grid, params, counter);
  counts[r] = counter.n;
}

template <bool kCone>
__global__ void march_fill_kernel(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo,
                                  const float* t_hi, GridView grid, MarchParams params, const int64_t* offsets,
                                  int64_t* ray_indices, float* t_starts, float* t_ends) {
  const int64_t r = static_cast<int64_t>(blockIdx.x) * blockDim.x + threadIdx.x;
  if (r >= n_rays) return;
  const int64_t begin = offsets[r], end = offsets[r + 1];
  if (end == begin) return;
  SampleWriter writer{t_starts + begin, t_ends + begin};
  march_ray<kCone>(rays_o + 3 * r, rays_d + 3 * r, t_lo[r], t_hi[r], grid, params, writer);
  for (int64_t k = begin; k < end; ++k) ray_indices[k] = r;
}

static int64_t n_blocks(int64_t n, int threads) { return (n + threads - 1) / threads; }

void march_count_cuda(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo,
                      const float* t_hi, const GridView& grid, const MarchParams& params, int64_t* counts,
                      void* stream) {
  if (n_rays == 0) return;
  const auto kernel = params.cone_angle != 0.f ? march_count_kernel<true> : march_count_kernel<false>;
  kernel<<<n_blocks(n_rays, 128), 128, 0, static_cast<cudaStream_t>(stream)>>>(n_rays, rays_o, rays_d, t_lo, t_hi,
                                                                              grid, params, counts);
}

void march_fill_cuda(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo, const float* t_hi,
                     const GridView& grid, const MarchParams& params, const int64_t* offsets, int64_t* ray_indices,
                     float* t_starts, float* t_ends, void* stream) {
  if (n_rays == 0) return;
  const auto kernel = params.cone_angle != 0.f ? march_fill_kernel<true> : march_fill_kernel<false>;
  kernel<<<n_blocks(n_rays, 128), 128, 0, static_cast<cudaStream_t>(stream)>>>(
      n_rays, rays_o, rays_d, t_lo, t_hi, grid, params, offsets, ray_indices, t_starts, t_ends);
}
