"""Datasets of posed images: nerfstudio/Blender transforms.json, COLMAP, LLFF, KITTI
odometry and KITTI raw in; transforms.json out."""

from __future__ import annotations

from pathlib import Path

from nerfgen.data.colmap import find_colmap_model, load_colmap, read_colmap
from nerfgen.data.dataset import Dataset, holdout_split
from nerfgen.data.frames import FrameFiles, FrameIndex
from nerfgen.data.kitti_odometry import is_kitti_odometry, load_kitti_odometry
from nerfgen.data.kitti_raw import is_kitti_raw, load_kitti_raw
from nerfgen.data.lidar import LidarScans
from nerfgen.data.llff import POSES_BOUNDS, load_llff
from nerfgen.data.nerfstudio import load_transforms, read_transforms, write_transforms
from nerfgen.errors import NerfgenError

# The format-specific options of load_dataset each format takes.
_OPTIONS = {
    "transforms": (),
    "LLFF": (),
    "colmap": (),
    "KITTI odometry": ("frames", "cameras", "sequence"),
    "KITTI raw": ("frames", "cameras"),
}


def load_dataset(
    path: str | Path,
    downscale: int = 1,
    background=(1.0, 1.0, 1.0),
    *,
    frames: str | None = None,
    cameras: str | None = None,
    sequence: str | None = None,
    holdout_every: int = 8,
) -> Dataset:
    """Loads whatever dataset is at `path` (see `dataset_format` for how it is recognised).

    `frames` and `cameras` select KITTI frames and cameras (nerfgen.data.kitti),
    `sequence` a KITTI odometry sequence. `holdout_every` k makes every k-th LLFF image
    and every k-th KITTI frame "test"; nerfstudio and COLMAP data keep their own splits
    (nerfgen.train.data.split_indices holds out every k-th frame of data without a test split).
    """
    path = Path(path)
    kind = dataset_format(path)
    given = {"frames": frames, "cameras": cameras, "sequence": sequence}
    for option, value in given.items():
        if value is not None and option not in _OPTIONS[kind]:
            raise NerfgenError(path, f"option {option}={value!r} does not apply to {kind} data")
    options = {k: v for k, v in given.items() if k in _OPTIONS[kind]}
    if kind == "transforms":
        return load_transforms(path, downscale, background)
    if kind == "colmap":
        return load_colmap(path, downscale, background)
    reader = {"LLFF": load_llff, "KITTI odometry": load_kitti_odometry, "KITTI raw": load_kitti_raw}[kind]
    return reader(path, downscale, background, **options, holdout_every=holdout_every)


def dataset_format(path: Path) -> str:
    """The first that matches: "transforms" (a transforms*.json file, or a directory with
    transforms.json / transforms_{train,val,test}.json); "LLFF" (poses_bounds.npy, tried
    before COLMAP since LLFF folders often keep their sparse/ model); "colmap" (see
    load_colmap); "KITTI odometry" (sequences/ + poses/, or sequences/SEQ); "KITTI raw"
    (a drive folder with oxts/, or a date folder holding drives)."""
    if not path.exists():
        raise NerfgenError(path, "does not exist")
    if path.is_file() or (path / "transforms.json").is_file() or any(path.glob("transforms_*.json")):
        return "transforms"
    if (path / POSES_BOUNDS).is_file():
        return "LLFF"
    if find_colmap_model(path) is not None:
        return "colmap"
    if is_kitti_odometry(path):
        return "KITTI odometry"
    if is_kitti_raw(path):
        return "KITTI raw"
    raise NerfgenError(
        path,
        "no dataset found: expected transforms.json, transforms_{train,val,test}.json, LLFF poses_bounds.npy, "
        "a COLMAP model, KITTI odometry sequences/ + poses/ or a KITTI raw drive",
    )


__all__ = [
    "Dataset",
    "FrameFiles",
    "FrameIndex",
    "LidarScans",
    "dataset_format",
    "holdout_split",
    "load_colmap",
    "load_dataset",
    "load_kitti_odometry",
    "load_kitti_raw",
    "load_llff",
    "load_transforms",
    "read_colmap",
    "read_transforms",
    "write_transforms",
]
