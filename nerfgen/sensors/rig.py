"""Camera rigs: several cameras mounted on an ego frame that follows a trajectory.

Every rig camera has its own intrinsics, distortion model (pinhole, OpenCV or fisheye;
see nerfgen.cameras.distortion) and camera-to-ego extrinsic; `rig_cameras` places the
rig at every ego pose and returns one `Cameras` batch that `generate_rays` renders.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from nerfgen.cameras import DISTORTION_COEFFS, Cameras
from nerfgen.errors import NerfgenError


@dataclass(frozen=True)
class RigCamera:
    name: str
    camera_to_ego: np.ndarray  # [4,4] OpenCV camera axes -> ego (see nerfgen.sensors.frames.camera_mount)
    fx: float  # pixels
    fy: float
    cx: float  # pixels, top-left corner convention
    cy: float
    width: int
    height: int
    distortion: str = "none"  # "none" | "opencv" | "fisheye"
    dist_coeffs: tuple[float, ...] = ()  # none: (); opencv: (k1, k2, p1, p2, k3); fisheye: (k1..k4)


@dataclass(frozen=True)
class CameraRig:
    cameras: tuple[RigCamera, ...]


def rig_cameras(rig: CameraRig, ego_poses: np.ndarray, names: Sequence[str] | None = None) -> Cameras:
    """The rig's cameras (all, or those in `names`, in that order) at every ego pose.

    ego_poses [N,4,4] ego-to-world (x forward, y left, z up). Index order is frame-major:
    camera k of frame i has index i * K + k (K = number of cameras selected), so
    `cameras[i * K : (i + 1) * K]` is frame i. One `Cameras` batch has one distortion
    model: pinhole cameras join OpenCV ones as "opencv" with zero coefficients (the same
    rays); fisheye cameras cannot share a batch with others, so select them with `names`.
    """
    by_name = {c.name: c for c in rig.cameras}
    unknown = [n for n in names or () if n not in by_name]
    if unknown:
        raise NerfgenError(None, f"rig has no camera {unknown[0]!r} (cameras: {sorted(by_name)})")
    selected = [by_name[n] for n in names] if names is not None else list(rig.cameras)
    model = _shared_model(selected)
    ego_poses = np.asarray(ego_poses, dtype=np.float64).reshape(-1, 4, 4)
    camera_to_ego = np.stack([c.camera_to_ego for c in selected])  # [K,4,4]
    c2w = (ego_poses[:, None] @ camera_to_ego[None]).reshape(-1, 4, 4)
    n = len(ego_poses)

    def per_camera(values) -> np.ndarray:
        return np.tile(np.asarray(values), n)

    coeffs = [c.dist_coeffs if c.distortion == model else (0.0,) * 5 for c in selected]
    return Cameras.create(
        c2w,
        per_camera([c.fx for c in selected]),
        per_camera([c.fy for c in selected]),
        per_camera([c.cx for c in selected]),
        per_camera([c.cy for c in selected]),
        per_camera([c.width for c in selected]),
        per_camera([c.height for c in selected]),
        distortion=model,
        dist_coeffs=np.tile(np.array(coeffs, dtype=np.float64), (n, 1)),
    )


def _shared_model(cameras: list[RigCamera]) -> str:
    for c in cameras:
        expected = DISTORTION_COEFFS.get(c.distortion)
        if expected is None or len(c.dist_coeffs) != len(expected):
            raise NerfgenError(
                None,
                f"rig camera {c.name!r}: distortion {c.distortion!r} needs coefficients {expected}, "
                f"got {len(c.dist_coeffs)} values",
            )
    models = {c.distortion for c in cameras}
    if len(models) == 1:
        return models.pop()
    if models == {"none", "opencv"}:
        return "opencv"
    listing = ", ".join(f"{c.name!r} ({c.distortion})" for c in cameras)
    raise NerfgenError(
        None, f"rig cameras {listing} mix distortion models; select cameras of one model with names=[...]"
    )
