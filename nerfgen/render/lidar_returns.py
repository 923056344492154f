"""LiDAR returns from a radiance field's per-ray sample weights (packed samples).

A beam returns where the accumulated opacity along the ray (the running sum of the
volume-rendering weights) first reaches `opacity_threshold`; within that sample the
opacity is taken to grow linearly, so the range is interpolated between the sample's
t_start and t_end. A ray whose total opacity stays below the threshold is dropped
(LiDAR ray drop: sky, glass, thin haze). Weights must be non-negative.

Vectorised over packed samples without per-sample gathers: a float64 prefix sum of all
weights and one binary search per ray, so threshold comparisons are exact up to float64
rounding of that running sum (~1e-16 relative).
"""

from __future__ import annotations

import torch
from torch import Tensor

from nerfgen.errors import NerfgenError


def returns_from_weights(
    weights: Tensor,  # [S] volume-rendering weights of packed samples, >= 0
    t_starts: Tensor,  # [S] metres along the unit ray
    t_ends: Tensor,  # [S]
    offsets: Tensor,  # [n_rays + 1] int64: ray r owns samples offsets[r] : offsets[r+1], sorted by t
    opacity_threshold: float = 0.5,
) -> tuple[Tensor, Tensor]:
    """(range [n_rays] in the dtype of t_starts, 0 where dropped; returned [n_rays] bool).

    A ray returns iff its total opacity is >= opacity_threshold (in (0, 1]).
    """
    if not 0 < opacity_threshold <= 1:
        raise NerfgenError(None, f"opacity_threshold must be in (0, 1], got {opacity_threshold}")
    if len(weights) and weights.min() < 0:
        raise NerfgenError(None, "sample weights must be non-negative")
    offsets = offsets.long()
    first, end = offsets[:-1], offsets[1:]
    # Segment-wise cumsum from one global float64 prefix sum: prefix[i] = sum(weights[:i]),
    # so ray r's accumulated opacity after its sample s is prefix[s + 1] - prefix[first[r]].
    w = weights.double()
    prefix = w.new_zeros(len(w) + 1)
    torch.cumsum(w, 0, out=prefix[1:])
    base = prefix[first]
    # With non-negative weights the prefix never decreases, so one binary search over
    # all samples finds each ray's crossing: the first sample whose accumulated opacity
    # reaches the threshold. It lands at or after the ray's first sample (threshold > 0);
    # at or past the ray's end means the ray never reached it.
    crossing = torch.searchsorted(prefix, base + opacity_threshold) - 1
    returned = crossing < end
    c = crossing[returned]
    opacity_before = prefix[c] - base[returned]
    fraction = (opacity_threshold - opacity_before) / w[c]  # in (0, 1]
    t0, t1 = t_starts[c].double(), t_ends[c].double()
    range_ = torch.zeros(len(first), dtype=torch.float64, device=offsets.device)
    range_[returned] = t0 + fraction * (t1 - t0)
    return range_.to(t_starts.dtype), returned
