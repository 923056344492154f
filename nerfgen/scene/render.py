"""Composition renderer: rays through several placed fields, composited once.

Per batch of rays (nerfacc's recipe, generalised to many fields):

1. Each field's occupied box is intersected with every ray (`ray_box_intersect`, the
   box oriented by the field's pose and scaled by its scale); only rays that hit it are
   moved into the field's frame and marched through its occupancy grid, within
   [t_near, t_far]. Field-frame distances are world distances / scale.
2. Background samples inside holes are dropped (the background is empty there).
3. `merge_samples` interleaves every field's samples along each ray by t, so depth
   order between objects, and between objects and the background's occupied space, is
   just sample order.
4-5. `nerfgen.render.volume.composite_visible`, the compositing path of one field too:
   a density-only pass drops the samples after the ray is opaque or too transparent to
   matter; each field evaluates its own surviving samples (field-frame positions and
   directions; densities / scale), and one `composite` integrates per-sample values
   [rgb, world normals, one weight channel per field].

Per-ray outputs (`ComposedRays`): rgb over the sky colour; opacity; the expected
surface range sum(w t) / opacity along the unit ray, reported where opacity >=
`surface_opacity` (else 0, "no surface"); normals the same way; per-field accumulated
weights; instance and class of the field with the largest accumulated weight, where
"nothing" (1 - opacity) also competes and the background field counts as 0 (stuff).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Sequence

import torch
import torch.nn.functional as F
from torch import Tensor

from nerfgen.ops.merge import merge_samples
from nerfgen.ops.packed import PackedSamples
from nerfgen.ops.ray_box import ray_box_intersect
from nerfgen.render.volume import composite_visible
from nerfgen.scene.fields import SceneField
from nerfgen.scene.placement import inside_holes


@dataclass(frozen=True)
class ComposeConfig:
    """Sampling and compositing of a composed scene (marching steps are each field's own)."""

    near_plane: float = 0.0
    """No samples closer than this to the ray origin (world metres)."""
    transmittance_threshold: float = 1e-4
    """A ray terminates once its transmittance falls below this."""
    alpha_threshold: float = 1e-3
    """Samples with lower opacity in the density-only pass are skipped in the full pass."""
    surface_opacity: float = 0.5
    """A ray has a surface (depth, normal) where its opacity reaches this."""
    normals: Literal["surface", "field"] = "surface"
    """Image normals: planes fitted to the rendered surface within each instance
    (nerfgen.render.surface_normals; ~5x more accurate on short CPU-trained fields), or the
    fields' own density-gradient / predicted normals."""
    surface_normal_radius: int = 2
    """Window half-width (pixels) of the surface-normal plane fit."""
    chunk: int = 1 << 13
    """Rays per batch when rendering images."""


@dataclass
class ComposedRays:
    """Per-ray results of `render_composed_rays` (world frame, metres)."""

    rgb: Tensor  # [n,3] over the sky colour
    opacity: Tensor  # [n]
    range: Tensor  # [n] expected surface distance along the unit ray, 0 where opacity < surface_opacity
    normals: Tensor  # [n,3] unit world normals (predicted if the field has them), 0 where no surface
    field_weights: Tensor  # [n, n_fields] accumulated weight of each field
    instance: Tensor  # [n] int32, 0 = background / nothing
    class_id: Tensor  # [n] int32
    samples: PackedSamples  # merged samples that were composited (world t along the unit ray)
    weights: Tensor  # [S] their volume-rendering weights
    sample_fields: Tensor  # [S] int64 index into the field list


def _march(
    sf: SceneField,
    rays_o: Tensor,  # [n,3]
    rays_d: Tensor,  # [n,3] unit
    t_near: Tensor,  # [n] world
    t_far: Tensor,  # [n]
    hit: Tensor,  # [n] bool
    near_plane: float,
) -> PackedSamples:  # world t, over all n rays
    n = rays_o.shape[0]
    rays = hit.nonzero()[:, 0]  # [m] rays that meet the field's box
    origins, directions = sf.to_field(rays_o[rays], rays_d[rays])
    s = sf.scale
    local = sf.grid.march(
        origins,
        directions,
        sf.step_size,
        cone_angle=sf.cone_angle,
        near_plane=near_plane / s,
        t_min=t_near[rays] / s,
        t_max=t_far[rays] / s,
    )
    ray_indices = rays[local.ray_indices]
    t_starts, t_ends = local.t_starts * s, local.t_ends * s
    if sf.holes and ray_indices.numel() > 0:
        mids = rays_o[ray_indices] + rays_d[ray_indices] * (0.5 * (t_starts + t_ends))[:, None]
        keep = ~torch.from_numpy(inside_holes(mids.double().numpy(), sf.holes))
        ray_indices, t_starts, t_ends = ray_indices[keep], t_starts[keep], t_ends[keep]
    return PackedSamples.from_ray_indices(ray_indices, t_starts, t_ends, n)


def _positions(sf: SceneField, rays_o, rays_d, ray_indices, t_mid) -> tuple[Tensor, Tensor]:
    """Field-frame positions [k,3] and unit directions [k,3] of samples at world t_mid [k]."""
    origins, directions = sf.to_field(rays_o[ray_indices], rays_d[ray_indices])
    return origins + directions * (t_mid / sf.scale)[:, None], directions


def render_composed_rays(
    fields: Sequence[SceneField],
    rays_o: Tensor,  # [n,3]
    rays_d: Tensor,  # [n,3] unit
    sky: Tensor,  # [3] colour of rays that hit nothing
    config: ComposeConfig = ComposeConfig(),
    normals: bool = True,
) -> ComposedRays:
    """Renders rays through all `fields` (module docstring). Normals need autograd
    w.r.t. positions: call under torch.no_grad, not inference_mode. Without `normals`
    the output's normals are 0, and rgb is differentiable w.r.t. the rays and the
    fields' `to_world` poses (gradient normals detach positions)."""
    n, n_fields = rays_o.shape[0], len(fields)
    # Where samples lie is not differentiated (as in render_rays): the ops finding them
    # have no autograd, and gradients reach poses through the sample positions.
    with torch.no_grad():
        per_field = []
        if n_fields:
            boxed = [sf.bounds is not None for sf in fields]
            lo = torch.stack([sf.bounds[0] * sf.scale if b else torch.zeros(3) for sf, b in zip(fields, boxed)])
            hi = torch.stack([sf.bounds[1] * sf.scale if b else torch.zeros(3) for sf, b in zip(fields, boxed)])
            w2b = torch.stack([sf.world_to_field_rigid for sf in fields])
            t_near, t_far, hit = ray_box_intersect(rays_o, rays_d, lo, hi, w2b)  # [n, n_fields]
            hit &= torch.tensor(boxed)[None]
            per_field = [
                _march(sf, rays_o, rays_d, t_near[:, k], t_far[:, k], hit[:, k], config.near_plane)
                for k, sf in enumerate(fields)
            ]
        if not per_field:
            empty = torch.empty(0)
            per_field = [PackedSamples.from_ray_indices(empty.long(), empty, empty, n)]
        samples, sample_fields, _ = merge_samples(per_field)

    def evaluate(samples: PackedSamples, sample_fields: Tensor, full: bool) -> tuple[Tensor, Tensor | None]:
        """Densities [S] (world units) and, with `full`, values [S, 6 + n_fields]."""
        mids = 0.5 * (samples.t_starts + samples.t_ends)
        sigma = torch.zeros(samples.n_samples)
        values = torch.zeros(samples.n_samples, 6 + n_fields) if full else None
        for k, sf in enumerate(fields):
            rows = (sample_fields == k).nonzero()[:, 0]
            if rows.numel() == 0:
                continue
            x, d = _positions(sf, rays_o, rays_d, samples.ray_indices[rows], mids[rows])
            if not full:
                sigma[rows] = sf.field.density(x) / sf.scale
                continue
            out = sf.field(x, d, normals=normals)
            sigma[rows] = out.density / sf.scale
            values[rows, :3] = out.rgb
            if normals:
                field_normals = out.pred_normals if out.pred_normals is not None else out.normals
                values[rows, 3:6] = field_normals @ sf.to_world[:3, :3].T  # scale does not turn normals
            values[rows, 6 + k] = 1.0
        return sigma, values

    all_fields = sample_fields
    samples, keep, comp = composite_visible(
        samples,
        lambda s: evaluate(s, all_fields, full=False)[0],
        lambda s, keep: evaluate(s, all_fields[keep], full=True),
        config.transmittance_threshold,
        config.alpha_threshold,
    )
    sample_fields = all_fields[keep]
    surface = comp.opacity >= config.surface_opacity
    range_ = torch.where(surface, comp.range / comp.opacity.clamp_min(1e-6), torch.zeros_like(comp.range))
    normals = torch.where(surface[:, None], F.normalize(comp.values[:, 3:6], dim=-1), torch.zeros(n, 3))
    field_weights = comp.values[:, 6:]
    # "Nothing" (candidate 0) competes with every field; the background field labels as 0.
    ids = torch.tensor([0] + [sf.instance_id for sf in fields], dtype=torch.int32)
    classes = torch.tensor([0] + [sf.class_id for sf in fields], dtype=torch.int32)
    winner = torch.cat([(1.0 - comp.opacity)[:, None], field_weights], 1).argmax(1)
    return ComposedRays(
        rgb=comp.values[:, :3] + (1.0 - comp.opacity)[:, None] * sky,
        opacity=comp.opacity,
        range=range_,
        normals=normals,
        field_weights=field_weights,
        instance=ids[winner],
        class_id=classes[winner],
        samples=samples,
        weights=comp.weights,
        sample_fields=sample_fields,
    )
