"""Look-at poses: OpenCV camera-to-world matrices from eye and target points."""

from __future__ import annotations

import numpy as np


def look_at(eyes: np.ndarray, targets: np.ndarray, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """OpenCV camera-to-world poses [N,4,4] float64 for eyes [N,3] looking at targets
    [N,3], with image "up" (-y) as close to world `up` as possible. The view direction
    must not be parallel to `up`."""
    eyes = np.asarray(eyes, dtype=np.float64)
    forward = np.asarray(targets, dtype=np.float64) - eyes
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    right = np.cross(forward, np.asarray(up, dtype=np.float64))
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    down = np.cross(forward, right)
    c2w = np.tile(np.eye(4), (len(eyes), 1, 1))
    c2w[:, :3, 0], c2w[:, :3, 1], c2w[:, :3, 2], c2w[:, :3, 3] = right, down, forward, eyes
    return c2w
