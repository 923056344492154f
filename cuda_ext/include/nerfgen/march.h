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
// march_ray() is used by every pass that produces samples (CUDA: counting, then filling;
// CPU: one pass into per-lane buffers) and mirrored step by step in nerfgen/ops/march.py,
// so counts and samples agree by construction.
#pragma once
#include "common.h"
#include "exact_math.h"
#include "ray_box.h"

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

// How many of an occupied visit's k samples are kept: those whose midpoints are before
// t_end. Midpoints grow with j, so they are a prefix, and all k when the last one is (one
// test instead of k; k may be huge or inf when the ray leaves through the end).
NG_HD int64_t march_kept(const MarchRay& r, float t, float dt, float half_dt, float k) {
  const float last_mid = ng_add(ng_add(t, ng_mul(ng_sub(k, 1.f), dt)), half_dt);
  if (last_mid < r.t_end) return static_cast<int64_t>(k);
  int64_t n = 0;
  while (static_cast<float>(n) < k && ng_add(march_sample_start(t, dt, n), half_dt) < r.t_end) ++n;
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

// The step at time t. kCone = false is the cone_angle == 0 case: t * 0 clamps to
// step_size (<= max_step, checked by the binding) for every t that keeps marching, so the
// constant saves three dependent ops per visit without changing a bit.
template <bool kCone>
NG_HD float march_step(float t, const MarchParams& p) {
  return kCone ? ng_min(ng_max(ng_mul(t, p.cone_angle), p.step_size), p.max_step) : p.step_size;
}

// Finest level whose box [-2**l, 2**l] contains a point with max-norm m: the smallest l
// with m <= 2**l, i.e. ceil(log2(m)) read off the float's exponent (rounding the mantissa
// up), clamped to [0, levels - 1]. Equal to stepping up a level while m > 2**l, without
// the data-dependent loop.
NG_HD int march_level(float m, int levels) {
  const int ceil_log2 = static_cast<int>((ng_float_bits(m) + 0x7FFFFFu) >> 23) - 127;
  return ceil_log2 < 0 ? 0 : (ceil_log2 < levels ? ceil_log2 : levels - 1);
}

// One cell visit (see the top of this file): samples go to `sink`. Returns false once the
// ray is done. kOneLevel = true requires g.levels == 1: level 0 and scale 1 are then
// constants, so the level search and the multiplications by 1 (exact) drop out of every
// visit without changing a bit.
template <bool kCone, bool kOneLevel = false, typename Sink>
NG_HD bool march_visit(MarchRay& r, const GridView& g, const MarchParams& p, Sink& sink) {
  const float t = r.t;
  const float dt = march_step<kCone>(t, p);
  const float half_dt = ng_mul(dt, 0.5f);
  const float mid = ng_add(t, half_dt);
  if (!(mid < r.t_end)) return false;

  float u[3];
  float m = 0.f;
  for (int a = 0; a < 3; ++a) {
    u[a] = ng_add(r.uo[a], ng_mul(mid, r.ud[a]));
    m = ng_max(m, fabsf(u[a]));
  }
  const int level = kOneLevel ? 0 : march_level(m, g.levels);
  const float scale = kOneLevel ? 1.f : ng_pow2(level), inv_scale = kOneLevel ? 1.f : ng_pow2(-level);  // exact
  const float half_res = 0.5f * static_cast<float>(g.res);
  int ci[3];
  float c[3];
  for (int a = 0; a < 3; ++a) {
    const float w = ng_mul(ng_add(ng_mul(u[a], inv_scale), 1.f), half_res);
    // floor of a value clamped to [0, res - 1] is its truncation
    ci[a] = static_cast<int>(ng_min(ng_max(w, 0.f), static_cast<float>(g.res - 1)));
    c[a] = static_cast<float>(ci[a]);
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

  const int64_t cell = ((static_cast<int64_t>(level) * g.res + ci[0]) * g.res + ci[1]) * g.res + ci[2];
  if (grid_occupied(g, cell)) {
    const int64_t n = march_kept(r, t, dt, half_dt, k);
    if (n > 0) sink.add_visit(t, dt, n);
  }
  const float t_next = ng_add(t, ng_mul(k, dt));
  r.t = t_next;
  return t_next > t;  // false if dt is below float resolution at this t: stop instead of spinning
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
