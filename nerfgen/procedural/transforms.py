"""The scene files' poses (translation + roll/pitch/yaw) as 4x4 matrices."""

from __future__ import annotations

import numpy as np

from nerfgen.cameras.transforms import rotation_rpy
from nerfgen.procedural.spec import Pose


def pose_matrix(pose: Pose) -> np.ndarray:
    """Child-to-parent 4x4 float64 matrix of a `Pose`."""
    m = np.eye(4)
    m[:3, :3] = rotation_rpy(*pose.rotation_deg)
    m[:3, 3] = pose.translation
    return m
