// CPU launchers for march: every ray is traversed once.
//
// Threads take chunks of consecutive rays (dynamic scheduling: rays differ a lot in
// length, misses vs long occupied stretches) and march kPackWidth rays of a chunk at once,
// one per SIMD lane, through the same march_visit_geometry() as the CUDA kernels: a visit
// is a long chain of dependent float ops, identical for every ray, so one pack instruction
// advances a whole pack (16 rays with AVX-512). Lanes whose cell is occupied then append their visit one by one; a lane
// whose ray ends takes the chunk's next ray, so the lanes stay busy until the chunk runs dry.
//
// Occupied visits (t, dt, number of samples) are appended to one buffer per (thread,
// lane); march_gather_cpu expands each ray's visits into its place in the packed layout
// once the binding has scanned the counts, with the same arithmetic as the CUDA fill pass.
// A second traversal (count, then fill, as on CUDA) would cost more than that.
#include <omp.h>

#include <cstring>

#include "nerfgen/march.h"

namespace {

constexpr int64_t kChunk = 256;  // rays per scheduling chunk (128 and 1024 measured the same)

struct MarchRays {
  const float* o;     // [n_rays, 3]
  const float* d;     // [n_rays, 3]
  const float* t_lo;  // [n_rays]
  const float* t_hi;  // [n_rays]
};

// The rays in a pack's lanes, as MarchRay's fields lane by lane.
struct alignas(64) PackRays {
  float uo[3][kPackWidth], ud[3][kPackWidth], inv_ud[3][kPackWidth];
  float t[kPackWidth], t_end[kPackWidth];

  void set(int lane, const MarchRay& r) {
    for (int a = 0; a < 3; ++a) {
      uo[a][lane] = r.uo[a];
      ud[a][lane] = r.ud[a];
      inv_ud[a][lane] = r.inv_ud[a];
    }
    t[lane] = r.t;
    t_end[lane] = r.t_end;
  }
};

PackF load(const float* lanes) {
  PackF v;
  std::memcpy(&v, lanes, sizeof v);
  return v;
}

// A lane without a ray: a finite one that ends before its first visit.
constexpr MarchRay kIdleRay{{0.f, 0.f, 0.f}, {1.f, 1.f, 1.f}, {1.f, 1.f, 1.f}, 0.f, -1.f};

// Rays [r0, r1) of one chunk, marched by one thread whose lane buffers start at
// samples.buffers[buffer0]. Writes counts[r], samples.ray_buffer[r], samples.ray_begin[r].
template <bool kCone, bool kOneLevel>
void march_chunk(int64_t r0, int64_t r1, const MarchRays& rays, const GridView& grid, const MarchParams& params,
                 int64_t* counts, MarchCpuSamples& samples, int buffer0) {
  PackRays pack;
  int64_t ray[kPackWidth], n_samples[kPackWidth];
  int64_t next = r0;
  // Gives `lane` the chunk's next ray that has something to march (rays that miss the
  // grid get count 0 on the way); false, and an idle ray, when the chunk is done.
  const auto start_next_ray = [&](int lane) {
    const std::vector<MarchVisit>& buffer = samples.buffers[buffer0 + lane];
    while (next < r1) {
      const int64_t r = next++;
      counts[r] = 0;
      samples.ray_buffer[r] = buffer0 + lane;
      samples.ray_begin[r] = static_cast<int64_t>(buffer.size());
      MarchRay march_ray;
      if (march_begin(rays.o + 3 * r, rays.d + 3 * r, rays.t_lo[r], rays.t_hi[r], grid, march_ray)) {
        pack.set(lane, march_ray);
        ray[lane] = r;
        n_samples[lane] = 0;
        return true;
      }
    }
    pack.set(lane, kIdleRay);
    return false;
  };
  uint32_t active = 0;  // bit per lane marching a ray
  for (int lane = 0; lane < kPackWidth; ++lane) active |= static_cast<uint32_t>(start_next_ray(lane)) << lane;
  while (active != 0) {
    PackF uo[3], ud[3], inv_ud[3];
    for (int a = 0; a < 3; ++a) {
      uo[a] = load(pack.uo[a]);
      ud[a] = load(pack.ud[a]);
      inv_ud[a] = load(pack.inv_ud[a]);
    }
    const PackF t = load(pack.t), t_end = load(pack.t_end);
    const MarchVisitGeometry<PackF> v =
        march_visit_geometry<kCone, kOneLevel>(uo, ud, inv_ud, t, t_end, grid, params);
    // As march_visit, lane by lane: samples of occupied cells, then t moves on.
    for (uint32_t lanes = ng_mask_bits(v.inside & grid_occupied(grid, v.cell)) & active; lanes != 0; lanes &= lanes - 1) {
      const int i = __builtin_ctz(lanes);
      const int64_t n = march_kept(t[i], t_end[i], v.dt[i], v.half_dt[i], v.k[i]);
      if (n > 0) {
        samples.buffers[buffer0 + i].push_back({t[i], v.dt[i], n});
        n_samples[i] += n;
      }
    }
    std::memcpy(pack.t, &v.t_next, sizeof pack.t);  // lanes that end are restarted or idle below
    for (uint32_t ended = active & ~ng_mask_bits(v.inside & (v.t_next > t)); ended != 0; ended &= ended - 1) {
      const int i = __builtin_ctz(ended);
      counts[ray[i]] = n_samples[i];
      if (!start_next_ray(i)) active &= ~(1u << i);
    }
  }
}

template <bool kCone, bool kOneLevel>
void march_all(int64_t n_rays, const MarchRays& rays, const GridView& grid, const MarchParams& params,
               int64_t* counts, MarchCpuSamples& samples) {
#pragma omp parallel for schedule(dynamic, 1)
  for (int64_t r0 = 0; r0 < n_rays; r0 += kChunk) {
    const int64_t r1 = r0 + kChunk < n_rays ? r0 + kChunk : n_rays;
    march_chunk<kCone, kOneLevel>(r0, r1, rays, grid, params, counts, samples, omp_get_thread_num() * kPackWidth);
  }
}

// grid.bits packed 32 cells to a word (see GridView::packed).
std::vector<uint32_t> pack_bits(const GridView& grid) {
  const int64_t n_cells = static_cast<int64_t>(grid.levels) * grid.res * grid.res * grid.res;
  std::vector<uint32_t> words((n_cells + 31) / 32);
#pragma omp parallel for schedule(static)
  for (int64_t w = 0; w < static_cast<int64_t>(words.size()); ++w) {
    uint32_t word = 0;
    for (int64_t i = 32 * w, b = 0; b < 32 && i < n_cells; ++i, ++b) word |= static_cast<uint32_t>(grid.bits[i]) << b;
    words[w] = word;
  }
  return words;
}

}  // namespace

void march_traverse_cpu(int64_t n_rays, const float* rays_o, const float* rays_d, const float* t_lo,
                        const float* t_hi, const GridView& grid_bytes, const MarchParams& params, int64_t* counts,
                        MarchCpuSamples& samples) {
  const std::vector<uint32_t> packed = pack_bits(grid_bytes);
  GridView grid = grid_bytes;
  grid.packed = packed.data();
  samples.buffers.assign(static_cast<size_t>(omp_get_max_threads()) * kPackWidth, {});
  samples.ray_buffer.resize(n_rays);
  samples.ray_begin.resize(n_rays);
  const MarchRays rays{rays_o, rays_d, t_lo, t_hi};
  const bool cone = params.cone_angle != 0.f, one_level = grid.levels == 1;
  const auto run = cone ? (one_level ? march_all<true, true> : march_all<true, false>)
                        : (one_level ? march_all<false, true> : march_all<false, false>);
  run(n_rays, rays, grid, params, counts, samples);
}

void march_gather_cpu(int64_t n_rays, const MarchCpuSamples& samples, const int64_t* offsets, int64_t* ray_indices,
                      float* t_starts, float* t_ends) {
#pragma omp parallel for schedule(dynamic, 256)
  for (int64_t r = 0; r < n_rays; ++r) {
    const MarchVisit* visit = samples.buffers[samples.ray_buffer[r]].data() + samples.ray_begin[r];
    for (int64_t k = offsets[r]; k < offsets[r + 1]; k += visit->n, ++visit) {
      march_write_samples(visit->t, visit->dt, visit->n, t_starts + k, t_ends + k);
    }
    for (int64_t k = offsets[r]; k < offsets[r + 1]; ++k) ray_indices[k] = r;
  }
}
