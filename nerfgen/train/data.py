"""Training data as flat ray tables, the held-out split, and a capture's background colour."""

from __future__ import annotations

import json
from dataclasses import dataclass

import torch
from torch import Tensor

from nerfgen.cameras import depth_z_to_range, generate_rays
from nerfgen.data import Dataset, holdout_split
from nerfgen.errors import NerfgenError


def split_indices(dataset: Dataset, split: str, holdout_every: int) -> Tensor:  # -> [n] int64 frame indices
    """Frames of `split`. Without a "test" split (e.g. Blender's train-only lego) every
    `holdout_every`-th frame is "test" and the rest "train" (mip-NeRF 360 rule)."""
    splits = dataset.splits if "test" in dataset.splits else holdout_split(len(dataset), holdout_every)
    if split not in splits:
        raise NerfgenError(dataset.root, f"no split {split!r} (available: {sorted(splits)})")
    idx = splits[split]
    if idx.numel() == 0:
        raise NerfgenError(dataset.root, f"split {split!r} has no frames")
    return idx


def capture_background(dataset: Dataset) -> tuple[float, float, float] | None:
    """The constant colour of missed rays in a `nerfgen capture` dataset (from its gt.json),
    or None for other datasets."""
    name = dataset.metadata.get("gt_file")
    if dataset.alphas is not None or not isinstance(name, str):
        return None
    path = dataset.root / name
    try:
        background = json.loads(path.read_text())["background"]
        return (float(background[0]), float(background[1]), float(background[2]))
    except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
        raise NerfgenError(path, f"cannot read the background colour ({type(e).__name__}: {e})") from None


@dataclass
class RayTable:
    """Every pixel of some frames as a ray with its target, flat and ready to index."""

    origins: Tensor  # [P,3] world
    directions: Tensor  # [P,3] unit
    rgb: Tensor  # [P,3] colour premultiplied by alpha (i.e. composited over black)
    alpha: Tensor | None  # [P] or None when the images have no alpha
    range: Tensor | None  # [P] surface distance along the ray from the depth maps, 0 = unknown; None without depth

    def __len__(self) -> int:
        return self.origins.shape[0]


def ray_table(dataset: Dataset, frames: Tensor) -> RayTable:  # frames [n] int64
    origins, directions, ranges = [], [], []
    for i in frames.tolist():
        rays = generate_rays(dataset.cameras, i)
        origins.append(rays.origins)
        directions.append(rays.directions)
        if dataset.depths_z is not None:
            depth_z = dataset.depths_z[i].reshape(-1)
            known = (depth_z > 0) & (rays.z_cam > 1e-6)  # rays at or beyond 90 degrees have no depth_z
            ranges.append(torch.where(known, depth_z_to_range(depth_z, rays.z_cam.clamp_min(1e-6)), 0.0))
    images = dataset.images[frames].reshape(-1, 3)
    alpha = None
    if dataset.alphas is not None:
        alpha = dataset.alphas[frames].reshape(-1)
        bg = torch.tensor(dataset.background, dtype=images.dtype)
        images = images - (1.0 - alpha)[:, None] * bg  # undo the loader's compositing
    range_ = torch.cat(ranges) if ranges else None
    return RayTable(torch.cat(origins), torch.cat(directions), images.clamp(0.0, 1.0).contiguous(), alpha, range_)
