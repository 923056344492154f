"""Camera axis conventions and pose validation.

nerfgen cameras use OpenCV axes (x right, y down, z forward). nerfstudio/Blender poses
use OpenGL axes (x right, y up, z backward): the two differ by flipping the camera's
y and z axes, i.e. negating columns 1 and 2 of the rotation of a camera-to-world pose.
Negation is exact, so converting there and back reproduces the input bit for bit.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from nerfgen.errors import NerfgenError

# Largest camera position (metres from the origin) a pose may have: datasets in local
# coordinates stay far below it; beyond it float32 rays lose centimetre precision.
MAX_TRANSLATION = 1e6


def _flip_yz(c2w: Tensor) -> Tensor:
    out = c2w.clone()
    out[..., :3, 1:3] = -out[..., :3, 1:3]
    return out


def opengl_to_opencv(c2w: Tensor) -> Tensor:
    """Camera-to-world [...,4,4] with OpenGL camera axes -> OpenCV camera axes."""
    return _flip_yz(c2w)


def opencv_to_opengl(c2w: Tensor) -> Tensor:
    """Camera-to-world [...,4,4] with OpenCV camera axes -> OpenGL camera axes."""
    return _flip_yz(c2w)


def check_poses(c2w: Tensor, path: str | Path | None) -> None:
    """Raises NerfgenError(path, ...) naming the first bad pose of c2w [C,4,4] (or [4,4]).

    Bad: NaN/inf entries, a translation beyond +-MAX_TRANSLATION, a rotation that is not
    rigid (|R^T R - I| > 1e-3 or det(R) not +1, e.g. a scaled or mirrored pose), or a
    bottom row other than [0,0,0,1].
    """
    poses = torch.as_tensor(c2w).double().reshape(-1, *c2w.shape[-2:])
    if poses.shape[-2:] != (4, 4):
        raise NerfgenError(path, f"pose must be a 4x4 matrix, got shape {list(c2w.shape[-2:])}")
    for i, pose in enumerate(poses):
        where = f"pose {i}" if len(poses) > 1 else "pose"
        if not torch.isfinite(pose).all():
            raise NerfgenError(path, f"{where} contains NaN or inf")
        if not (pose[:3, 3].abs() < MAX_TRANSLATION).all():
            raise NerfgenError(path, f"{where} translation {pose[:3, 3].tolist()} is beyond +-{MAX_TRANSLATION:g} m")
        if (pose[3] - pose.new_tensor([0.0, 0.0, 0.0, 1.0])).abs().max() > 1e-6:
            raise NerfgenError(path, f"{where} has bottom row {pose[3].tolist()}, expected [0, 0, 0, 1]")
        R = pose[:3, :3]
        err = (R.T @ R - torch.eye(3, dtype=R.dtype)).abs().max().item()
        det = torch.linalg.det(R).item()
        if err > 1e-3 or abs(det - 1.0) > 1e-3:
            raise NerfgenError(path, f"{where} rotation is not rigid (max |R^T R - I| = {err:.3g}, det = {det:.4g})")
