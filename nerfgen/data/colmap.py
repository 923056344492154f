"""COLMAP sparse models (binary or text) via pycolmap.

COLMAP stores world-to-camera poses (`cam_from_world`) in OpenCV camera axes and uses
the same pixel convention as nerfgen (top-left corner at (0, 0)), so poses are only
inverted and intrinsics copied. Supported camera models: SIMPLE_PINHOLE, PINHOLE,
SIMPLE_RADIAL and RADIAL (as "opencv" with k1[, k2]), OPENCV, OPENCV_FISHEYE.
Only registered images are loaded, sorted by name; all of them form the "train" split
(use `holdout_split` for an evaluation split).
"""

from __future__ import annotations

from pathlib import Path

import torch

from nerfgen.cameras import DISTORTION_COEFFS, check_poses
from nerfgen.cameras.model import MAX_DISTORTION
from nerfgen.data.dataset import Dataset
from nerfgen.data.frames import FrameFiles, FrameIndex, merge_cameras
from nerfgen.errors import NerfgenError
from nerfgen.mapping_reader import MappingReader

MODEL_FILES = ("cameras.bin", "cameras.txt")

# COLMAP model -> (nerfgen distortion, function params -> (fx, fy, cx, cy, coeffs)).
_MODELS = {
    "SIMPLE_PINHOLE": ("none", lambda p: (p[0], p[0], p[1], p[2], [])),
    "PINHOLE": ("none", lambda p: (p[0], p[1], p[2], p[3], [])),
    "SIMPLE_RADIAL": ("opencv", lambda p: (p[0], p[0], p[1], p[2], [p[3], 0.0, 0.0, 0.0, 0.0])),
    "RADIAL": ("opencv", lambda p: (p[0], p[0], p[1], p[2], [p[3], p[4], 0.0, 0.0, 0.0])),
    "OPENCV": ("opencv", lambda p: (p[0], p[1], p[2], p[3], [p[4], p[5], p[6], p[7], 0.0])),
    "OPENCV_FISHEYE": ("fisheye", lambda p: (p[0], p[1], p[2], p[3], [p[4], p[5], p[6], p[7]])),
}


def find_colmap_model(path: Path) -> Path | None:
    """The model directory at `path`, `path/sparse/0` or `path/sparse`, if any."""
    for candidate in (path, path / "sparse" / "0", path / "sparse"):
        if any((candidate / f).is_file() for f in MODEL_FILES):
            return candidate
    return None


def _find_images_dir(model_dir: Path) -> Path | None:
    """`images/` beside the model or beside one of its parents (project/sparse/0 -> project/images)."""
    for parent in (model_dir, *list(model_dir.parents)[:3]):
        if (parent / "images").is_dir():
            return parent / "images"
    return None


def load_colmap(
    path: str | Path,
    downscale: int = 1,
    background=(1.0, 1.0, 1.0),
    images_dir: str | Path | None = None,
) -> Dataset:
    """Loads a COLMAP reconstruction (`path`: project dir or model dir) with its images."""
    return read_colmap(path, images_dir).load(downscale, background)


def read_colmap(path: str | Path, images_dir: str | Path | None = None) -> FrameIndex:
    """Cameras (full resolution) and image paths of a COLMAP model, without decoding images."""
    import pycolmap

    path = Path(path)
    model_dir = find_colmap_model(path)
    if model_dir is None:
        raise NerfgenError(path, "no COLMAP model (cameras.bin/cameras.txt, or sparse/0/) found")
    images_dir = Path(images_dir) if images_dir is not None else _find_images_dir(model_dir)
    if images_dir is None or not images_dir.is_dir():
        raise NerfgenError(images_dir or model_dir, "COLMAP images directory not found (pass images_dir)")
    try:
        rec = pycolmap.Reconstruction(str(model_dir))
    except Exception as e:  # pycolmap raises plain RuntimeError/ValueError on corrupt files
        raise NerfgenError(model_dir, f"cannot read COLMAP model ({e})") from None
    cameras_file, images_file = _model_file(model_dir, "cameras"), _model_file(model_dir, "images")

    images = sorted((im for im in rec.images.values() if im.has_pose), key=lambda im: im.name)
    if not images:
        raise NerfgenError(model_dir, "COLMAP model has no registered images")
    cams, frames = [], []
    for im in images:
        camera = rec.cameras[im.camera_id]
        name = camera.model_name
        if name not in _MODELS:
            raise NerfgenError(
                model_dir, f"camera {im.camera_id} has unsupported model {name} (supported: {', '.join(_MODELS)})"
            )
        distortion, unpack = _MODELS[name]
        fx, fy, cx, cy, coeffs = unpack([float(v) for v in camera.params])
        _check_intrinsics(cameras_file, im.camera_id, distortion, [fx, fy, cx, cy], coeffs)
        cam_from_world = im.cam_from_world() if callable(im.cam_from_world) else im.cam_from_world
        w2c = torch.eye(4, dtype=torch.float64)
        w2c[:3] = torch.as_tensor(cam_from_world.matrix(), dtype=torch.float64)
        c2w = torch.linalg.inv(w2c)
        try:
            check_poses(c2w, images_file)
        except NerfgenError as e:
            raise NerfgenError(images_file, f"image {im.name}: {e.problem}") from None
        image_path = images_dir / im.name
        if not image_path.is_file():
            raise NerfgenError(image_path, f"image {im.name} of the COLMAP model not found")
        cams.append(
            dict(
                c2w=c2w,
                fx=fx,
                fy=fy,
                cx=cx,
                cy=cy,
                width=camera.width,
                height=camera.height,
                distortion=distortion,
                dist_coeffs=coeffs,
            )
        )
        frames.append(FrameFiles(image=image_path, source=model_dir))

    return FrameIndex(
        root=model_dir,
        cameras=merge_cameras(cams, model_dir),
        frames=frames,
        splits={"train": torch.arange(len(frames))},
        metadata={},
    )


def _model_file(model_dir: Path, stem: str) -> Path:
    """The model's binary or text `stem` file, as pycolmap reads it (binary first)."""
    binary = model_dir / f"{stem}.bin"
    return binary if binary.is_file() else model_dir / f"{stem}.txt"


def _check_intrinsics(file: Path, camera_id: int, distortion: str, pinhole: list[float], coeffs: list[float]) -> None:
    """Refuses intrinsics no lens has (pycolmap reads any finite or infinite number)."""
    names = DISTORTION_COEFFS[distortion]
    values = dict(zip(("fx", "fy", "cx", "cy", *names), [*pinhole, *coeffs]))
    r = MappingReader(file, values, f"camera {camera_id}")
    for key in ("fx", "fy"):
        r.number(key, positive=True)
    for key in ("cx", "cy"):
        r.number(key)
    for key in names:
        r.number(key, limit=MAX_DISTORTION)
