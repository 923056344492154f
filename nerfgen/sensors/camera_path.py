"""nerfstudio camera paths (`camera_path.json`, as written by the nerfstudio viewer) -> poses.

The file (see nerfstudio.cameras.camera_paths.get_path_from_json):

    {"render_width": W, "render_height": H, "fps": 24, "seconds": 4,
     "camera_type": "perspective",
     "camera_path": [{"camera_to_world": [16 floats, row-major 4x4, OpenGL axes],
                      "fov": vertical field of view in degrees, "aspect": W / H}, ...]}

Poses are converted to OpenCV axes. As in nerfstudio, the focal length is
H / 2 / tan(fov / 2) for both axes with the principal point at the image centre, and
the per-frame `aspect` is not used (render_width / render_height fix the image). Only
perspective paths are read. Without `fps`, fps = frames / `seconds`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from nerfgen.cameras import Cameras, check_poses, focal_from_fov, opengl_to_opencv
from nerfgen.errors import NerfgenError
from nerfgen.json_file import read_json_object


@dataclass
class CameraPath:
    c2w: np.ndarray  # [N,4,4] float64 camera-to-world, OpenCV axes
    fov_deg: np.ndarray  # [N] float64 vertical field of view
    width: int  # pixels
    height: int
    fps: float

    def cameras(self) -> Cameras:
        """Pinhole cameras of the path, one per frame."""
        focal = [focal_from_fov(math.radians(f), self.height) for f in self.fov_deg]
        return Cameras.create(self.c2w, focal, focal, self.width / 2, self.height / 2, self.width, self.height)


def load_camera_path(path: str | Path) -> CameraPath:
    """Reads a nerfstudio camera_path.json; bad files raise NerfgenError naming the file."""
    path = Path(path)
    if not path.is_file():
        raise NerfgenError(path, "does not exist")
    meta = read_json_object(path)
    camera_type = meta.get("camera_type", "perspective")
    if camera_type != "perspective":
        raise NerfgenError(path, f"camera_type {camera_type!r} is not supported (only 'perspective')")
    width, height = (_positive_int(meta, key, path) for key in ("render_width", "render_height"))
    frames = meta.get("camera_path")
    if not isinstance(frames, list) or not frames:
        raise NerfgenError(path, "'camera_path' must be a non-empty list of cameras")

    c2w, fov = [], []
    for i, frame in enumerate(frames):
        where = f"camera_path[{i}]"
        if not isinstance(frame, dict):
            raise NerfgenError(path, f"{where} must be an object")
        matrix = frame.get("camera_to_world")
        if not (isinstance(matrix, list) and len(matrix) == 16 and all(_is_number(v) for v in matrix)):
            raise NerfgenError(path, f"{where}.camera_to_world must be a list of 16 numbers (row-major 4x4)")
        c2w.append(matrix)
        f = frame.get("fov")
        if not (_is_number(f) and 0 < f < 180):
            raise NerfgenError(path, f"{where}.fov must be a number of degrees in (0, 180), got {f!r}")
        fov.append(f)
    gl = torch.tensor(c2w, dtype=torch.float64).reshape(-1, 4, 4)
    check_poses(gl, path)
    return CameraPath(
        c2w=opengl_to_opencv(gl).numpy(),
        fov_deg=np.asarray(fov, dtype=np.float64),
        width=width,
        height=height,
        fps=_fps(meta, len(frames), path),
    )


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)


def _positive_int(meta: dict, key: str, path: Path) -> int:
    v = meta.get(key)
    if not (isinstance(v, int) and not isinstance(v, bool) and v > 0):
        raise NerfgenError(path, f"{key!r} must be a positive integer, got {v!r}")
    return v


def _fps(meta: dict, n: int, path: Path) -> float:
    if "fps" in meta:
        fps = meta["fps"]
    elif "seconds" in meta and _is_number(meta["seconds"]) and meta["seconds"] > 0:
        fps = n / meta["seconds"]
    else:
        raise NerfgenError(path, "needs 'fps' (or 'seconds')")
    if not (_is_number(fps) and fps > 0):
        raise NerfgenError(path, f"'fps' must be a positive number, got {fps!r}")
    return float(fps)
