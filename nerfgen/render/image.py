"""Whole images from a field: every pixel of a camera, rendered in chunks without gradients."""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from nerfgen.cameras import Cameras, generate_rays, range_to_depth_z
from nerfgen.fields.base import Field
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.render.surface_normals import surface_normals as fit_surface_normals
from nerfgen.render.volume import RenderConfig, render_rays


@dataclass
class ImageOutput:
    """Per-pixel outputs of one camera, [H,W,...], world frame, metres."""

    rgb: Tensor  # [H,W,3] over the given background
    opacity: Tensor  # [H,W]
    range: Tensor  # [H,W] expected distance along each pixel's ray
    depth_z: Tensor  # [H,W] expected depth along the optical axis
    normals: Tensor | None  # [H,W,3] unit; predicted normals when the field has them, else gradient normals
    surface_normals: (
        Tensor | None
    )  # [H,W,3] unit normals of the rendered surface (nerfgen.render.surface_normals), 0 where unknown; if asked


def render_image(
    field: Field,
    grid: OccupancyGrid,
    cameras: Cameras,
    index: int,
    config: RenderConfig,
    background: tuple[float, float, float] = (1.0, 1.0, 1.0),
    normals: bool = False,
    chunk: int = 1 << 13,
    surface_normals: bool = False,
) -> ImageOutput:
    """Renders camera `index`; `normals` (the field's) need autograd w.r.t. positions, so
    they cost ~2x; `surface_normals` fit planes to the rendered surface afterwards."""
    h, w = int(cameras.height[index]), int(cameras.width[index])
    rays = generate_rays(cameras, index)
    bg = torch.tensor(background, dtype=torch.float32)
    parts: dict[str, list[Tensor]] = {"rgb": [], "opacity": [], "range": [], "normals": []}
    # inference_mode would forbid the autograd that gradient normals need.
    with torch.no_grad() if normals else torch.inference_mode():
        for start in range(0, h * w, chunk):
            sl = slice(start, start + chunk)
            out = render_rays(field, grid, rays.origins[sl], rays.directions[sl], bg, config, normals=normals)
            parts["rgb"].append(out.rgb)
            parts["opacity"].append(out.opacity)
            parts["range"].append(out.range)
            if normals:
                parts["normals"].append(out.pred_normals if out.pred_normals is not None else out.normals)
    range_ = torch.cat(parts["range"])
    opacity = torch.cat(parts["opacity"])
    points = rays.origins + rays.directions * range_[:, None]
    return ImageOutput(
        rgb=torch.cat(parts["rgb"]).reshape(h, w, 3),
        opacity=opacity.reshape(h, w),
        range=range_.reshape(h, w),
        depth_z=range_to_depth_z(range_, rays.z_cam).reshape(h, w),
        normals=torch.cat(parts["normals"]).reshape(h, w, 3) if normals else None,
        surface_normals=fit_surface_normals(
            points.reshape(h, w, 3), rays.directions.reshape(h, w, 3), range_.reshape(h, w), opacity.reshape(h, w) > 0.5
        )
        if surface_normals
        else None,
    )
