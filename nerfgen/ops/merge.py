"""Merging the packed samples of several fields (e.g. background + inserted objects).

Per ray, the samples of all fields are interleaved by t_start. Ties keep field order,
then each field's own order (a stable merge). Each field's samples must already be sorted
by t_start within every ray, as nerfgen.ops.march produces them.
"""

from __future__ import annotations

from typing import Sequence

import torch
from torch import Tensor

from nerfgen.ops import _ext
from nerfgen.ops.packed import PackedSamples

MAX_FIELDS = 32  # kMaxMergeFields in cuda_ext/include/nerfgen/merge.h


def merge_samples(
    fields: Sequence[PackedSamples],  # each over the same n_rays
) -> tuple[PackedSamples, Tensor, Tensor]:  # merged, field_ids [S] int64, source_index [S] int64
    """Merged samples, the field of each, and its row in that field's own packed arrays."""
    _check(fields)
    t_starts = [f.t_starts.contiguous().float() for f in fields]
    t_ends = [f.t_ends.contiguous().float() for f in fields]
    offsets = [f.offsets.contiguous().long() for f in fields]
    if len(fields) <= MAX_FIELDS and _ext.use_ext(*t_starts, *t_ends, *offsets):
        ray_indices, ts, te, out_offsets, field_ids, source_index = _ext.ops().merge_samples(t_starts, t_ends, offsets)
        return PackedSamples(ray_indices, ts, te, out_offsets, fields[0].n_rays), field_ids, source_index
    return merge_samples_reference(fields)


def _check(fields: Sequence[PackedSamples]) -> None:
    if not fields:
        raise ValueError("merge_samples: need at least one PackedSamples")
    n_rays = fields[0].n_rays
    for i, f in enumerate(fields):
        if f.n_rays != n_rays or f.offsets.shape[0] != n_rays + 1:
            raise ValueError(f"merge_samples: field {i} has {f.n_rays} rays, field 0 has {n_rays}")


def merge_samples_reference(fields: Sequence[PackedSamples]) -> tuple[PackedSamples, Tensor, Tensor]:
    """Pure PyTorch: concatenate in field order, then stable key sorts by t_start and by ray.

    Two stable sorts give the lexicographic order (ray, t_start, field, row) because the
    concatenation is already in (field, row) order.
    """
    _check(fields)
    n_rays = fields[0].n_rays
    dev = fields[0].t_starts.device
    ray_indices = torch.cat([f.ray_indices for f in fields])
    t_starts = torch.cat([f.t_starts for f in fields])
    t_ends = torch.cat([f.t_ends for f in fields])
    field_ids = torch.cat([torch.full((f.n_samples,), i, dtype=torch.int64, device=dev) for i, f in enumerate(fields)])
    source_index = torch.cat([torch.arange(f.n_samples, device=dev) for f in fields])
    order = torch.sort(t_starts, stable=True).indices
    order = order[torch.sort(ray_indices[order], stable=True).indices]
    offsets = torch.stack([f.offsets for f in fields]).sum(0)
    merged = PackedSamples(ray_indices[order], t_starts[order], t_ends[order], offsets, n_rays)
    return merged, field_ids[order], source_index[order]
