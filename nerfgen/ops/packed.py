"""PackedSamples: samples of many rays in one flat layout (nerfacc's "packed" format)."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor


@dataclass
class PackedSamples:
    """Ray r's samples are rows offsets[r]:offsets[r+1], sorted by t_start."""

    ray_indices: Tensor  # [S] int64, the ray of each sample (non-decreasing)
    t_starts: Tensor  # [S] float32, world distance along the ray where the sample starts
    t_ends: Tensor  # [S] float32
    offsets: Tensor  # [n_rays + 1] int64, exclusive scan of per-ray counts
    n_rays: int

    @property
    def n_samples(self) -> int:
        return int(self.t_starts.shape[0])

    @property
    def counts(self) -> Tensor:  # [n_rays] int64
        return self.offsets[1:] - self.offsets[:-1]

    @staticmethod
    def from_ray_indices(ray_indices: Tensor, t_starts: Tensor, t_ends: Tensor, n_rays: int) -> "PackedSamples":
        """Builds offsets from ray_indices that are already grouped by ray in order."""
        counts = torch.bincount(ray_indices, minlength=n_rays)
        offsets = torch.zeros(n_rays + 1, dtype=torch.int64, device=ray_indices.device)
        torch.cumsum(counts, 0, out=offsets[1:])
        return PackedSamples(ray_indices, t_starts, t_ends, offsets, n_rays)

    def select(self, keep: Tensor) -> "PackedSamples":  # keep [S] bool
        """The samples where `keep` is True, still packed by ray."""
        return PackedSamples.from_ray_indices(
            self.ray_indices[keep], self.t_starts[keep], self.t_ends[keep], self.n_rays
        )


def exclusive_sum_per_ray(values: Tensor, offsets: Tensor) -> Tensor:  # [S], [n_rays + 1] -> [S] float64
    """Per sample, the sum of the values before it within its ray. One global cumulative
    sum minus its value at each ray's first sample, in float64 so that subtracting the
    running total of earlier rays costs no precision."""
    inclusive = torch.cat([values.new_zeros(1, dtype=torch.float64), torch.cumsum(values.double(), 0)])  # [S + 1]
    counts = offsets[1:] - offsets[:-1]
    ray_start = torch.repeat_interleave(inclusive[offsets[:-1]], counts, output_size=values.numel())
    return inclusive[:-1] - ray_start
