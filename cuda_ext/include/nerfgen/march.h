// Marching rays through a multi-level occupancy grid (Instant-NGP / nerfacc cascade).
//
// Grid: level l covers the level-0 box scaled by 2**l about its centre; each level has
// res^3 cells, stored x-major in `bits` [levels, res, res, res]. Work happens in "unit
// coordinates" u = (x - centre) / half_size, where level l spans [-2**l, 2**l]^3 and the
// ray is u(t) = uo + t * ud with t still the world t.
//
// One cell visit at time t: dt = clamp(t * cone_angle, step_size, max_step); the point
// judged is the step's midpoint t + dt/2. The finest level containing it and its cell are
// found, and the distance to the cell's exit face (DDA) gives k, the number of whole steps
// of this dt whose midpoints lie in the cell. In an occupied cell those k steps are
// emitted as samples [t + j*dt, t + (j+1)*dt] while their midpoints are before t_end; in
// an empty cell they are skipped in one jump. Either way t advances by k*dt. So dt is
// constant within a cell visit and grows from visit to visit; for cone_angle = 0 samples
// lie on the lattice t0 + j*step_size (up to float rounding).
//
// march_ray() is used by both the counting pass and the filling pass (and mirrored step by
// step in nerfgen/ops/march.py), so counts and fills agree by construction.
#pragma once
#include "common.h"
#include "exact_math.h"
#include "ray_box.h"

struct GridView {
  const bool* bits;  // [levels, res, res, res]
  int levels;
  int res;
  float center[3];  // level-0 box centre
  float half[3];    // level-0 box half size
  float cell_v;     // 2 / res as float: a cell's width in level-normalised coordinates
};

struct MarchParams {
  float step_size;   // smallest dt (> 0)
  float cone_angle;  // dt grows as t * cone_angle
  float max_step;    // largest dt
};

// State of one ray during the march, in unit coordinates.
struct MarchRay {
  float uo[3], ud[3], inv_ud[3];
  float t, t_end;
};

// Sets up a ray over [t_lo, t_hi] clipped to the outermost level; false if it yields nothing.
NG_HD bool march_begin(const float o[3], const float d[3], float t_lo, float t_hi, const GridView& g, MarchRay& r) {
  for (int a = 0; a < 3; ++a) {
    r.uo[a] = ng_div(ng_sub(o[a], g.center[a]), g.half[a]);
    r.ud[a] = ng_div(d[a], g.half[a]);
    r.inv_ud[a] = r.ud[a] != 0.f ? ng_div(1.f, r.ud[a]) : 0.f;
  }
  // A zero direction would sample one point forever.
  if (r.ud[0] == 0.f && r.ud[1] == 0.f && r.ud[2] == 0.f) return false;
  const float outer = static_cast<float>(1 << (g.levels - 1));
  const float lo[3] = {-outer, -outer, -outer}, hi[3] = {outer, outer, outer};
  const RayBoxHit box = ray_box(r.uo, r.ud, lo, hi);
  if (!box.hit) return false;
  r.t = ng_max(t_lo, box.t_near);
  r.t_end = ng_min(t_hi, box.t_far);
  return true;
}

// One cell visit (see the top of this file). Samples go to t_starts/t_ends[n...] when
// those are non-null (the filling pass); n counts them. Returns false once the ray is done.
NG_HD bool march_visit(MarchRay& r, const GridView& g, const MarchParams& p, int64_t& n, float* t_starts,
                       float* t_ends) {
  const float t = r.t;
  const float dt = ng_min(ng_max(ng_mul(t, p.cone_angle), p.step_size), p.max_step);
  const float half_dt = ng_mul(dt, 0.5f);
  const float mid = ng_add(t, half_dt);
  if (!(mid < r.t_end)) return false;

  float u[3];
  float m = 0.f;
  for (int a = 0; a < 3; ++a) {
    u[a] = ng_add(r.uo[a], ng_mul(mid, r.ud[a]));
    m = ng_max(m, fabsf(u[a]));
  }
  // Finest level whose box [-2**l, 2**l] contains the midpoint (powers of 2 are exact).
  int level = 0;
  float scale = 1.f, inv_scale = 1.f;
  while (level + 1 < g.levels && m > scale) {
    ++level;
    scale = ng_mul(scale, 2.f);
    inv_scale = ng_mul(inv_scale, 0.5f);
  }
  const float half_res = 0.5f * static_cast<float>(g.res);
  float c[3];
  for (int a = 0; a < 3; ++a) {
    const float w = ng_mul(ng_add(ng_mul(u[a], inv_scale), 1.f), half_res);
    c[a] = ng_floor_small(ng_min(ng_max(w, 0.f), static_cast<float>(g.res - 1)));
  }
  // Distance from the midpoint to where the ray leaves this cell.
  float t_exit = ng_inf();
  for (int a = 0; a < 3; ++a) {
    if (r.ud[a] == 0.f) continue;
    const float face = r.ud[a] > 0.f ? ng_add(c[a], 1.f) : c[a];
    const float b = ng_mul(ng_sub(ng_mul(face, g.cell_v), 1.f), scale);
    t_exit = ng_min(t_exit, ng_mul(ng_sub(b, u[a]), r.inv_ud[a]));
  }
  const float k = ng_max(ng_ceil(ng_div(t_exit, dt)), 1.f);

  const int64_t cell = ((static_cast<int64_t>(level) * g.res + static_cast<int>(c[0])) * g.res +
                        static_cast<int>(c[1])) * g.res + static_cast<int>(c[2]);
  if (g.bits[cell]) {
    // Midpoints grow with j, so if the last one is before t_end all k are kept: the counting
    // pass adds them at once (same result as the loop below, which the filling pass runs).
    const float last_mid = ng_add(ng_add(t, ng_mul(ng_sub(k, 1.f), dt)), half_dt);
    if (!t_starts && last_mid < r.t_end) {
      n += static_cast<int64_t>(k);
    } else {
      for (int64_t j = 0; static_cast<float>(j) < k; ++j) {
        const float tj = ng_add(t, ng_mul(static_cast<float>(j), dt));
        if (!(ng_add(tj, half_dt) < r.t_end)) break;
        if (t_starts) {
          t_starts[n] = tj;
          t_ends[n] = ng_add(tj, dt);
        }
        ++n;
      }
    }
  }
  const float t_next = ng_add(t, ng_mul(k, dt));
  r.t = t_next;
  return t_next > t;  // false if dt is below float resolution at this t: stop instead of spinning
}

// Marches one ray; returns its sample count and writes the samples when t_starts/t_ends
// are non-null.
NG_HD int64_t march_ray(const float o[3], const float d[3], float t_lo, float t_hi, const GridView& g,
                        const MarchParams& p, float* t_starts, float* t_ends) {
  MarchRay r;
  int64_t n = 0;
  if (march_begin(o, d, t_lo, t_hi, g, r)) {
    while (march_visit(r, g, p, n, t_starts, t_ends)) {
    }
  }
  return n;
}

// Launchers. rays_o/rays_d [n_rays, 3], t_lo/t_hi [n_rays] float32; counts [n_rays]
// int64; offsets [n_rays + 1] int64 exclusive scan of counts; outputs [offsets[n_rays]].
// `stream` is a cudaStream_t.
void march_count_cpu(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo, const float* t_hi,
                     const GridView& grid, const MarchParams& params, int64_t* counts);
void march_fill_cpu(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo, const float* t_hi,
                    const GridView& grid, const MarchParams& params, const int64_t* offsets, int64_t* ray_indices,
                    float* t_starts, float* t_ends);
void march_count_cuda(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo,
                      const float* t_hi, const GridView& grid, const MarchParams& params, int64_t* counts,
                      void* stream);
void march_fill_cuda(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo, const float* t_hi,
                     const GridView& grid, const MarchParams& params, const int64_t* offsets, int64_t* ray_indices,
                     float* t_starts, float* t_ends, void* stream);
