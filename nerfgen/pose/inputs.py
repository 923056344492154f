"""Reading what a localisation query is made of: the image, intrinsics, an initial pose.

Every problem is a one-line NerfgenError naming the file or argument.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from nerfgen.cameras import Cameras, check_poses
from nerfgen.data import find_colmap_model, read_colmap, read_transforms
from nerfgen.data.frames import read_rgba
from nerfgen.errors import NerfgenError


def read_query_image(path: str | Path, background: tuple[float, float, float]) -> Tensor:  # -> [H,W,3]
    """An RGB(A) image as float32 [H,W,3] in [0,1]; alpha is composited over `background`."""
    path = Path(path)
    if not path.is_file():
        raise NerfgenError(path, "image does not exist")
    rgb, alpha = read_rgba(path)
    image = torch.from_numpy(rgb).float()
    if alpha is not None:
        a = torch.from_numpy(alpha).float()[..., None]
        image = image * a + (1.0 - a) * torch.tensor(background)
    return image


def read_pose(path: str | Path) -> Tensor:  # -> [4,4] float32
    """A rigid 4x4 pose from a .npy file or a JSON file holding the matrix (nested lists) or
    an object with it under "pose" (what `nerfgen localize` writes) or "transform_matrix"."""
    path = Path(path)
    if not path.is_file():
        raise NerfgenError(path, "pose file does not exist")
    try:
        if path.suffix == ".npy":
            value = np.load(path, allow_pickle=False)
        else:
            value = json.loads(path.read_text())
            if isinstance(value, dict):
                value = value.get("pose", value.get("transform_matrix"))
        pose = torch.as_tensor(np.asarray(value, dtype=np.float64))
    except (OSError, ValueError, TypeError) as e:
        raise NerfgenError(path, f"cannot read a 4x4 pose ({type(e).__name__}: {e})") from None
    if pose.shape != (4, 4):
        raise NerfgenError(path, f"pose must be a 4x4 matrix, got shape {list(pose.shape)}")
    check_poses(pose, path)
    return pose.float()


def parse_intrinsics(text: str) -> tuple[float, float, float, float]:
    """ "fx,fy,cx,cy" (pixels) -> four floats; focal lengths must be positive."""
    parts = text.split(",")
    try:
        values = tuple(float(p) for p in parts)
    except ValueError:
        values = ()
    if len(values) != 4 or not all(math.isfinite(v) for v in values):
        raise NerfgenError(
            None, f"--intrinsics must be four numbers fx,fy,cx,cy or TRANSFORMS.json:FRAME, got {text!r}"
        )
    if values[0] <= 0 or values[1] <= 0:
        raise NerfgenError(None, f"--intrinsics focal lengths must be positive, got fx={values[0]:g} fy={values[1]:g}")
    return values  # type: ignore[return-value]


def dataset_cameras(path: str | Path) -> Cameras:
    """Full-resolution cameras of every frame of a dataset (transforms.json or COLMAP), no pixels read."""
    path = Path(path)
    if not path.exists():
        raise NerfgenError(path, "dataset does not exist")
    if find_colmap_model(path) is not None and not (path / "transforms.json").is_file():
        return read_colmap(path).cameras
    return read_transforms(path).cameras


def frame_camera(cameras: Cameras, index: int, where: str | Path) -> Cameras:
    if not 0 <= index < len(cameras):
        raise NerfgenError(where, f"frame {index} does not exist (the dataset has {len(cameras)} frames)")
    return cameras[index]


def query_camera(
    intrinsics: tuple[float, float, float, float] | Cameras, width: int, height: int, where: str | Path
) -> Cameras:
    """Camera of a width x height query image: from fx,fy,cx,cy, or a dataset frame's camera
    rescaled to the image (an image downscaled by k from the frame's size)."""
    if isinstance(intrinsics, Cameras):
        factor = float(intrinsics.width[0]) / width
        camera = intrinsics.rescaled(factor)
        if (int(camera.width[0]), int(camera.height[0])) != (width, height):
            raise NerfgenError(
                where,
                f"frame is {int(intrinsics.width[0])}x{int(intrinsics.height[0])}, "
                f"not a multiple of the image's {width}x{height}",
            )
    else:
        camera = Cameras.create(torch.eye(4), *intrinsics, width, height, path=where)
    cx, cy = float(camera.cx[0]), float(camera.cy[0])
    if not (0 < cx < width and 0 < cy < height):
        raise NerfgenError(where, f"principal point ({cx:g}, {cy:g}) lies outside the {width}x{height} image")
    return camera
