// Marching rays through a multi-level occupancy grid (Instant-NGP / nerfacc cascade).
//
// Grid: level l covers the level-0 box scaled by 2**l about its centre; each level has
// res^3 cells, stored x-major in `bits` [levels, res, res, res]. Work happens in "unit
// coordinates" u = (x - centre) / half_size, where level l spans [-2**l, 2**l]^3 and the
// ray is u(t) = uo + t * ud with t still the world t.
//
// One step at time t: dt = clamp(t * cone_angle, step_size, max_step); the sample is
// [t, t + dt] and is judged by its midpoint t + dt/2 (the midpoint must be < t_end and lie in
// an occupied cell of the finest level that contains it). In an empty cell the ray jumps
// straight past the cell's exit (DDA against that cell's faces), by whole steps of the
// current dt, so sample positions stay on the step lattice when cone_angle = 0.
//
// march_ray() is used by both the counting pass and the filling pass (and mirrored line by
// line in nerfgen/ops/march.py), so counts and fills agree by construction.
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

// Marches one ray over [t_lo, t_hi] clipped to the outermost level. Writes up to the
// returned number of samples when t_starts/t_ends are non-null (the filling pass).
NG_HD int64_t march_ray(const float o[3], const float d[3], float t_lo, float t_hi, const GridView& g,
                        const MarchParams& p, float* t_starts, float* t_ends) {
  float uo[3], ud[3];
  for (int a = 0; a < 3; ++a) {
    uo[a] = ng_div(ng_sub(o[a], g.center[a]), g.half[a]);
    ud[a] = ng_div(d[a], g.half[a]);
  }
  // A zero direction would sample one point forever.
  if (ud[0] == 0.f && ud[1] == 0.f && ud[2] == 0.f) return 0;
  const float outer = static_cast<float>(1 << (g.levels - 1));
  const float lo[3] = {-outer, -outer, -outer}, hi[3] = {outer, outer, outer};
  const RayBoxHit box = ray_box(uo, ud, lo, hi);
  if (!box.hit) return 0;

  const float half_res = 0.5f * static_cast<float>(g.res);
  float t = fmaxf(t_lo, box.t_near);
  const float t_end = fminf(t_hi, box.t_far);
  int64_t n = 0;
  while (true) {
    const float dt = fminf(fmaxf(ng_mul(t, p.cone_angle), p.step_size), p.max_step);
    const float mid = ng_add(t, ng_mul(dt, 0.5f));
    if (!(mid < t_end)) break;

    float u[3];
    float m = 0.f;
    for (int a = 0; a < 3; ++a) {
      u[a] = ng_add(uo[a], ng_mul(mid, ud[a]));
      m = fmaxf(m, fabsf(u[a]));
    }
    // Finest level whose box [-2**l, 2**l] contains the midpoint (powers of 2 are exact).
    int level = 0;
    float scale = 1.f, inv_scale = 1.f;
    while (level + 1 < g.levels && m > scale) {
      ++level;
      scale = ng_mul(scale, 2.f);
      inv_scale = ng_mul(inv_scale, 0.5f);
    }
    int c[3];
    for (int a = 0; a < 3; ++a) {
      const float w = floorf(ng_mul(ng_add(ng_mul(u[a], inv_scale), 1.f), half_res));
      c[a] = static_cast<int>(fminf(fmaxf(w, 0.f), static_cast<float>(g.res - 1)));
    }
    const int64_t cell = ((static_cast<int64_t>(level) * g.res + c[0]) * g.res + c[1]) * g.res + c[2];

    float t_next;
    if (g.bits[cell]) {
      if (t_starts) {
        t_starts[n] = t;
        t_ends[n] = ng_add(t, dt);
      }
      ++n;
      t_next = ng_add(t, dt);
    } else {
      // Distance from the midpoint to where the ray leaves this cell.
      float t_exit = ng_inf();
      for (int a = 0; a < 3; ++a) {
        if (ud[a] == 0.f) continue;
        const float face = static_cast<float>(ud[a] > 0.f ? c[a] + 1 : c[a]);
        const float b = ng_mul(ng_sub(ng_mul(face, g.cell_v), 1.f), scale);
        t_exit = fminf(t_exit, ng_div(ng_sub(b, u[a]), ud[a]));
      }
      const float k = fmaxf(ceilf(ng_div(t_exit, dt)), 1.f);
      t_next = ng_add(t, ng_mul(k, dt));
    }
    if (!(t_next > t)) break;  // dt below float resolution at this t: stop instead of spinning
    t = t_next;
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
