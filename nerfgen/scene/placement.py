"""Placement maths shared by the neural renderer and the exact twin, so both agree on
every pose and box: x_world = position + scale * R @ x_asset."""

from __future__ import annotations

import numpy as np

from nerfgen.cameras.transforms import rotation_rpy
from nerfgen.classes import CLASS_IDS
from nerfgen.procedural.build import InstanceBox
from nerfgen.procedural.transforms import pose_matrix
from nerfgen.scene.spec import Hole, PlacedObject


def rigid_to_world(obj: PlacedObject) -> np.ndarray:
    """[4,4] float64 rotation + translation of the placement (no scale)."""
    return pose_matrix(obj.pose)


def asset_to_world(obj: PlacedObject) -> np.ndarray:
    """[4,4] float64 similarity asset frame -> world (scale included)."""
    m = rigid_to_world(obj)
    m[:3, :3] *= obj.scale
    return m


def placed_instance_box(obj: PlacedObject, asset_box: InstanceBox, name: str) -> InstanceBox:
    """The placed object's box and pose from its box in the asset frame (`asset_box`:
    center, size, rotation, pose all in asset coordinates). The pose stays rigid: its
    translation is scaled, its rotation not."""
    rigid = rigid_to_world(obj)
    local_pose = np.asarray(asset_box.pose, np.float64).copy()
    local_pose[:3, 3] *= obj.scale
    return InstanceBox(
        instance_id=obj.instance_id,
        name=name,
        class_name=obj.class_name,
        class_id=CLASS_IDS[obj.class_name],
        center=asset_to_world(obj)[:3, :3] @ np.asarray(asset_box.center, np.float64) + rigid[:3, 3],
        size=np.asarray(asset_box.size, np.float64) * obj.scale,
        rotation=rigid[:3, :3] @ np.asarray(asset_box.rotation, np.float64),
        pose=rigid @ local_pose,
    )


def axis_aligned_box(lo: np.ndarray, hi: np.ndarray) -> InstanceBox:
    """An asset-frame box [lo, hi] (for assets without a ground-truth box)."""
    return InstanceBox(0, "", "none", 0, (lo + hi) / 2, hi - lo, np.eye(3), np.eye(4))


def holes_world_to_box(holes: tuple[Hole, ...]) -> tuple[np.ndarray, np.ndarray]:
    """(world_to_box [k,4,4] rigid, half sizes [k,3]): hole j is |world_to_box[j] @ x| <= half[j]."""
    w2b = np.zeros((len(holes), 4, 4))
    for j, h in enumerate(holes):
        r = rotation_rpy(*h.rotation_deg)
        w2b[j, :3, :3] = r.T
        w2b[j, :3, 3] = -r.T @ np.asarray(h.center)
        w2b[j, 3, 3] = 1.0
    half = np.array([h.size for h in holes], np.float64).reshape(-1, 3) / 2
    return w2b, half


def inside_holes(points: np.ndarray, holes: tuple[Hole, ...]) -> np.ndarray:
    """[N,3] world points -> [N] bool, inside any hole box (boundary included).

    Only the points within the holes' world-aligned bounds (padded by a micrometre, far
    more than float64 rounding) take the exact oriented-box test: most samples of a
    street are nowhere near a hole."""
    w2b, half = holes_world_to_box(holes)
    centres = np.array([h.center for h in holes], np.float64).reshape(-1, 3)
    reach = np.abs(np.transpose(w2b[:, :3, :3], (0, 2, 1))) @ half[:, :, None]  # [k,3,1] world half extents
    lo, hi = (centres - reach[..., 0]).min(0) - 1e-6, (centres + reach[..., 0]).max(0) + 1e-6
    near = ((points >= lo) & (points <= hi)).all(-1)
    inside = np.zeros(len(points), bool)
    local = np.einsum("kij,nj->nki", w2b[:, :3, :3], points[near]) + w2b[None, :, :3, 3]  # [n,k,3]
    inside[near] = (np.abs(local) <= half[None]).all(-1).any(-1)
    return inside
