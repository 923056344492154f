"""Where the scene is: its box and whether anything lies beyond it, from the data itself.

What a dataset knows about its geometry, best first:
- a `scene_aabb` (captures write it): the box, and nothing outside it;
- surface points: depth maps (dense from captures, sparse from LiDAR projected into the
  images) and LiDAR returns;
- per-image depth bounds (LLFF's near/far);
- the cameras alone (the object-centric guess: the point nearest to all optical axes).

A dataset is *bounded* when its images say what lies beyond the scene: alpha, or the
constant background colour of a capture (its gt.json). Then the box is all its points,
so no surface a camera sees is cut. Real photos and drives are *unbounded*: the box is
the foreground where most points lie and the cameras move, and the field models the
rest in contracted space (nerfgen.fields.contraction), the occupancy grid reaching it
with cascades (level l covers the box scaled by 2**l) out past the farthest point.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from nerfgen.cameras import generate_rays
from nerfgen.data import Dataset
from nerfgen.errors import NerfgenError
from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.render.volume import RenderConfig
from nerfgen.train.config import GridConfig
from nerfgen.train.presets import with_defaults_replaced

MAX_POINTS = 1 << 20  # a subsample is enough to place a box
FOREGROUND_QUANTILES = (0.02, 0.98)  # unbounded scenes: the box holds the bulk of the points
MAX_CASCADES = 8  # the outermost level covers 128x the box; beyond it, the sky at the shell
NEAR_MARGIN = 0.9  # samples start this fraction of the nearest depth bound from a camera


@dataclass(frozen=True)
class SceneExtent:
    """The box a field lives in and how it reaches beyond it."""

    aabb: tuple[float, float, float, float, float, float]
    """Box min x y z, max x y z (world units)."""
    unbounded: bool
    """The data holds things beyond the box (field contracted, grid cascaded)."""
    cascades: int
    """Occupancy-grid levels needed to reach the farthest point seen (1 when bounded)."""
    source: str
    """Where the box came from, said to the user."""
    near: float = 0.0
    """No surface is nearer to a camera than this (LLFF's near bounds); 0 when unknown."""


def is_bounded(dataset: Dataset, background: tuple[float, float, float] | None) -> bool:
    """True when the images themselves say what lies beyond the scene (alpha, or a capture's
    known background colour)."""
    return dataset.alphas is not None or background is not None or "scene_aabb" in dataset.metadata


def scene_extent(
    dataset: Dataset,
    background: tuple[float, float, float] | None,
    aabb: tuple[float, ...] | None = None,
    padding: float = 0.05,
) -> SceneExtent:
    """The extent of `dataset` (module doc); `aabb` overrides the box, not the kind of scene."""
    bounded = is_bounded(dataset, background)
    points = scene_points(dataset)
    if aabb is not None:
        box, source = torch.tensor(aabb, dtype=torch.float64), "--aabb"
        if not bool(torch.isfinite(box).all()) or not bool((box[3:] > box[:3]).all()):
            raise NerfgenError(None, f"--aabb must be finite min x y z below max x y z, got {list(aabb)}")
    elif "scene_aabb" in dataset.metadata:
        box, source = _metadata_box(dataset), "the dataset's scene_aabb"
    elif points is not None:
        box = _points_box(points, None if bounded else FOREGROUND_QUANTILES, dataset)
        source = (
            f"{len(points)} surface points"
            if bounded
            else f"the central {int(100 * (FOREGROUND_QUANTILES[1] - FOREGROUND_QUANTILES[0]))} % "
            f"of {len(points)} points and the cameras"
        )
    else:
        box, source = _camera_box(dataset), "the cameras' optical axes"
    size = (box[3:] - box[:3]).max()
    pad = padding * size
    box = torch.cat([box[:3] - pad, box[3:] + pad])
    if not bool(torch.isfinite(box).all()) or not bool((box[3:] > box[:3]).all()):
        raise NerfgenError(dataset.root, "cannot place the scene box; give --aabb")
    cascades = 1 if bounded else _cascades(box, points, dataset)
    near = 0.0
    if "bounds" in dataset.metadata:
        near = NEAR_MARGIN * float(torch.as_tensor(dataset.metadata["bounds"]).reshape(-1, 2)[:, 0].min())
    return SceneExtent(tuple(box.tolist()), not bounded, cascades, source, near)


def scene_points(dataset: Dataset) -> Tensor | None:  # -> [P,3] float64 world, or None
    """Surface points the data gives: depth maps and LiDAR returns, else the pixels' rays at
    LLFF's near bound and twice it (the foreground of a forward-facing capture), subsampled."""
    parts = []
    if dataset.depths_z is not None:
        parts.append(_depth_points(dataset))
    lidar = getattr(dataset, "lidar", None)
    if lidar is not None and len(lidar) > 0:
        scan = torch.repeat_interleave(torch.arange(len(lidar)), lidar.offsets[1:] - lidar.offsets[:-1])
        origins = lidar.sensor_to_world[scan, :3, 3].double()
        parts.append(origins + lidar.directions.double() * lidar.ranges.double()[:, None])
    if not parts and "bounds" in dataset.metadata:
        parts.append(_bounds_points(dataset))
    if not parts:
        return None
    points = torch.cat(parts)
    points = points[torch.isfinite(points).all(-1)]
    if len(points) > MAX_POINTS:
        points = points[torch.linspace(0, len(points) - 1, MAX_POINTS).long()]
    return points if len(points) else None


def _depth_points(dataset: Dataset) -> Tensor:
    points = []
    for i in range(len(dataset)):
        depth_z = dataset.depths_z[i].reshape(-1)
        known = depth_z > 0
        if not bool(known.any()):
            continue
        rays = generate_rays(dataset.cameras, i)
        range_ = depth_z[known] / rays.z_cam[known].clamp_min(1e-6)
        points.append(rays.origins[known].double() + rays.directions[known].double() * range_.double()[:, None])
    return torch.cat(points) if points else torch.empty(0, 3, dtype=torch.float64)


def _bounds_points(dataset: Dataset) -> Tensor:
    bounds = torch.as_tensor(dataset.metadata["bounds"], dtype=torch.float64).reshape(-1, 2)
    points = []
    for i in range(len(dataset)):
        rays = generate_rays(dataset.cameras, i)
        step = max(1, rays.origins.shape[0] // 256)
        o, d, z = rays.origins[::step].double(), rays.directions[::step].double(), rays.z_cam[::step].double()
        for depth_z in (bounds[i, 0], 2.0 * bounds[i, 0]):
            points.append(o + d * (depth_z / z.clamp_min(1e-6))[:, None])
    return torch.cat(points)


def _points_box(points: Tensor, quantiles: tuple[float, float] | None, dataset: Dataset) -> Tensor:
    if quantiles is None:
        return torch.cat([points.amin(0), points.amax(0)])
    q = torch.tensor(quantiles, dtype=torch.float64)
    lo_hi = torch.quantile(points[torch.linspace(0, len(points) - 1, min(len(points), 1 << 16)).long()], q, dim=0)
    centres = dataset.cameras.c2w[:, :3, 3].double()
    return torch.cat([torch.minimum(lo_hi[0], centres.amin(0)), torch.maximum(lo_hi[1], centres.amax(0))])


def _metadata_box(dataset: Dataset) -> Tensor:
    box = torch.as_tensor(dataset.metadata["scene_aabb"], dtype=torch.float64).reshape(-1)
    if box.numel() != 6 or not bool((box[3:] >= box[:3]).all()):
        raise NerfgenError(dataset.root, f"scene_aabb must be [[min x,y,z], [max x,y,z]], got {box.tolist()}")
    return box


def _camera_box(dataset: Dataset) -> Tensor:
    """The object-centric guess: the point nearest to all optical axes, with the half size
    each camera's narrower field of view covers at its distance (the smallest over cameras;
    NeRF-synthetic lego gives +-1.45)."""
    cams = dataset.cameras
    c2w = cams.c2w.double()
    origins, axes = c2w[:, :3, 3], c2w[:, :3, 2]  # OpenCV: +z looks forward
    # Least squares: sum_i (I - a_i a_i^T)(p - o_i) = 0.
    proj = torch.eye(3, dtype=torch.float64) - axes[:, :, None] * axes[:, None, :]
    centre = torch.linalg.lstsq(proj.sum(0), (proj @ origins[:, :, None]).sum(0)).solution[:, 0]
    half_fov = torch.minimum(
        torch.atan(0.5 * cams.width.double() / cams.fx.double()),
        torch.atan(0.5 * cams.height.double() / cams.fy.double()),
    )
    half = ((origins - centre).norm(dim=-1) * torch.tan(half_fov)).min().item()
    if not math.isfinite(half) or half <= 0:
        raise NerfgenError(dataset.root, "cannot guess the scene box from the cameras; give --aabb")
    return torch.cat([centre - half, centre + half])


def _cascades(box: Tensor, points: Tensor | None, dataset: Dataset) -> int:
    """Levels until the outermost box holds every point, plus one for what lies farther
    (the sky), at most MAX_CASCADES."""
    centre, half = (box[:3] + box[3:]) / 2, (box[3:] - box[:3]) / 2
    far = [dataset.cameras.c2w[:, :3, 3].double()]
    if points is not None:
        far.append(points)
    reach = ((torch.cat(far) - centre).abs() / half).amax().item()
    return int(min(MAX_CASCADES, max(2, math.ceil(math.log2(max(reach, 1.0))) + 2)))


# Steps grow with distance as t / 64: ~150 samples per ray over a 10x range of depths
# before the grid prunes empty space (Instant-NGP's 1/256 gives 4x as many, too slow on a CPU).
UNBOUNDED_CONE_ANGLE = 1.0 / 64


def unbounded_configs(
    extent: SceneExtent, field: NGPFieldConfig, grid: GridConfig, render: RenderConfig
) -> tuple[NGPFieldConfig, GridConfig, RenderConfig]:
    """The field contracted, the grid cascaded to the extent's reach, steps growing with
    distance from the data's near bound on, for values left at their defaults (explicit
    settings win)."""
    return (
        with_defaults_replaced(field, {"contraction": True}),
        with_defaults_replaced(grid, {"levels": extent.cascades}),
        with_defaults_replaced(render, {"cone_angle": UNBOUNDED_CONE_ANGLE, "near_plane": extent.near}),
    )


def describe_extent(extent: SceneExtent, grid: GridConfig) -> str:
    """One line for the user: which set-up was chosen and why."""
    box = ", ".join(f"{lo:.3g}..{hi:.3g}" for lo, hi in zip(extent.aabb[:3], extent.aabb[3:]))
    if not extent.unbounded:
        return f"scene: bounded (the images say what lies beyond it), box x y z {box} from {extent.source}"
    return (
        f"scene: unbounded (no alpha and no known background), foreground box x y z {box} from "
        f"{extent.source}; beyond it contracted, {grid.levels} grid cascades"
    )
