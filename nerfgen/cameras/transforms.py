"""Rigid transforms: rotations from roll/pitch/yaw and 4x4 matrices applied to points."""

from __future__ import annotations

import numpy as np


def rotation_rpy(roll_deg: float, pitch_deg: float, yaw_deg: float) -> np.ndarray:
    """R = Rz(yaw) @ Ry(pitch) @ Rx(roll), [3,3] float64."""
    r, p, y = np.deg2rad([roll_deg, pitch_deg, yaw_deg])
    rx = np.array([[1, 0, 0], [0, np.cos(r), -np.sin(r)], [0, np.sin(r), np.cos(r)]])
    ry = np.array([[np.cos(p), 0, np.sin(p)], [0, 1, 0], [-np.sin(p), 0, np.cos(p)]])
    rz = np.array([[np.cos(y), -np.sin(y), 0], [np.sin(y), np.cos(y), 0], [0, 0, 1]])
    return rz @ ry @ rx


def apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Applies a 4x4 transform to points [N,3]."""
    return points @ matrix[:3, :3].T + matrix[:3, 3]
