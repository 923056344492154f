"""Rays from cameras, projection and unprojection, depth_z <-> range.

Pixel convention: top-left image corner at (0, 0); pixel (col i, row j) has its
centre at (i + 0.5, j + 0.5). Everything goes through the camera's distortion model.
Geometry is computed in float64 and returned in the dtype of the pixel/point inputs.

Depth kinds: `depth_z` is the distance along the optical axis (camera z), `range` the
distance along the ray. For a unit ray direction whose camera-frame z component is
`z_cam`, range = depth_z / z_cam.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from nerfgen.cameras.distortion import distort, fisheye_directions, fisheye_project, undistort
from nerfgen.cameras.model import Cameras


@dataclass
class RayBundle:
    """Rays in world coordinates (metres)."""

    origins: Tensor  # [N,3]
    directions: Tensor  # [N,3] unit length
    z_cam: Tensor  # [N] z of the unit direction in the camera frame (cos of the off-axis angle)


def pixel_centres(width: int, height: int) -> Tensor:
    """Centres of all pixels [H*W, 2] (u, v) float32, row-major (row 0 first)."""
    v, u = torch.meshgrid(
        torch.arange(int(height), dtype=torch.float32) + 0.5,
        torch.arange(int(width), dtype=torch.float32) + 0.5,
        indexing="ij",
    )
    return torch.stack([u.reshape(-1), v.reshape(-1)], -1)


def _intrinsics(cameras: Cameras, index: int) -> tuple[Tensor, Tensor, Tensor, Tensor]:
    cam = cameras[index]
    f = torch.stack([cam.fx[0], cam.fy[0]]).double()
    c = torch.stack([cam.cx[0], cam.cy[0]]).double()
    return f, c, cam.dist_coeffs[0].double(), cam.c2w[0].double()


def _pixels_to_camera_dirs(cameras: Cameras, index: int, uv: Tensor) -> tuple[Tensor, Tensor]:
    """Undistorted normalised coordinates [N,2] -> camera-frame points on z = 1 [N,3]; also c2w."""
    f, c, coeffs, c2w = _intrinsics(cameras, index)
    xy = undistort((uv.double() - c) / f, cameras.distortion, coeffs)
    return torch.cat([xy, torch.ones_like(xy[:, :1])], -1), c2w


def _pixels_to_unit_dirs(cameras: Cameras, index: int, uv: Tensor) -> tuple[Tensor, Tensor]:
    """Unit camera-frame ray directions [N,3] through pixels uv [N,2]; also c2w.

    Fisheye rays come from the off-axis angle itself, so lenses wider than 180 degrees
    get correct rays beyond 90 degrees off axis."""
    if cameras.distortion == "fisheye":
        f, c, coeffs, c2w = _intrinsics(cameras, index)
        return fisheye_directions((uv.double() - c) / f, coeffs.expand(len(uv), -1)), c2w
    on_plane, c2w = _pixels_to_camera_dirs(cameras, index, uv)
    return on_plane / on_plane.norm(dim=-1, keepdim=True), c2w


def generate_rays(cameras: Cameras, index: int, pixels: Tensor | None = None) -> RayBundle:
    """Rays of camera `index` through `pixels` [N,2] (u, v); default: all pixel centres, row-major."""
    if pixels is None:
        pixels = pixel_centres(int(cameras.width[index]), int(cameras.height[index])).to(cameras.c2w.device)
    d_cam, c2w = _pixels_to_unit_dirs(cameras, index, pixels)
    dirs = d_cam @ c2w[:3, :3].T
    dtype = pixels.dtype
    return RayBundle(
        origins=c2w[:3, 3].expand_as(dirs).to(dtype).contiguous(),
        directions=dirs.to(dtype),
        z_cam=d_cam[:, 2].to(dtype),
    )


def project(cameras: Cameras, index: int, points_world: Tensor) -> tuple[Tensor, Tensor]:
    """Projects world points [N,3] into camera `index`: (uv [N,2], depth_z [N]).

    Points with depth_z <= 0 are behind the image plane; for pinhole and OpenCV cameras
    their uv is meaningless, so callers mask on depth_z > 0. Fisheye projection works
    from the off-axis angle and stays valid up to 180 degrees off axis.
    """
    f, c, coeffs, c2w = _intrinsics(cameras, index)
    p_cam = (points_world.double() - c2w[:3, 3]) @ c2w[:3, :3]  # R^T (p - t), row-vector form
    depth_z = p_cam[:, 2]
    if cameras.distortion == "fisheye":
        xy = fisheye_project(p_cam, coeffs.expand(len(p_cam), -1))
    else:
        xy = distort(p_cam[:, :2] / depth_z[:, None], cameras.distortion, coeffs)
    uv = xy * f + c
    return uv.to(points_world.dtype), depth_z.to(points_world.dtype)


def unproject(cameras: Cameras, index: int, uv: Tensor, depth_z: Tensor) -> Tensor:
    """World points [N,3] seen at pixels uv [N,2] with depth along the optical axis depth_z [N].

    depth_z > 0 only exists for rays less than 90 degrees off axis; for wider fisheye
    pixels use generate_rays and a range instead."""
    on_plane, c2w = _pixels_to_camera_dirs(cameras, index, uv)
    p_cam = on_plane * depth_z.double()[:, None]
    return (p_cam @ c2w[:3, :3].T + c2w[:3, 3]).to(uv.dtype)


def depth_z_to_range(depth_z: Tensor, z_cam: Tensor) -> Tensor:
    """Distance along the ray from depth along the optical axis (z_cam from RayBundle)."""
    return depth_z / z_cam


def range_to_depth_z(range_: Tensor, z_cam: Tensor) -> Tensor:
    """Depth along the optical axis from distance along the ray (z_cam from RayBundle)."""
    return range_ * z_cam
