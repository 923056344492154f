"""Distortion loss of mip-NeRF 360 over packed samples: pulls each ray's weights into one
compact interval, which removes the semi-transparent haze around surfaces that makes
expected depth (and the normals derived from it) noisy.

    L_r = sum_ij w_i w_j |s_i - s_j| + 1/3 sum_i w_i^2 (s_end_i - s_start_i)

with s the distance along the ray divided by `scale`. Samples are sorted by t within a
ray, so the double sum is O(S): sum_ij w_i w_j |s_i - s_j| = 2 sum_i w_i (s_i W_i - U_i)
with W_i, U_i the exclusive per-ray cumulative sums of w and w * s.
"""

from __future__ import annotations

from torch import Tensor

from nerfgen.ops.packed import exclusive_sum_per_ray


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
    cum_w = exclusive_sum_per_ray(weights, offsets).to(weights.dtype)
    cum_ws = exclusive_sum_per_ray(weights * s_mid, offsets).to(weights.dtype)
    pairwise = 2.0 * weights * (s_mid * cum_w - cum_ws)
    own = weights.square() * s_len / 3.0
    return (pairwise + own).sum() / n_rays
