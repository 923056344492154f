// Merging the packed samples of several fields along the same rays, sorted by t_start.
//
// Each field's samples for a ray must already be sorted by t_start (march produces them
// so). Per ray this is a k-way merge into the ray's slice of the output, whose offsets
// are the sums of the fields' offsets; ties go to the lower field index, then to the
// earlier sample of that field (a stable merge), as in the reference's stable sorts.
#pragma once
#include "common.h"

constexpr int kMaxMergeFields = 32;

// field_offsets: [n_fields, n_rays + 1], already shifted into the concatenated sample
// arrays (field f's samples of ray r are field_offsets[f][r] : field_offsets[f][r + 1]);
// field_base[f]: where field f starts in the concatenation.
NG_HD void merge_ray(int64_t r, int64_t n_rays, int n_fields, const int64_t* field_offsets, const int64_t* field_base,
                     const float* t_starts, const float* t_ends, const int64_t* out_offsets, int64_t* ray_indices,
                     float* out_t_starts, float* out_t_ends, int64_t* field_ids, int64_t* source_index) {
  int64_t pos[kMaxMergeFields], end[kMaxMergeFields];
  for (int f = 0; f < n_fields; ++f) {
    pos[f] = field_offsets[f * (n_rays + 1) + r];
    end[f] = field_offsets[f * (n_rays + 1) + r + 1];
  }
  for (int64_t k = out_offsets[r]; k < out_offsets[r + 1]; ++k) {
    int best = -1;
    for (int f = 0; f < n_fields; ++f) {
      // strict < keeps the lower field on ties
      if (pos[f] < end[f] && (best < 0 || t_starts[pos[f]] < t_starts[pos[best]])) best = f;
    }
    const int64_t s = pos[best]++;
    ray_indices[k] = r;
    out_t_starts[k] = t_starts[s];
    out_t_ends[k] = t_ends[s];
    field_ids[k] = best;
    source_index[k] = s - field_base[best];
  }
}

// Launchers; every pointer is as described for merge_ray. `stream` is a cudaStream_t.
void merge_samples_cpu(int64_t n_rays, int n_fields, const int64_t* field_offsets, const int64_t* field_base,
                       const float* t_starts, const float* t_ends, const int64_t* out_offsets, int64_t* ray_indices,
                       float* out_t_starts, float* out_t_ends, int64_t* field_ids, int64_t* source_index);
void merge_samples_cuda(int64_t n_rays, int n_fields, const int64_t* field_offsets, const int64_t* field_base,
                        const float* t_starts, const float* t_ends, const int64_t* out_offsets, int64_t* ray_indices,
                        float* out_t_starts, float* out_t_ends, int64_t* field_ids, int64_t* source_index,
                        void* stream);
