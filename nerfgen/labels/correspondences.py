"""Dense correspondences between two views: where each pixel of A lands in B, and
whether B actually sees that surface point.

A pixel with depth is unprojected (through A's distortion) to its 3D point and
projected into B. It is valid when the point lands inside B's image, in front of B,
and B's depth map agrees that this point is the surface B sees there:
|depth_b - z| <= depth_tolerance * z, where z is the point's depth in B and depth_b
is B's depth at the landing spot, taken two ways (accepted when either agrees):

- interpolated: bilinear interpolation of *inverse* depth between the four pixel
  centres around the spot (all must have depth). Exact for planes under a pinhole
  camera (1/z is affine in the image), so surfaces seen at grazing angles pass; across
  a depth edge it mixes surfaces and fails.
- nearest: the depth of the pixel the point lands in, which never mixes surfaces. It
  counts only when none of the four surrounding pixel centres sees a surface in front
  of the point (beyond the tolerance): such an occluding edge could pass between the
  centres and cover the spot.

So near depth edges a visible point may be rejected (conservative); what is accepted
was measured (tests/test_correspondences.py) to be the surface B's exact ray through
uv_b hits, up to rare sub-pixel contact regions within the tolerance.
"""

from __future__ import annotations

import numpy as np
import torch

from nerfgen.cameras import Cameras, generate_rays, pixel_centres, project, range_to_depth_z, unproject

DEPTH_TOLERANCE = 0.01  # relative: 1 % of the depth in B
NEAR_Z = 1e-6  # m: points with smaller depth in B are behind it


def correspondences(
    cameras: Cameras,
    index_a: int,
    index_b: int,
    depth_z_a: np.ndarray,  # [Ha,Wa] metres, 0 = no surface
    depth_z_b: np.ndarray,  # [Hb,Wb] metres, 0 = no surface
    depth_tolerance: float = DEPTH_TOLERANCE,
) -> tuple[np.ndarray, np.ndarray]:  # uv_b [Ha,Wa,2] float32, valid [Ha,Wa] bool
    """Where every pixel centre of A lands in B (see the module docstring).

    uv_b is the landing point for every pixel with depth that is in front of B (also
    outside B's image or occluded), 0 elsewhere; `valid` marks the true correspondences.
    """
    depth = torch.from_numpy(np.asarray(depth_z_a, dtype=np.float64).reshape(-1))
    return _land(cameras, index_a, index_b, depth, depth_z_b, depth_tolerance, depth_z_a.shape)


def correspondences_from_weights(
    cameras: Cameras,
    index_a: int,
    index_b: int,
    ray_indices: torch.Tensor,  # [S] int, ray (= pixel of A, row-major) of each sample
    t_starts: torch.Tensor,  # [S] distance along A's unit ray where each sample starts
    t_ends: torch.Tensor,  # [S]
    offsets: torch.Tensor,  # [n_rays+1] int, samples of ray r are offsets[r]:offsets[r+1]
    weights: torch.Tensor,  # [S] volume-rendering weights, >= 0
    depth_z_b: np.ndarray,  # [Hb,Wb] metres (e.g. B's expected depth), 0 = no surface
    generator: torch.Generator,
    depth_tolerance: float = DEPTH_TOLERANCE,
) -> tuple[np.ndarray, np.ndarray]:  # uv_b [Ha,Wa,2] float32, valid [Ha,Wa] bool
    """NeRF-Supervision correspondences: each pixel of A takes one depth drawn from its
    ray's normalised weight distribution (piecewise constant over the samples), then
    lands in B as in `correspondences`. Rays with zero total weight are invalid.
    The draw uses only `generator`, so a seeded generator gives identical results."""
    height, width = int(cameras.height[index_a]), int(cameras.width[index_a])
    t = sample_ray_distances(ray_indices, t_starts, t_ends, offsets, weights, generator)
    if len(t) != height * width:
        raise ValueError(f"{len(t)} rays for a {width}x{height} image of camera {index_a}")
    with torch.no_grad():
        z_cam = generate_rays(cameras, index_a).z_cam.double()
    depth = torch.where(torch.isfinite(t), range_to_depth_z(t, z_cam), torch.zeros_like(t))
    return _land(cameras, index_a, index_b, depth, depth_z_b, depth_tolerance, (height, width))


def sample_ray_distances(
    ray_indices: torch.Tensor,  # [S]
    t_starts: torch.Tensor,  # [S]
    t_ends: torch.Tensor,  # [S]
    offsets: torch.Tensor,  # [n_rays+1]
    weights: torch.Tensor,  # [S]
    generator: torch.Generator,
) -> torch.Tensor:  # [n_rays] float64, NaN for rays with zero total weight
    """One distance per ray from the density weights / sum(weights), uniform within the
    chosen sample's [t_start, t_end]: inverse CDF of one uniform number per ray."""
    n_rays = len(offsets) - 1
    w = weights.detach().double().clamp_min(0.0)
    total = torch.zeros(n_rays, dtype=torch.float64).index_add_(0, ray_indices.long(), w)
    cdf = torch.cat([torch.zeros(1, dtype=torch.float64), torch.cumsum(w, 0)])  # [S+1], cdf[k] = sum w[:k]
    start, end = offsets[:-1].long(), offsets[1:].long()
    target = cdf[start] + torch.rand(n_rays, generator=generator, dtype=torch.float64) * total
    has = total > 0
    # The sample k whose [cdf[k], cdf[k+1]) holds the target, kept within the ray's samples.
    k = torch.searchsorted(cdf[1:], target, right=True)
    k = torch.minimum(torch.maximum(k, start), end - 1)[has]
    fraction = torch.where(w[k] > 0, (target[has] - cdf[k]) / w[k], torch.full_like(target[has], 0.5)).clamp(0, 1)
    t = torch.full((n_rays,), float("nan"), dtype=torch.float64)
    t[has] = t_starts.detach().double()[k] + fraction * (t_ends.detach().double()[k] - t_starts.detach().double()[k])
    return t


def flow(uv_b: np.ndarray) -> np.ndarray:  # [H,W,2] -> [H,W,2] float32
    """Optical flow A -> B: landing point minus the pixel centre in A."""
    height, width = uv_b.shape[:2]
    return (uv_b - pixel_centres(width, height).numpy().reshape(height, width, 2)).astype(np.float32)


def _land(
    cameras: Cameras,
    index_a: int,
    index_b: int,
    depth_a: torch.Tensor,  # [Ha*Wa] float64 depth_z per pixel of A, 0 (or less) = none
    depth_z_b: np.ndarray,  # [Hb,Wb]
    depth_tolerance: float,
    shape_a: tuple[int, int],
) -> tuple[np.ndarray, np.ndarray]:
    height, width = shape_a
    if (int(cameras.height[index_a]), int(cameras.width[index_a])) != (height, width):
        raise ValueError(f"depth of camera {index_a} is {width}x{height}, the camera is not")
    depth_b = np.asarray(depth_z_b, dtype=np.float64)
    if depth_b.shape != (int(cameras.height[index_b]), int(cameras.width[index_b])):
        raise ValueError(f"depth of camera {index_b} does not match its image size")
    has_depth = (depth_a > 0).numpy()
    uv_a = pixel_centres(width, height).double()[has_depth]
    with torch.no_grad():
        points = unproject(cameras, index_a, uv_a, depth_a[has_depth])
        uv, z = project(cameras, index_b, points)
    uv, z = uv.numpy(), z.numpy()
    in_front = z > NEAR_Z
    height_b, width_b = depth_b.shape
    inside = in_front & (uv[:, 0] >= 0) & (uv[:, 0] < width_b) & (uv[:, 1] >= 0) & (uv[:, 1] < height_b)
    seen = np.zeros_like(inside)
    seen[inside] = _agrees_with_depth_map(depth_b, uv[inside], z[inside], depth_tolerance)

    uv_b = np.zeros((height * width, 2), np.float32)
    uv_b[np.flatnonzero(has_depth)[in_front]] = uv[in_front]
    valid = np.zeros(height * width, bool)
    valid[np.flatnonzero(has_depth)] = seen
    return uv_b.reshape(height, width, 2), valid.reshape(height, width)


def _agrees_with_depth_map(
    depth_b: np.ndarray,  # [H,W]
    uv: np.ndarray,  # [N,2] inside the image
    z: np.ndarray,  # [N] > 0
    tolerance: float,
) -> np.ndarray:  # [N] bool
    height, width = depth_b.shape
    near = depth_b[np.minimum(uv[:, 1].astype(np.int64), height - 1), np.minimum(uv[:, 0].astype(np.int64), width - 1)]
    agrees = np.abs(near - z) <= tolerance * z

    # Bilinear in inverse depth over the four surrounding pixel centres (clamped at the border).
    xy = uv - 0.5
    lo = np.floor(xy).astype(np.int64)
    frac = xy - lo
    cols = np.clip(np.stack([lo[:, 0], lo[:, 0] + 1], 1), 0, width - 1)  # [N,2]
    rows = np.clip(np.stack([lo[:, 1], lo[:, 1] + 1], 1), 0, height - 1)
    corners = depth_b[rows[:, :, None], cols[:, None, :]]  # [N,2(row),2(col)]
    all_hit = (corners > 0).all(axis=(1, 2))
    with np.errstate(divide="ignore"):
        inverse = np.where(corners > 0, 1.0 / corners, 0.0)
    wy = np.stack([1 - frac[:, 1], frac[:, 1]], 1)
    wx = np.stack([1 - frac[:, 0], frac[:, 0]], 1)
    inverse_at = np.einsum("nr,nrc,nc->n", wy, inverse, wx)
    with np.errstate(divide="ignore"):
        interpolated = np.where(all_hit, 1.0 / inverse_at, 0.0)
    # Nearest alone decides only where no surrounding pixel sees something in front of the
    # point: an occluding edge could pass between the pixel centres and cover the spot.
    occluder_near = ((corners > 0) & (corners < (1 - tolerance) * z[:, None, None])).any(axis=(1, 2))
    return (agrees & ~occluder_near) | (all_hit & (np.abs(interpolated - z) <= tolerance * z))
