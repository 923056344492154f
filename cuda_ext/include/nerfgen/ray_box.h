// Ray vs axis-aligned box (slab test), optionally in an oriented box's own frame.
//
// Conventions (shared with nerfgen/ops/ray_box.py, which mirrors this arithmetic):
// - hit when the ray's line overlaps the box for some t >= 0 (touching an edge or a
//   face counts: t_near == t_far is a hit);
// - t_near is clamped to 0 when the origin is inside the box;
// - a miss returns t_near = t_far = +inf;
// - a direction component of exactly 0 (either sign) means the ray is parallel to that
//   slab: it is inside the slab for all t if lo <= o <= hi, else it misses. This avoids
//   the 0 * inf = NaN of the reciprocal trick.
#pragma once
#include "common.h"
#include "exact_math.h"

struct RayBoxHit {
  float t_near;
  float t_far;
  bool hit;
};

// Branch-free (selects instead of `continue` on parallel slabs) so the CPU launcher can
// run it across SIMD lanes; on a parallel slab t0/t1 are +-inf or NaN and are discarded by
// the selects, which gives exactly the values of skipping that axis.
NG_HD RayBoxHit ray_box(const float o[3], const float d[3], const float lo[3], const float hi[3]) {
  float t_near = -ng_inf(), t_far = ng_inf();
  bool inside_parallel_slabs = true;
  for (int a = 0; a < 3; ++a) {
    const bool parallel = d[a] == 0.f;
    const float t0 = ng_div(ng_sub(lo[a], o[a]), d[a]);
    const float t1 = ng_div(ng_sub(hi[a], o[a]), d[a]);
    t_near = ng_max(t_near, parallel ? -ng_inf() : ng_min(t0, t1));
    t_far = ng_min(t_far, parallel ? ng_inf() : ng_max(t0, t1));
    inside_parallel_slabs = inside_parallel_slabs & ((!parallel) | ((lo[a] <= o[a]) & (o[a] <= hi[a])));
  }
  const bool hit = inside_parallel_slabs & (t_near <= t_far) & (t_far >= 0.f);
  return {hit ? ng_max(t_near, 0.f) : ng_inf(), hit ? t_far : ng_inf(), hit};
}

// Applies a rigid world-to-box transform (row-major 4x4, last row ignored) to a ray.
// Because it is rigid, |d| is preserved and t along the transformed ray is world t.
NG_HD void transform_ray(const float* m, const float o[3], const float d[3], float o_box[3], float d_box[3]) {
  for (int i = 0; i < 3; ++i) {
    const float* r = m + 4 * i;
    o_box[i] = ng_add(ng_add(ng_add(ng_mul(r[0], o[0]), ng_mul(r[1], o[1])), ng_mul(r[2], o[2])), r[3]);
    d_box[i] = ng_add(ng_add(ng_mul(r[0], d[0]), ng_mul(r[1], d[1])), ng_mul(r[2], d[2]));
  }
}

// Intersects ray i with box j and writes element i * n_boxes + j of the outputs.
NG_HD void ray_box_pair(int64_t i, int64_t j, int64_t n_boxes, const float* rays_o, const float* rays_d,
                        const float* box_min, const float* box_max, const float* world_to_box /*nullable*/,
                        float* t_near, float* t_far, bool* hit) {
  const float* o = rays_o + 3 * i;
  const float* d = rays_d + 3 * i;
  RayBoxHit h;
  if (world_to_box) {
    float ob[3], db[3];
    transform_ray(world_to_box + 16 * j, o, d, ob, db);
    h = ray_box(ob, db, box_min + 3 * j, box_max + 3 * j);
  } else {
    h = ray_box(o, d, box_min + 3 * j, box_max + 3 * j);
  }
  const int64_t k = i * n_boxes + j;
  t_near[k] = h.t_near;
  t_far[k] = h.t_far;
  hit[k] = h.hit;
}

// Launchers: raw contiguous float32 pointers; world_to_box may be null.
// Outputs are [n_rays, n_boxes]. `stream` is a cudaStream_t.
void ray_box_intersect_cpu(int64_t n_rays, int64_t n_boxes, const float* rays_o, const float* rays_d,
                           const float* box_min, const float* box_max, const float* world_to_box, float* t_near,
                           float* t_far, bool* hit);
void ray_box_intersect_cuda(int64_t n_rays, int64_t n_boxes, const float* rays_o, const float* rays_d,
                            const float* box_min, const float* box_max, const float* world_to_box, float* t_near,
                            float* t_far, bool* hit, void* stream);
