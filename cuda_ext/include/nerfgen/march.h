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
// march_visit_geometry() is the arithmetic of every pass that produces samples (CUDA:
// march_ray, one ray per thread, counting then filling; CPU: a SIMD pack of rays, one pass
// into per-lane buffers) and is mirrored step by step in nerfgen/ops/march.py, so counts
// and samples agree by construction.
#pragma once
#include "common.h"
#include "exact_math.h"
#include "ray_box.h"
#if !defined(__CUDACC__)
#include "simd.h"
#endif

struct GridView {
  const bool* bits;  // [levels, res, res, res]
  // Optional copy of bits packed 32 cells to a word (cell i is bit i % 32 of word i / 32):
  // 8x smaller, so a 128^3 grid stays in L2 on the CPU. Null: read bits.
  const uint32_t* packed;
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

NG_HD bool grid_occupied(const GridView& g, int64_t cell) {
  return g.packed ? (g.packed[cell >> 5] >> (cell & 31)) & 1u : g.bits[cell];
}

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

// Sample j of a visit that starts at t with step dt is [start, start + dt].
NG_HD float march_sample_start(float t, float dt, int64_t j) { return ng_add(t, ng_mul(static_cast<float>(j), dt)); }

// Midpoint of the last of k samples of a visit that starts at t with step dt.
template <class F>
NG_HD F march_last_mid(F t, F dt, F half_dt, F k) {
  return ng_add(ng_add(t, ng_mul(ng_sub(k, ng_splat<F>(1.f)), dt)), half_dt);
}

// How many of an occupied visit's k samples are kept: those whose midpoints are before
// t_end. Midpoints grow with j, so they are a prefix, and all k when the last one is (one
// test instead of k; k may be huge or inf when the ray leaves through the end).
NG_HD int64_t march_kept(float t, float t_end, float dt, float half_dt, float k) {
  if (march_last_mid(t, dt, half_dt, k) < t_end) return static_cast<int64_t>(k);
  int64_t n = 0;
  while (static_cast<float>(n) < k && ng_add(march_sample_start(t, dt, n), half_dt) < t_end) ++n;
  return n;
}

// Writes the n samples of a visit to t_starts/t_ends[0, n).
NG_HD void march_write_samples(float t, float dt, int64_t n, float* t_starts, float* t_ends) {
  for (int64_t j = 0; j < n; ++j) {
    const float start = march_sample_start(t, dt, j);
    t_starts[j] = start;
    t_ends[j] = ng_add(start, dt);
  }
}

// Where one ray's samples go: a Sink has `void add_visit(float t, float dt, int64_t n)`,
// called for each occupied visit that keeps n >= 1 samples. SampleCounter counts them,
// SampleWriter writes them out in order.
struct SampleCounter {
  int64_t n = 0;
  NG_HD void add_visit(float, float, int64_t n_visit) { n += n_visit; }
};

struct SampleWriter {
  float* t_starts;
  float* t_ends;
  int64_t n = 0;
  NG_HD void add_visit(float t, float dt, int64_t n_visit) {
    march_write_samples(t, dt, n_visit, t_starts + n, t_ends + n);
    n += n_visit;
  }
};

// Per-lane types of the visit arithmetic below. It is written once for a lane type F:
// float (one ray per CUDA thread, through march_visit) or, on the CPU, a SIMD pack of
// rays (simd.h), whose ng_* overloads and `mask ? a : b` selects give every lane the
// float code's bits.
template <class F>
struct MarchLanes;
template <>
struct MarchLanes<float> {
  using Int = int;
  using Mask = bool;
  using Cell = int64_t;  // cell index into bits
};
#if !defined(__CUDACC__)
template <>
struct MarchLanes<PackF> {
  using Int = PackI;
  using Mask = PackI;
  using Cell = PackI;  // the CPU launcher checks that levels * res^3 < 2^31
};

// grid_occupied for a pack of cells, from the packed words.
inline PackI grid_occupied(const GridView& g, PackI cell) {
  return ((ng_gather(g.packed, cell >> 5) >> (PackU)(cell & 31)) & 1u) != 0;
}
#endif

// The step at time t. kCone = false is the cone_angle == 0 case: t * 0 clamps to
// step_size (<= max_step, checked by the binding) for every t that keeps marching, so the
// constant saves three dependent ops per visit without changing a bit.
template <bool kCone, class F>
NG_HD F march_step(F t, const MarchParams& p) {
  const F step_size = ng_splat<F>(p.step_size);
  return kCone ? ng_min(ng_max(ng_mul(t, ng_splat<F>(p.cone_angle)), step_size), ng_splat<F>(p.max_step)) : step_size;
}

// Finest level whose box [-2**l, 2**l] contains a point with max-norm m: the smallest l
// with m <= 2**l, i.e. ceil(log2(m)) read off the float's exponent (rounding the mantissa
// up), clamped to [0, levels - 1]. Equal to stepping up a level while m > 2**l, without
// the data-dependent loop.
template <class F, class Int = typename MarchLanes<F>::Int>
NG_HD Int march_level(F m, int levels) {
  const Int ceil_log2 = (Int)((ng_float_bits(m) + 0x7FFFFFu) >> 23) - 127;  // exponent bits: < 2^31
  return ceil_log2 < 0 ? 0 : (ceil_log2 < levels ? ceil_log2 : levels - 1);
}

// What one cell visit (see the top of this file) computes, before it looks at the grid.
template <class F>
struct MarchVisitGeometry {
  F dt, half_dt;
  F k;       // whole steps of dt whose midpoints lie in the cell (>= 1)
  F t_next;  // t + k * dt: where the next visit starts
  typename MarchLanes<F>::Mask inside;  // the step's midpoint is before t_end: the visit happens
  typename MarchLanes<F>::Cell cell;    // the visited cell (level included)
};

// The visit of the ray (uo, ud, inv_ud) at time t. kOneLevel = true requires
// g.levels == 1: level 0 and scale 1 are then constants, so the level search and the
// multiplications by 1 (exact) drop out of every visit without changing a bit.
template <bool kCone, bool kOneLevel, class F>
NG_HD MarchVisitGeometry<F> march_visit_geometry(const F uo[3], const F ud[3], const F inv_ud[3], F t, F t_end,
                                                 const GridView& g, const MarchParams& p) {
  using Int = typename MarchLanes<F>::Int;
  using Cell = typename MarchLanes<F>::Cell;
  const F zero = ng_splat<F>(0.f), one = ng_splat<F>(1.f);
  MarchVisitGeometry<F> v;
  v.dt = march_step<kCone>(t, p);
  v.half_dt = ng_mul(v.dt, ng_splat<F>(0.5f));
  const F mid = ng_add(t, v.half_dt);
  v.inside = mid < t_end;

  F u[3];
  F m = zero;
  for (int a = 0; a < 3; ++a) {
    u[a] = ng_add(uo[a], ng_mul(mid, ud[a]));
    m = ng_max(m, ng_abs(u[a]));
  }
  const Int level = kOneLevel ? Int{} : march_level(m, g.levels);
  const F scale = kOneLevel ? one : ng_pow2(level), inv_scale = kOneLevel ? one : ng_pow2(-level);  // exact
  const F half_res = ng_splat<F>(0.5f * static_cast<float>(g.res));
  const F last_cell = ng_splat<F>(static_cast<float>(g.res - 1));
  Int ci[3];
  F c[3];
  for (int a = 0; a < 3; ++a) {
    const F w = ng_mul(ng_add(ng_mul(u[a], inv_scale), one), half_res);
    // floor of a value clamped to [0, res - 1] is its truncation
    ci[a] = ng_trunc_int(ng_min(ng_max(w, zero), last_cell));
    c[a] = ng_to_float(ci[a]);
  }
  // Distance from the midpoint to where the ray leaves this cell, over the axes it moves along.
  F t_exit = ng_splat<F>(ng_inf());
  for (int a = 0; a < 3; ++a) {
    const F face = ud[a] > zero ? ng_add(c[a], one) : c[a];
    const F b = ng_mul(ng_sub(ng_mul(face, ng_splat<F>(g.cell_v)), one), scale);
    const F t_exit_a = ng_mul(ng_sub(b, u[a]), inv_ud[a]);
    t_exit = ud[a] != zero ? ng_min(t_exit, t_exit_a) : t_exit;
  }
  v.k = ng_max(ng_ceil(ng_div(t_exit, v.dt)), one);
  v.t_next = ng_add(t, ng_mul(v.k, v.dt));
  v.cell = (((Cell)level * g.res + ci[0]) * g.res + ci[1]) * g.res + ci[2];
  return v;
}

// One cell visit of one ray (the CUDA kernels' march_ray): samples go to `sink`. Returns
// false once the ray is done.
template <bool kCone, typename Sink>
NG_HD bool march_visit(MarchRay& r, const GridView& g, const MarchParams& p, Sink& sink) {
  const MarchVisitGeometry<float> v = march_visit_geometry<kCone, false>(r.uo, r.ud, r.inv_ud, r.t, r.t_end, g, p);
  if (!v.inside) return false;
  const float t = r.t;
  if (grid_occupied(g, v.cell)) {
    const int64_t n = march_kept(t, r.t_end, v.dt, v.half_dt, v.k);
    if (n > 0) sink.add_visit(t, v.dt, n);
  }
  r.t = v.t_next;
  return v.t_next > t;  // false if dt is below float resolution at this t: stop instead of spinning
}

// Marches one ray into `sink`.
template <bool kCone, typename Sink>
NG_HD void march_ray(const float o[3], const float d[3], float t_lo, float t_hi, const GridView& g,
                     const MarchParams& p, Sink& sink) {
  MarchRay r;
  if (march_begin(o, d, t_lo, t_hi, g, r)) {
    while (march_visit<kCone>(r, g, p, sink)) {
    }
  }
}

// Launchers. rays_o/rays_d [n_rays, 3], t_lo/t_hi [n_rays] float32; counts [n_rays]
// int64; offsets [n_rays + 1] int64 exclusive scan of counts; outputs [offsets[n_rays]].
// `stream` is a cudaStream_t.
//
// CUDA: count, scan, fill (two traversals, no atomics). CPU: one traversal; each ray's
// samples are kept where they were marched (see MarchCpuSamples) and copied to the same
// packed layout once the scan has placed every ray.
void march_count_cuda(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo,
                      const float* t_hi, const GridView& grid, const MarchParams& params, int64_t* counts,
                      void* stream);
void march_fill_cuda(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo, const float* t_hi,
                     const GridView& grid, const MarchParams& params, const int64_t* offsets, int64_t* ray_indices,
                     float* t_starts, float* t_ends, void* stream);

#if !defined(__CUDACC__)
#include <vector>

// An occupied visit's samples, as march_write_samples expands them: 16 bytes for ~4
// samples of 8 bytes each in a typical cell.
struct MarchVisit {
  float t, dt;
  int64_t n;
};

// Samples of a CPU march before packing. Every (thread, lane) appends whole rays one after
// another to its own buffer of visits; ray r's visits start at ray_begin[r] in
// buffers[ray_buffer[r]] and hold counts[r] samples.
struct MarchCpuSamples {
  std::vector<std::vector<MarchVisit>> buffers;
  std::vector<int32_t> ray_buffer;  // [n_rays]
  std::vector<int64_t> ray_begin;   // [n_rays]
};

void march_traverse_cpu(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo,
                        const float* t_hi, const GridView& grid, const MarchParams& params, int64_t* counts,
                        MarchCpuSamples& samples);
void march_gather_cpu(int64_t n_rays, const MarchCpuSamples& samples, const int64_t* offsets, int64_t* ray_indices,
                      float* t_starts, float* t_ends);
#endif
