"""3D boxes of objects and their image extents (near-plane clipped projection)."""

from __future__ import annotations

import numpy as np
import torch

from nerfgen.cameras import Cameras, project
from nerfgen.labels.types import BOX_CORNER_SIGNS

# The 12 box edges: corner pairs whose indices differ in exactly one bit (one axis).
BOX_EDGES = np.array([(a, a | 1 << axis) for a in range(8) for axis in range(3) if not a >> axis & 1])
NEAR_Z = 1e-3  # m: box edges are clipped to camera z >= NEAR_Z before projecting
# Points per clipped edge under distortion, where edges project to curves (a pinhole
# camera maps them to straight segments, so there the two end points bound the image).
CURVED_EDGE_SAMPLES = 17


def box_to_world(center: np.ndarray, rotation: np.ndarray) -> np.ndarray:  # [3], [3,3] -> [4,4]
    m = np.eye(4)
    m[:3, :3], m[:3, 3] = rotation, center
    return m


def box_corners(size: np.ndarray, box_to_world: np.ndarray) -> np.ndarray:  # [3], [4,4] -> [8,3]
    """World corners in BOX_CORNER_SIGNS order."""
    local = BOX_CORNER_SIGNS * (np.asarray(size, dtype=np.float64) / 2)
    return local @ box_to_world[:3, :3].T + box_to_world[:3, 3]


def projected_extent(
    cameras: Cameras,
    index: int,
    corners_world: np.ndarray,  # [8,3]
    corners_z: np.ndarray,  # [8] camera-frame z of the corners
) -> np.ndarray | None:  # [4] x0, y0, x1, y1 pixels, not clipped to the image
    """Image extent of the part of the box in front of the camera, None if none is.

    Each edge is clipped against the plane z = NEAR_Z first: projecting a corner behind
    the camera would mirror it through the centre and give a wrong box. The clipped
    box's image is spanned by its clipped edges, so their projections bound it.
    """
    z0, z1 = corners_z[BOX_EDGES[:, 0]], corners_z[BOX_EDGES[:, 1]]
    in_front = (z0 >= NEAR_Z) | (z1 >= NEAR_Z)
    if not in_front.any():
        return None
    z0, z1, edges = z0[in_front], z1[in_front], BOX_EDGES[in_front]
    with np.errstate(divide="ignore", invalid="ignore"):
        crossing = (NEAR_Z - z0) / (z1 - z0)  # edge parameter where it meets the near plane
    t_lo = np.where(z0 >= NEAR_Z, 0.0, crossing)
    t_hi = np.where(z1 >= NEAR_Z, 1.0, crossing)
    s = np.linspace(0.0, 1.0, 2 if cameras.distortion == "none" else CURVED_EDGE_SAMPLES)
    t = t_lo[:, None] + s[None] * (t_hi - t_lo)[:, None]  # [E,S]
    p0, p1 = corners_world[edges[:, 0]], corners_world[edges[:, 1]]
    points = p0[:, None] + t[..., None] * (p1 - p0)[:, None]  # [E,S,3]
    uv, _ = project(cameras, index, torch.from_numpy(points.reshape(-1, 3)))
    uv = uv.numpy()
    return np.concatenate([uv.min(0), uv.max(0)])


def clip_to_image(extent: np.ndarray | None, width: int, height: int) -> np.ndarray | None:  # [4] -> [4]
    """The part of an extent inside the image [0,W] x [0,H]; None if empty."""
    if extent is None:
        return None
    clipped = np.clip(extent, 0.0, [width, height, width, height])
    if clipped[2] <= clipped[0] or clipped[3] <= clipped[1]:
        return None
    return clipped


def mask_bbox(mask: np.ndarray) -> np.ndarray | None:  # [H,W] bool -> [4] x0, y0, x1, y1 (pixel edges)
    rows, cols = np.flatnonzero(mask.any(1)), np.flatnonzero(mask.any(0))
    if len(rows) == 0:
        return None
    return np.array([cols[0], rows[0], cols[-1] + 1, rows[-1] + 1], dtype=np.float64)
