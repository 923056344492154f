"""Volume rendering: packed samples -> densities and values -> per-ray composite.

`composite_visible` is the one compositing path of every render, one field (`render_rays`,
what training calls) or many (nerfgen.scene.render): two passes per batch (nerfacc's
recipe), a cheap density-only pass under no_grad finds where each ray is already opaque
or a sample is transparent, and only the surviving samples go through the full fields
(colour, normals, gradients). On opaque objects this removes most samples from the
expensive pass without changing the image: the dropped samples carry (nearly) zero weight.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

import torch
from torch import Tensor

from nerfgen.fields.base import Field
from nerfgen.ops.composite import CompositeOutput, composite
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.ops.packed import PackedSamples
from nerfgen.render.depth_loss import depth_loss
from nerfgen.render.distortion import distortion_loss


@dataclass(frozen=True)
class RenderConfig:
    """How rays are sampled and composited."""

    steps_per_diagonal: int = 256
    """Smallest marching step = (level-0 box diagonal) / this (Instant-NGP uses 1024 at 800 px)."""
    cone_angle: float = 0.0
    """Step grows as t * cone_angle (0 for objects; ~1/256 for large unbounded scenes)."""
    near_plane: float = 0.0
    """No samples closer than this to the ray origin (metres)."""
    far_plane: float = 1.0e10
    """No samples beyond this distance (metres)."""
    transmittance_threshold: float = 1e-4
    """A ray terminates once its transmittance falls below this."""
    alpha_threshold: float = 1e-3
    """Samples with lower opacity in the density-only pass are skipped in the full pass."""


@dataclass
class RenderOutput:
    """Per-ray results (world frame, metres)."""

    rgb: Tensor  # [n_rays,3] composited over the background
    opacity: Tensor  # [n_rays] accumulated alpha
    range: Tensor  # [n_rays] expected distance along the ray (weights normalised by opacity)
    normals: Tensor | None  # [n_rays,3] composited density-gradient normals (unit), if asked
    pred_normals: Tensor | None  # [n_rays,3] composited predicted normals (unit), if the field has them
    normal_loss: Tensor | None  # [] weighted 1 - cos(pred, gradient normal), for training the head
    distortion: Tensor | None  # [] distortion loss (nerfgen.render.distortion), if asked
    depth_loss: Tensor | None  # [] depth supervision loss (nerfgen.render.depth_loss), if a target was given
    n_samples: int  # samples that went through the full field


def step_size(config: RenderConfig, aabb: Tensor) -> float:  # aabb [6] min xyz, max xyz
    return float((aabb[3:] - aabb[:3]).norm()) / config.steps_per_diagonal


def composite_visible(
    samples: PackedSamples,
    density: Callable[[PackedSamples], Tensor],  # samples -> sigma [S], for the pruning pass
    shade: Callable[
        [PackedSamples, Tensor], tuple[Tensor, Tensor]
    ],  # kept samples, keep [S] -> sigma [K], values [K,C]
    transmittance_threshold: float,
    alpha_threshold: float,
) -> tuple[PackedSamples, Tensor, CompositeOutput]:
    """Prunes `samples` with a density-only pass (module doc), then composites the values
    `shade` gives for the rest. Returns the kept samples, the keep mask [S] (for the
    caller's own per-sample data) and the composite."""
    with torch.no_grad():
        keep = torch.zeros(samples.n_samples, dtype=torch.bool)
        if samples.n_samples > 0:
            sigmas = density(samples)
            pre = composite(
                sigmas,
                sigmas.new_zeros(sigmas.shape[0], 0),
                samples.t_starts,
                samples.t_ends,
                samples.offsets,
                transmittance_threshold,
            )
            alpha = 1.0 - torch.exp(-sigmas * (samples.t_ends - samples.t_starts))
            keep = (pre.transmittance >= transmittance_threshold) & (alpha >= alpha_threshold)
        samples = samples.select(keep)
    sigmas, values = shade(samples, keep)
    comp = composite(sigmas, values, samples.t_starts, samples.t_ends, samples.offsets, transmittance_threshold)
    return samples, keep, comp


def sample_positions(samples: PackedSamples, rays_o: Tensor, rays_d: Tensor) -> tuple[Tensor, Tensor]:
    """Midpoints [S,3] and unit directions [S,3] of packed samples on rays [n,3], [n,3]."""
    directions = rays_d[samples.ray_indices]
    mids = 0.5 * (samples.t_starts + samples.t_ends)
    return rays_o[samples.ray_indices] + directions * mids[:, None], directions


def render_rays(
    field: Field,
    grid: OccupancyGrid,
    rays_o: Tensor,  # [n_rays,3]
    rays_d: Tensor,  # [n_rays,3] unit
    background: Tensor,  # [n_rays,3] or [3]
    config: RenderConfig,
    normals: bool = False,
    distortion: bool = False,
    range_target: Tensor | None = None,  # [n_rays] known surface range (<= 0: unknown), for depth supervision
) -> RenderOutput:
    """Renders rays through one field; differentiable in the field's parameters."""
    n_rays = rays_o.shape[0]
    with torch.no_grad():
        samples = grid.march(
            rays_o,
            rays_d,
            step_size(config, grid.aabb),
            cone_angle=config.cone_angle,
            near_plane=config.near_plane,
            far_plane=config.far_plane,
        )
    out = None

    def shade(kept: PackedSamples, keep: Tensor) -> tuple[Tensor, Tensor]:
        nonlocal out
        out = field(*sample_positions(kept, rays_o, rays_d), normals=normals)
        values = [out.rgb] + [v for v in (out.normals, out.pred_normals) if v is not None]
        return out.density, torch.cat(values, -1)

    samples, _, comp = composite_visible(
        samples,
        lambda s: field.density(sample_positions(s, rays_o, rays_d)[0]),
        shade,
        config.transmittance_threshold,
        config.alpha_threshold,
    )
    rgb = comp.values[:, :3] + (1.0 - comp.opacity)[:, None] * background
    range_ = comp.range / comp.opacity.clamp_min(1e-6)
    ray_normals = pred_normals = normal_loss = None
    if out.normals is not None:
        ray_normals = torch.nn.functional.normalize(comp.values[:, 3:6], dim=-1)
    if out.pred_normals is not None:
        pred_normals = torch.nn.functional.normalize(comp.values[:, 6:9], dim=-1)
        cos = (out.pred_normals * out.normals.detach()).sum(-1)
        # Weights detached: this loss trains the head (and the shared geo features), it
        # must not move density to where normals happen to agree.
        normal_loss = (comp.weights.detach() * (1.0 - cos)).sum() / n_rays
    distortion_value = None
    if distortion:
        diagonal = float((grid.aabb[3:] - grid.aabb[:3]).norm())
        distortion_value = distortion_loss(comp.weights, samples.t_starts, samples.t_ends, samples.offsets, diagonal)
    depth_value = None
    if range_target is not None:
        depth_value = depth_loss(
            comp.weights, samples.t_starts, samples.t_ends, samples.ray_indices, comp.opacity, range_target
        )
    return RenderOutput(
        rgb,
        comp.opacity,
        range_,
        ray_normals,
        pred_normals,
        normal_loss,
        distortion_value,
        depth_value,
        samples.n_samples,
    )
