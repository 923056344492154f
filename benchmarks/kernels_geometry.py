"""Geometry kernels (ray_box_intersect, march, merge_samples) vs their PyTorch references.

Run through the harness: python benchmarks/kernels.py
"""

from __future__ import annotations

import math

import torch
from kernels import Case

from nerfgen.ops._ext import ops
from nerfgen.ops.march import _prepare, march_reference
from nerfgen.ops.merge import merge_samples, merge_samples_reference
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.ops.ray_box import ray_box_intersect, ray_box_intersect_reference


def _camera_rays(n: int, seed: int, target_spread: float = 1.0) -> tuple[torch.Tensor, torch.Tensor]:
    """Rays from a sphere of radius 3 towards random points of the [-1, 1]^3 box."""
    g = torch.Generator().manual_seed(seed)
    o = torch.randn(n, 3, generator=g)
    o = 3.0 * o / o.norm(dim=1, keepdim=True)
    d = (torch.rand(n, 3, generator=g) * 2 - 1) * target_spread - o
    return o, d / d.norm(dim=1, keepdim=True)


def _random_rigid(n: int, seed: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(seed)
    q, _ = torch.linalg.qr(torch.randn(n, 3, 3, generator=g))
    m = torch.eye(4).repeat(n, 1, 1)
    m[:, :3, :3] = q
    m[:, :3, 3] = torch.randn(n, 3, generator=g)
    return m


def _ray_box_cases() -> list[Case]:
    cases = []
    for n_rays, n_boxes, oriented in ((1 << 20, 1, False), (1 << 16, 16, False), (1 << 16, 16, True)):
        o, d = _camera_rays(n_rays, 0)
        g = torch.Generator().manual_seed(1)
        box_min = torch.rand(n_boxes, 3, generator=g) * 2 - 1.5
        box_max = box_min + torch.rand(n_boxes, 3, generator=g) + 0.2
        w2b = _random_rigid(n_boxes, 2) if oriented else None
        args = (o, d, box_min, box_max, w2b)
        name = f"ray_box {n_rays // 1024}k rays x {n_boxes}{' OBB' if oriented else ''}"
        cases.append(
            Case(
                name,
                "ray-box pairs",
                n_rays * n_boxes,
                lambda a=args: ray_box_intersect(*a),
                lambda a=args: ray_box_intersect_reference(*a),
            )
        )
    return cases


def _blob_grid(levels: int) -> OccupancyGrid:
    """128^3 grid, ~50% of the level-0 cells occupied: a ball of volume half the box, with a
    few empty holes so rays also skip inside it."""
    grid = OccupancyGrid([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0], resolution=128, levels=levels)
    radius = (3.0 / math.pi) ** (1.0 / 3.0)  # 4/3 pi r^3 = 4 = half of the box volume

    def density(x: torch.Tensor) -> torch.Tensor:
        holes = (torch.sin(6 * x[:, 0]) * torch.sin(6 * x[:, 1]) * torch.sin(6 * x[:, 2])) > 0.6
        return ((x.norm(dim=1) < radius) & ~holes).float()

    grid.mark_from_density(density, threshold=0.5)
    return grid


def _shell_grid() -> OccupancyGrid:
    """128^3 grid occupied only in a 2-cell-thick spherical shell: what a trained object's
    grid looks like (density lives on surfaces), ~3% of the cells."""
    grid = OccupancyGrid([-1.0, -1.0, -1.0, 1.0, 1.0, 1.0], resolution=128, levels=1)
    cell = 2.0 / 128
    grid.mark_from_density(lambda x: ((x.norm(dim=1) - 0.7).abs() < cell).float(), threshold=0.5)
    return grid


def _march_args(grid: OccupancyGrid, n_rays: int, seed: int, cone_angle: float):
    o, d = _camera_rays(n_rays, seed)
    step = 2 * math.sqrt(3) / 1024  # ~1024 steps along the box diagonal (Instant-NGP)
    return _prepare(o, d, grid.binaries, grid.aabb, step, cone_angle, 0.0, math.inf, None, None, None)


def _march_cases() -> list[Case]:
    n_rays = 1 << 16
    cases = []
    for grid, cone in ((_shell_grid(), 0.0), (_blob_grid(1), 0.0), (_blob_grid(4), 1.0 / 256)):
        levels = grid.binaries.shape[0]
        args = _march_args(grid, n_rays, 3, cone)
        occupied = grid.binaries[0].float().mean().item()
        name = f"march 128^3 x{levels} occ {occupied:.0%} cone {cone:g}"
        cases.append(
            Case(name, "rays", n_rays, lambda a=args: ops().march(*a), lambda a=args: march_reference(*a), target=3e5)
        )
    return cases


def _merge_cases() -> list[Case]:
    """Three overlapping blobs marched along the same rays (background + two objects)."""
    n_rays = 1 << 16
    fields = []
    for shift in (0.0, 0.5, -0.5):
        grid = _blob_grid(1)
        grid.aabb += torch.tensor([shift, 0.0, 0.0, shift, 0.0, 0.0])
        o, d = _camera_rays(n_rays, 7)
        fields.append(grid.march(o, d, 2 * math.sqrt(3) / 1024))
    total = sum(f.n_samples for f in fields)
    return [
        Case(
            "merge_samples 3 fields",
            "samples",
            total,
            lambda: merge_samples(fields),
            lambda: merge_samples_reference(fields),
        )
    ]


def cases() -> list[Case]:
    return _ray_box_cases() + _march_cases() + _merge_cases()
