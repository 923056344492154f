"""Pinhole intrinsics in the integer-pixel-centre convention of KITTI, BOP and OpenCV.

nerfgen centres pixel (i, j) at (i + 0.5, j + 0.5); OpenCV-style matrices (KITTI's P,
BOP's cam_K) centre it at (i, j). The same ray therefore has image coordinates 0.5
smaller there: cx_format = cx - 0.5, cy_format = cy - 0.5, focal lengths unchanged.
"""

from __future__ import annotations

import numpy as np

from nerfgen.errors import NerfgenError
from nerfgen.labels.types import FrameLabels

PIXEL_SHIFT = 0.5  # format pixel coordinate = nerfgen pixel coordinate - PIXEL_SHIFT


def integer_centre_K(labels: FrameLabels) -> np.ndarray:
    """[3,3] intrinsic matrix with pixel centres at integer coordinates."""
    return np.array(
        [[labels.fx, 0.0, labels.cx - PIXEL_SHIFT], [0.0, labels.fy, labels.cy - PIXEL_SHIFT], [0.0, 0.0, 1.0]],
        dtype=np.float64,
    )


def check_pinhole(labels: FrameLabels, fmt: str) -> None:
    """Formats with only a K matrix need undistorted images (zero coefficients are fine)."""
    if labels.distortion != "none" and np.any(np.asarray(labels.dist_coeffs) != 0):
        raise NerfgenError(
            None,
            f"frame {labels.index}: {fmt} stores undistorted pinhole images, but this frame has "
            f"{labels.distortion!r} distortion (render with distortion 'none' to export {fmt})",
        )
