"""Cameras: intrinsics + distortion + OpenCV poses, rays, projection, axis conventions.

Pixel convention: top-left image corner at (0, 0), pixel (i, j) centred at
(i + 0.5, j + 0.5). Camera axes OpenCV; poses camera-to-world float32 [C,4,4].
"""

from nerfgen.cameras.conventions import check_poses, opencv_to_opengl, opengl_to_opencv
from nerfgen.cameras.distortion import distort, undistort
from nerfgen.cameras.look_at import look_at
from nerfgen.cameras.model import DISTORTION_COEFFS, Cameras, focal_from_fov
from nerfgen.cameras.rays import (
    RayBundle,
    depth_z_to_range,
    generate_rays,
    pixel_centres,
    project,
    range_to_depth_z,
    unproject,
)

__all__ = [
    "DISTORTION_COEFFS",
    "Cameras",
    "RayBundle",
    "check_poses",
    "depth_z_to_range",
    "distort",
    "focal_from_fov",
    "generate_rays",
    "look_at",
    "opencv_to_opengl",
    "opengl_to_opencv",
    "pixel_centres",
    "project",
    "range_to_depth_z",
    "undistort",
    "unproject",
]
