"""Depth supervision over packed samples: pulls each ray's weights onto a known range.

For datasets that carry depth maps (RGB-D captures, LiDAR projected into the images,
nerfstudio's `depth_file_path`), as DS-NeRF and Urban Radiance Fields do: a ray whose
surface is known to lie at range d should put all its weight at d and none in front of
it (free space) or behind it.

    L_r = sum_i w_i |t_i - d| / d + (1 - sum_i w_i)

with t_i the sample midpoints. The first term is the weighted mean absolute distance of
the ray's weights from the surface, relative to d so near and far pixels count alike (the
expected-depth error a user measures is relative too); unlike a loss on the expected depth
alone it penalises every floater, even when floaters in front and mass behind average out
to the right depth. The second term asks for an opaque surface, without which the first
is minimised by no weight at all. Rays without a valid depth (d <= 0: sky, sensor gaps)
contribute nothing.

Both terms act through the compositing weights, whose gradient in a region the field has
already declared empty vanishes with the density (exp activation: d sigma / d raw =
sigma ~ 1e-9). Thin structures seen only a few pixels wide from afar (a street's lamp
posts) are carved away by free-space rays early and never come back. `surface_opacity_loss`
asks directly for opacity at the known surface point, in log space, where the gradient
does not vanish.
"""

from __future__ import annotations

import math

import torch
from torch import Tensor


def depth_loss(
    weights: Tensor,  # [S] compositing weights
    t_starts: Tensor,  # [S]
    t_ends: Tensor,  # [S]
    ray_indices: Tensor,  # [S] int64
    opacity: Tensor,  # [n_rays] sum of each ray's weights
    range_target: Tensor,  # [n_rays] metres along the ray; <= 0 where unknown
) -> Tensor:  # [] mean over rays with a valid target (0 when there are none)
    valid = range_target > 0
    n_valid = int(valid.sum())
    if n_valid == 0:
        return weights.new_zeros(())
    t_mid = 0.5 * (t_starts + t_ends)
    d = torch.where(valid, range_target, 1.0)[ray_indices]  # 1.0: any finite divisor, masked below
    spread = weights * (t_mid - d).abs() / d * valid[ray_indices]
    empty = (1.0 - opacity) * valid
    return (spread.sum() + empty.sum()) / n_valid


def surface_opacity_loss(
    density: Tensor,  # [N] field density just behind each known surface point
    step: float,  # marching step length (metres)
) -> Tensor:  # [] mean over points
    """Mean of max(0, -log alpha - log 2), alpha = 1 - exp(-density * step): zero once one
    marching step at the surface is at least half opaque. -log alpha ~ -log(density * step)
    for a transparent point, so its gradient w.r.t. the log-density is ~1 however empty
    the field is there."""
    if density.numel() == 0:
        return density.new_zeros(())
    log_alpha = torch.log((-torch.expm1(-density * step)).clamp_min(1e-30))
    return torch.relu(-math.log(2.0) - log_alpha).mean()
