"""Distortion loss of mip-NeRF 360 over packed samples: pulls each ray's weights into one
compact interval, which removes the semi-transparent haze around surfaces that makes
expected depth (and the normals derived from it) noisy.

    L_r = sum_ij w_i w_j |s_i - s_j| + 1/3 sum_i w_i^2 (s_end_i - s_start_i)

with s the distance along the ray divided by `scale`. Samples are sorted by t within a
ray, so the double sum is O(S): sum_ij w_i w_j |s_i - s_j| = 2 sum_i w_i (s_i W_i - U_i)
with W_i, U_i the exclusive per-ray cumulative sums of w and w * s.
"""
from __future__ import annotations

import torch
from torch import Tensor


def _exclusive_cumsum_per_ray(x: Tensor, offsets: Tensor) -> Tensor:  # x [S], offsets [n_rays+1] -> [S]
    # One global cumulative sum minus its value at each ray's first sample; float64 so
    # subtracting earlier rays' totals loses nothing.
    inclusive = torch.cat([x.new_zeros(1, dtype=torch.float64), torch.cumsum(x.double(), 0)])
    counts = offsets[1:] - offsets[:-1]
    ray_start = torch.repeat_interleave(inclusive[offsets[:-1]], counts, output_size=x.numel())
    return (inclusive[:-1] - ray_start).to(x.dtype)


def distortion_loss(
    weights: Tensor,  # [S] compositing weights
    t_starts: Tensor,  # [S]
    t_ends: Tensor,  # [S]
    offsets: Tensor,  # [n_rays + 1] int64
    scale: float,  # distances are divided by this (e.g. the scene box diagonal)
) -> Tensor:  # [] mean over rays
    n_rays = offsets.numel() - 1
    if weights.numel() == 0 or n_rays == 0:
        return weights.new_zeros(())
    s_mid = 0.5 * (t_starts + t_ends) / scale
    s_len = (t_ends - t_starts) / scale
    cum_w = _exclusive_cumsum_per_ray(weights, offsets)
    cum_ws = _exclusive_cumsum_per_ray(weights * s_mid, offsets)
    pairwise = 2.0 * weights * (s_mid * cum_w - cum_ws)
    own = weights.square() * s_len / 3.0
    return (pairwise + own).sum() / n_rays
