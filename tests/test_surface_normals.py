"""Plane-fit normals of a rendered surface (nerfgen.render.surface_normals) on exact
depth maps of known geometry seen by a pinhole camera."""

import math

import torch

from nerfgen.cameras import Cameras, generate_rays
from nerfgen.render.surface_normals import surface_normals


def _camera(h: int = 24, w: int = 32) -> Cameras:
    return Cameras.create(torch.eye(4), fx=60.0, fy=60.0, cx=w / 2, cy=h / 2, width=w, height=h)


def _rays(h: int = 24, w: int = 32) -> tuple[torch.Tensor, torch.Tensor]:
    rays = generate_rays(_camera(h, w), 0)
    return rays.origins.reshape(h, w, 3), rays.directions.reshape(h, w, 3)


def _hit_plane(origins, directions, normal, offset):  # plane n.x = offset -> range [H,W]
    return (offset - (origins * normal).sum(-1)) / (directions * normal).sum(-1)


def test_two_planes_at_a_depth_step_keep_their_own_normals():
    origins, directions = _rays()
    near = torch.nn.functional.normalize(torch.tensor([0.4, 0.0, -1.0]), dim=0)  # tilted, faces the camera
    far = torch.tensor([0.0, 0.0, -1.0])
    left = torch.arange(32)[None, :].expand(24, 32) < 14
    range_ = torch.where(left, _hit_plane(origins, directions, near, -3.0), _hit_plane(origins, directions, far, -9.0))
    points = origins + directions * range_[..., None]
    normals = surface_normals(points, directions, range_, torch.ones(24, 32, dtype=torch.bool), radius=2)
    expected = torch.where(left[..., None], near.expand(24, 32, 3), far.expand(24, 32, 3))
    # Every pixel, at the step and at the image border too, gets its own plane's normal.
    cos = (normals * expected).sum(-1)
    assert cos.min() > math.cos(math.radians(0.1))


def test_grazing_ground_stays_connected_and_segments_separate():
    origins, directions = _rays()
    up = torch.nn.functional.normalize(torch.tensor([0.0, -1.0, -0.08]), dim=0)  # y down: a floor seen almost edge-on
    range_ = _hit_plane(origins, directions, up, -1.5)
    valid = range_ > 0
    range_ = torch.where(valid, range_, torch.zeros_like(range_))
    points = origins + directions * range_[..., None]
    segments = (torch.arange(32)[None, :] >= 16).expand(24, 32).int()
    normals = surface_normals(points, directions, range_, valid, segments=segments, radius=3)
    known = normals.norm(dim=-1) > 0
    assert known[valid].float().mean() > 0.95
    # Up to the horizon, where rays graze the floor at more than 80 deg from its normal
    # (beyond that the side facing the camera is a matter of rounding).
    seen = known & (-(directions * up).sum(-1) > math.cos(math.radians(80.0)))
    assert seen.sum() > 150
    cos = (normals[seen] * up).sum(-1)
    assert cos.min() > math.cos(math.radians(0.5))


def test_isolated_pixels_and_invalid_pixels_get_no_normal():
    origins, directions = _rays(8, 8)
    range_ = torch.full((8, 8), 4.0)
    valid = torch.zeros(8, 8, dtype=torch.bool)
    valid[2, 2] = True  # alone: no plane through one point
    valid[5, 4:7] = True  # a line: no plane either
    points = origins + directions * range_[..., None]
    normals = surface_normals(points, directions, range_, valid, radius=2)
    assert (normals[~valid] == 0).all()
    assert (normals[2, 2] == 0).all()


def test_a_sphere_seen_head_on():
    origins, directions = _rays()
    centre, radius = torch.tensor([0.0, 0.0, 6.0]), 2.5
    b = (directions * (origins - centre)).sum(-1)
    c = ((origins - centre) ** 2).sum(-1) - radius**2
    disc = b * b - c
    valid = disc > 0
    range_ = torch.where(valid, -b - disc.clamp_min(0).sqrt(), torch.zeros_like(b))
    points = origins + directions * range_[..., None]
    normals = surface_normals(points, directions, range_, valid, radius=1)
    exact = torch.nn.functional.normalize(points - centre, dim=-1)
    inner = valid.clone()
    inner[1:-1, 1:-1] &= valid[:-2, 1:-1] & valid[2:, 1:-1] & valid[1:-1, :-2] & valid[1:-1, 2:]
    angles = torch.rad2deg(torch.acos((normals[inner] * exact[inner]).sum(-1).clamp(-1, 1)))
    assert angles.median() < 1.0 and angles.max() < 10.0
