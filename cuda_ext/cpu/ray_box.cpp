// CPU launcher for ray_box_intersect: threads over tiles of rays, SIMD across the rays of
// a tile. The slab test is six divisions per pair (exact IEEE division, to match the
// reference bit for bit), so it is bound by divider throughput unless the rays go through
// the vector divider side by side. Rays are loaded once per tile into SoA arrays and every
// box is tested against the whole tile (boxes in the outer loop, no per-pair index
// arithmetic); outputs are written at i * n_boxes + j, contiguous when there is one box.
#include <algorithm>
#include <cstring>

#include "nerfgen/ray_box.h"

namespace {

constexpr int64_t kTile = 64;  // rays per tile: a multiple of every SIMD width, SoA fits in L1

template <bool kOriented, bool kOneBox>
void intersect_tile(int64_t i0, int64_t n, int64_t n_boxes, const float* rays_o, const float* rays_d,
                    const float* box_min, const float* box_max, const float* world_to_box, float* t_near,
                    float* t_far, bool* hit) {
  // Lanes past n (last tile) hold zeros: computed and never stored.
  alignas(64) float o[3][kTile] = {}, d[3][kTile] = {};
  for (int64_t r = 0; r < n; ++r) {
    for (int a = 0; a < 3; ++a) {
      o[a][r] = rays_o[3 * (i0 + r) + a];
      d[a][r] = rays_d[3 * (i0 + r) + a];
    }
  }
  const int64_t stride = kOneBox ? 1 : n_boxes;
  for (int64_t j = 0; j < n_boxes; ++j) {
    const float lo[3] = {box_min[3 * j], box_min[3 * j + 1], box_min[3 * j + 2]};
    const float hi[3] = {box_max[3 * j], box_max[3 * j + 1], box_max[3 * j + 2]};
    alignas(64) float tn[kTile], tf[kTile];
    alignas(64) bool h[kTile];
    // No `omp simd` here: gcc 12 then keeps ro/rd as per-lane memory and gives up, while
    // plain -O3 vectorises this loop once ray_box() is inlined (checked with -fopt-info-vec).
    for (int64_t r = 0; r < kTile; ++r) {
      const float ro[3] = {o[0][r], o[1][r], o[2][r]};
      const float rd[3] = {d[0][r], d[1][r], d[2][r]};
      RayBoxHit res;
      if constexpr (kOriented) {
        float ob[3], db[3];
        transform_ray(world_to_box + 16 * j, ro, rd, ob, db);
        res = ray_box(ob, db, lo, hi);
      } else {
        res = ray_box(ro, rd, lo, hi);
      }
      tn[r] = res.t_near;
      tf[r] = res.t_far;
      h[r] = res.hit;
    }
    if constexpr (kOneBox) {
      std::memcpy(t_near + i0, tn, n * sizeof(float));
      std::memcpy(t_far + i0, tf, n * sizeof(float));
      std::memcpy(hit + i0, h, n * sizeof(bool));
      continue;
    }
    const int64_t k0 = i0 * stride + j;
    for (int64_t r = 0; r < n; ++r) {
      t_near[k0 + r * stride] = tn[r];
      t_far[k0 + r * stride] = tf[r];
      hit[k0 + r * stride] = h[r];
    }
  }
}

template <bool kOriented, bool kOneBox>
void intersect(int64_t n_rays, int64_t n_boxes, const float* rays_o, const float* rays_d, const float* box_min,
               const float* box_max, const float* world_to_box, float* t_near, float* t_far, bool* hit) {
#pragma omp parallel for schedule(static)
  for (int64_t i0 = 0; i0 < n_rays; i0 += kTile) {
    intersect_tile<kOriented, kOneBox>(i0, std::min(kTile, n_rays - i0), n_boxes, rays_o, rays_d, box_min, box_max,
                                       world_to_box, t_near, t_far, hit);
  }
}

}  // namespace

void ray_box_intersect_cpu(int64_t n_rays, int64_t n_boxes, const float* rays_o, const float* rays_d,
                           const float* box_min, const float* box_max, const float* world_to_box, float* t_near,
                           float* t_far, bool* hit) {
  const auto run = world_to_box ? (n_boxes == 1 ? intersect<true, true> : intersect<true, false>)
                                : (n_boxes == 1 ? intersect<false, true> : intersect<false, false>);
  run(n_rays, n_boxes, rays_o, rays_d, box_min, box_max, world_to_box, t_near, t_far, hit);
}
