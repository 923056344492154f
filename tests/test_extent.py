"""The scene's extent from the data: bounded captures keep every point the cameras see,
unbounded scenes get a foreground box, contraction and cascades that reach every point."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from nerfgen.cameras import Cameras, generate_rays
from nerfgen.data import Dataset, holdout_split
from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.render.volume import RenderConfig
from nerfgen.sensors.trajectories import orbit
from nerfgen.train.config import GridConfig
from nerfgen.train.extent import describe_extent, scene_extent, unbounded_configs

W, H = 16, 12


def _dataset(depth_z: torch.Tensor | None, alphas: bool = False, metadata: dict | None = None) -> Dataset:
    c2w = torch.from_numpy(orbit([0.0, 0.0, 0.5], 4.0, 25.0, n=6)).float()
    cameras = Cameras.create(c2w, 12.0, 12.0, W / 2, H / 2, W, H)
    n = len(c2w)
    return Dataset(
        Path("ds"),
        cameras,
        [Path(f"{i}.png") for i in range(n)],
        torch.rand(n, H, W, 3),
        alphas=torch.ones(n, H, W) if alphas else None,
        depths_z=depth_z,
        splits=holdout_split(n),
        metadata=metadata or {},
    )


def _points(dataset: Dataset) -> torch.Tensor:
    """Every depth pixel as a world point, computed independently of the module."""
    points = []
    for i in range(len(dataset)):
        rays = generate_rays(dataset.cameras, i)
        depth_z = dataset.depths_z[i].reshape(-1)
        known = depth_z > 0
        points.append(rays.origins[known] + rays.directions[known] * (depth_z[known] / rays.z_cam[known])[:, None])
    return torch.cat(points).double()


def _inside(points: torch.Tensor, box: tuple[float, ...]) -> torch.Tensor:
    box_t = torch.tensor(box, dtype=torch.float64)
    return ((points >= box_t[:3] - 1e-6) & (points <= box_t[3:] + 1e-6)).all(-1)


def test_a_bounded_capture_box_holds_every_point_the_cameras_see():
    depth = torch.rand(6, H, W) * 3 + 1
    depth[:, :3] = 0  # unknown pixels carry no point
    depth[2, 5, 7] = 40.0  # one far surface point must not be cut
    dataset = _dataset(depth)
    extent = scene_extent(dataset, background=(1.0, 1.0, 1.0))
    assert not extent.unbounded and extent.cascades == 1
    assert bool(_inside(_points(dataset), extent.aabb).all())
    assert "surface points" in extent.source


def test_an_unbounded_scene_gets_a_foreground_box_and_cascades_past_the_farthest_point():
    depth = torch.full((6, H, W), 2.0)
    depth[:, 0, 0] = 300.0  # a few far points (a building down the street, the sky)
    dataset = _dataset(depth)
    extent = scene_extent(dataset, background=None)
    assert extent.unbounded
    points = _points(dataset)
    box = torch.tensor(extent.aabb, dtype=torch.float64)
    assert not bool(_inside(points, extent.aabb).all())  # the far points are beyond the foreground
    centre, half = (box[:3] + box[3:]) / 2, (box[3:] - box[:3]) / 2
    outermost = torch.cat([centre - half * 2 ** (extent.cascades - 1), centre + half * 2 ** (extent.cascades - 1)])
    assert bool(_inside(points, tuple(outermost.tolist())).all())
    assert bool(_inside(dataset.cameras.c2w[:, :3, 3].double(), extent.aabb).all())
    field, grid, render = unbounded_configs(extent, NGPFieldConfig(), GridConfig(), RenderConfig())
    assert field.contraction and grid.levels == extent.cascades and render.cone_angle > 0
    assert "unbounded" in describe_extent(extent, grid) and "contracted" in describe_extent(extent, grid)


def test_explicit_settings_win_over_the_unbounded_set_up():
    extent = scene_extent(_dataset(torch.full((6, H, W), 2.0)), background=None)
    _, grid, render = unbounded_configs(extent, NGPFieldConfig(), GridConfig(levels=3), RenderConfig(cone_angle=0.01))
    assert grid.levels == 3 and render.cone_angle == 0.01


def test_alpha_makes_a_scene_bounded_and_aabb_overrides_only_the_box():
    dataset = _dataset(None, alphas=True)
    extent = scene_extent(dataset, background=None)
    assert not extent.unbounded and extent.source == "the cameras' optical axes"
    given = scene_extent(_dataset(None), background=None, aabb=(-1, -1, -1, 1, 1, 1), padding=0.0)
    assert given.aabb == (-1, -1, -1, 1, 1, 1) and given.unbounded


def test_llff_bounds_place_the_foreground_between_near_and_twice_near():
    bounds = torch.tensor([[1.5, 30.0]] * 6)
    extent = scene_extent(_dataset(None, metadata={"bounds": bounds}), background=None, padding=0.0)
    dataset = _dataset(None)
    rays = generate_rays(dataset.cameras, 0)
    centre_ray = (H // 2) * W + W // 2
    near_point = rays.origins[centre_ray] + rays.directions[centre_ray] * 1.5 / rays.z_cam[centre_ray]
    assert bool(_inside(near_point[None].double(), extent.aabb).all())
    assert np.all(np.subtract(extent.aabb[3:], extent.aabb[:3]) < 2 * 4.0 + 2 * 3.0 + 1)  # not out to the far bound


def test_a_malformed_aabb_is_named():
    import pytest

    from nerfgen.errors import NerfgenError

    for aabb in [(0, 0, 0, float("nan"), 1, 1), (0, 0, 0, -1, 1, 1)]:
        with pytest.raises(NerfgenError, match="--aabb must be finite"):
            scene_extent(_dataset(None), background=None, aabb=aabb)
