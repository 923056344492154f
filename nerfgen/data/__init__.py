"""Datasets of posed images: nerfstudio/Blender transforms.json and COLMAP in, transforms.json out."""
from __future__ import annotations

from pathlib import Path

from nerfgen.data.colmap import find_colmap_model, load_colmap, read_colmap
from nerfgen.data.dataset import Dataset, holdout_split
from nerfgen.data.frames import FrameFiles, FrameIndex
from nerfgen.data.nerfstudio import load_transforms, read_transforms, write_transforms
from nerfgen.errors import NerfgenError


def load_dataset(path: str | Path, downscale: int = 1, background=(1.0, 1.0, 1.0)) -> Dataset:
    """Loads whatever dataset is at `path`: a transforms*.json file or a directory with
    transforms.json / transforms_{train,val,test}.json, else a COLMAP model (see load_colmap)."""
    path = Path(path)
    if not path.exists():
        raise NerfgenError(path, "does not exist")
    if path.is_file() or (path / "transforms.json").is_file() or any(path.glob("transforms_*.json")):
        return load_transforms(path, downscale, background)
    if find_colmap_model(path) is not None:
        return load_colmap(path, downscale, background)
    raise NerfgenError(
        path, "no dataset found: expected transforms.json, transforms_{train,val,test}.json or a COLMAP model"
    )


__all__ = [
    "Dataset",
    "FrameFiles",
    "FrameIndex",
    "holdout_split",
    "load_colmap",
    "load_dataset",
    "load_transforms",
    "read_colmap",
    "read_transforms",
    "write_transforms",
]
