"""Volume-rendering compositing over packed samples (nerfacc layout), with early termination.

For ray r, samples i in offsets[r]:offsets[r+1] (sorted by t):

    alpha_i = 1 - exp(-sigma_i * (t_end_i - t_start_i))
    T_i     = prod_{j<i} (1 - alpha_j)                  transmittance before sample i
    w_i     = T_i * alpha_i  if T_i >= transmittance_threshold  else 0

Once T falls below the threshold the ray has terminated: its remaining samples get weight
0 and no gradient (threshold 0 disables this). Background is left to the caller: the
per-ray ``opacity`` is the weight already used, so a background colour composites as
``values + (1 - opacity)[:, None] * background``.

Gradients flow to ``sigmas`` and ``values`` (not to the t's), through ``weights``,
``values``, ``range`` and ``opacity``; ``transmittance`` is returned for inspection and
is not differentiable.
"""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from nerfgen.ops import _ext
from nerfgen.ops.packed import exclusive_sum_per_ray


class CompositeOutput(NamedTuple):
    weights: Tensor  # [S] w_i = T_i * alpha_i (0 after termination)
    transmittance: Tensor  # [S] T_i, transmittance before each sample (not differentiable)
    values: Tensor  # [n_rays, C] sum of w_i * values_i (rgb and any per-sample features)
    range: Tensor  # [n_rays] sum of w_i * (t_start_i + t_end_i) / 2; divide by opacity for the expected range
    opacity: Tensor  # [n_rays] sum of w_i (accumulated alpha)


def composite(
    sigmas: Tensor,  # [S] densities
    values: Tensor,  # [S, C] per-sample values (rgb, normals, one-hot instance, semantic logits, ...)
    t_starts: Tensor,  # [S] segment starts along the ray
    t_ends: Tensor,  # [S] segment ends along the ray
    offsets: Tensor,  # [n_rays + 1] int64, ray r owns samples offsets[r]:offsets[r+1]
    transmittance_threshold: float = 1e-4,
) -> CompositeOutput:
    """Composites packed samples along each ray; see the module docstring for the maths.

    ``range`` is un-normalised (it is what the weights integrate): the expected surface
    range along the ray is ``range / opacity.clamp_min(eps)``. Rays with no samples give
    zeros everywhere.
    """
    if _ext.use_ext(sigmas, values, t_starts, t_ends, offsets):
        weights, transmittance, out_values, out_range, opacity = _CompositeFunction.apply(
            sigmas, values, t_starts, t_ends, offsets, float(transmittance_threshold)
        )
        return CompositeOutput(weights, transmittance, out_values, out_range, opacity)
    return composite_reference(sigmas, values, t_starts, t_ends, offsets, transmittance_threshold)


# Per-sample optical depth beyond which T is exactly 0 in float64 (exp(-745) underflows).
# Clamping there keeps infinite densities out of the global cumulative sum below, where
# inf - inf would poison every later ray, without changing any result.
_TAU_MAX = 1.0e3


def composite_reference(
    sigmas: Tensor,  # [S]
    values: Tensor,  # [S, C]
    t_starts: Tensor,  # [S]
    t_ends: Tensor,  # [S]
    offsets: Tensor,  # [n_rays + 1] int64
    transmittance_threshold: float = 1e-4,
) -> CompositeOutput:
    """Pure-PyTorch compositing (the fallback and the tests' reference), differentiable
    by autograd. Vectorised over all samples: the optical depth before each sample is one
    float64 per-ray exclusive sum (`exclusive_sum_per_ray`)."""
    n_rays = offsets.numel() - 1
    counts = offsets[1:] - offsets[:-1]  # [n_rays]
    tau = sigmas * (t_ends - t_starts)  # [S]
    exclusive = exclusive_sum_per_ray(tau.clamp(max=_TAU_MAX), offsets)  # [S] float64 optical depth before each sample
    transmittance = torch.exp(-exclusive).to(sigmas.dtype)  # [S]
    alive = transmittance >= transmittance_threshold  # [S] early termination
    alpha = 1.0 - torch.exp(-tau)
    weights = torch.where(alive, transmittance * alpha, torch.zeros_like(alpha))  # [S]

    ray_indices = torch.repeat_interleave(
        torch.arange(n_rays, device=offsets.device), counts, output_size=sigmas.numel()
    )
    mids = 0.5 * (t_starts + t_ends)
    out_values = values.new_zeros(n_rays, values.shape[1]).index_add(0, ray_indices, weights[:, None] * values)
    out_range = sigmas.new_zeros(n_rays).index_add(0, ray_indices, weights * mids)
    opacity = sigmas.new_zeros(n_rays).index_add(0, ray_indices, weights)
    return CompositeOutput(weights, transmittance.detach(), out_values, out_range, opacity)


class _CompositeFunction(torch.autograd.Function):
    @staticmethod
    def forward(ctx, sigmas, values, t_starts, t_ends, offsets, threshold):
        sigmas, values, t_starts, t_ends, offsets = (
            t.contiguous() for t in (sigmas, values, t_starts, t_ends, offsets)
        )
        weights, transmittance, out_values, out_range, opacity = _ext.ops().composite_forward(
            sigmas, values, t_starts, t_ends, offsets, threshold
        )
        ctx.save_for_backward(sigmas, values, t_starts, t_ends, offsets, weights, transmittance)
        ctx.threshold = threshold
        ctx.mark_non_differentiable(transmittance)
        # Unused outputs get None instead of zeros: transmittance never has a gradient and
        # weights often none, and two [S] zero tensors cost about as much as the kernel.
        ctx.set_materialize_grads(False)
        return weights, transmittance, out_values, out_range, opacity

    @staticmethod
    @torch.autograd.function.once_differentiable
    def backward(ctx, grad_weights, _grad_transmittance, grad_values, grad_range, grad_opacity):
        sigmas, values, t_starts, t_ends, offsets, weights, transmittance = ctx.saved_tensors
        n_rays = offsets.numel() - 1
        if grad_values is None:
            grad_values = values.new_zeros(n_rays, values.shape[1])
        if grad_range is None:
            grad_range = sigmas.new_zeros(n_rays)
        if grad_opacity is None:
            grad_opacity = sigmas.new_zeros(n_rays)
        grad_sigmas, grad_values_in = _ext.ops().composite_backward(
            None if grad_weights is None else grad_weights.contiguous(),  # None reads as zeros
            grad_values.contiguous(),
            grad_range.contiguous(),
            grad_opacity.contiguous(),
            sigmas,
            values,
            t_starts,
            t_ends,
            offsets,
            weights,
            transmittance,
            ctx.threshold,
        )
        return grad_sigmas, grad_values_in, None, None, None, None
