"""Orbit cameras around a point, for quick looks at a trained field (world z up)."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from nerfgen.cameras import Cameras


def look_at(eye: Tensor, target: Tensor, up: Tensor) -> Tensor:  # [3] each -> c2w [4,4], OpenCV axes
    forward = torch.nn.functional.normalize(target - eye, dim=0)  # camera +z
    right = torch.nn.functional.normalize(torch.linalg.cross(forward, up), dim=0)  # camera +x
    down = torch.linalg.cross(forward, right)  # camera +y
    c2w = torch.eye(4)
    c2w[:3, 0], c2w[:3, 1], c2w[:3, 2], c2w[:3, 3] = right, down, forward, eye
    return c2w


def orbit_cameras(reference: Cameras, centre: Tensor, n_views: int) -> Cameras:  # centre [3]
    """`n_views` cameras on a circle about the vertical axis through `centre`, at the mean
    distance and elevation of the `reference` cameras and with the intrinsics of its first."""
    offsets = reference.c2w[:, :3, 3] - centre
    radius = offsets.norm(dim=-1).mean().item()
    elevation = torch.asin((offsets[:, 2] / offsets.norm(dim=-1)).clamp(-1, 1)).mean().item()
    up = torch.tensor([0.0, 0.0, 1.0])
    poses = []
    for k in range(n_views):
        azimuth = 2.0 * math.pi * k / n_views
        direction = torch.tensor(
            [math.cos(elevation) * math.cos(azimuth), math.cos(elevation) * math.sin(azimuth), math.sin(elevation)]
        )
        poses.append(look_at(centre + radius * direction, centre, up))
    first = reference[0]
    return Cameras.create(torch.stack(poses), first.fx, first.fy, first.cx, first.cy, first.width, first.height)
