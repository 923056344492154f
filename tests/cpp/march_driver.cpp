// Runs the CPU march launchers without torch, so tests can build them for other vector
// ISAs than the extension's -march=native (see tests/test_cpu_isa.py).
//
// usage: march_driver IN OUT n_rays levels res step_size cone_angle max_step
// IN: float32 rays_o [n,3], rays_d [n,3], t_lo [n], t_hi [n], then uint8 bits [levels,res,res,res]
// (level-0 box: centre 0, half size 1). OUT: int64 counts [n], float32 t_starts, t_ends [total].
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "nerfgen/march.h"

int main(int argc, char** argv) {
  if (argc != 9) return 2;
  const int64_t n = atoll(argv[3]);
  const int levels = atoi(argv[4]), res = atoi(argv[5]);
  const MarchParams params{strtof(argv[6], nullptr), strtof(argv[7], nullptr), strtof(argv[8], nullptr)};
  std::vector<float> rays(8 * n);
  std::vector<uint8_t> bits(static_cast<size_t>(levels) * res * res * res);
  FILE* in = fopen(argv[1], "rb");
  if (!in || fread(rays.data(), 4, rays.size(), in) != rays.size() || fread(bits.data(), 1, bits.size(), in) != bits.size()) return 3;
  fclose(in);
  GridView grid{};
  grid.bits = reinterpret_cast<const bool*>(bits.data());
  grid.levels = levels;
  grid.res = res;
  for (int a = 0; a < 3; ++a) grid.center[a] = 0.f, grid.half[a] = 1.f;
  grid.cell_v = 2.f / static_cast<float>(res);
  const float *o = rays.data(), *d = o + 3 * n, *t_lo = d + 3 * n, *t_hi = t_lo + n;
  std::vector<int64_t> counts(n), offsets(n + 1, 0);
  MarchCpuSamples samples;
  march_traverse_cpu(n, o, d, t_lo, t_hi, grid, params, counts.data(), samples);
  for (int64_t r = 0; r < n; ++r) offsets[r + 1] = offsets[r] + counts[r];
  const int64_t total = offsets[n];
  std::vector<int64_t> ray_indices(total);
  std::vector<float> t_starts(total), t_ends(total);
  march_gather_cpu(n, samples, offsets.data(), ray_indices.data(), t_starts.data(), t_ends.data());
  FILE* out = fopen(argv[2], "wb");
  if (!out) return 4;
  fwrite(counts.data(), 8, n, out);
  fwrite(t_starts.data(), 4, total, out);
  fwrite(t_ends.data(), 4, total, out);
  fclose(out);
  printf("%d\n", kPackWidth);
  return 0;
}
