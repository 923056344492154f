"""`Dataset`: posed images with optional alpha, depth and masks, and named splits."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

import torch
from torch import Tensor

from nerfgen.cameras import Cameras
from nerfgen.data.lidar import LidarScans
from nerfgen.errors import NerfgenError


@dataclass
class Dataset:
    """C posed frames, all of one size H x W, cameras in OpenCV axes (see nerfgen.cameras).

    `images` are RGB composited over `background` where the source had alpha.
    `cameras` match the stored images (already rescaled when loaded with a downscale).
    """

    root: Path
    cameras: Cameras  # C cameras
    image_paths: list[Path]  # C source image files
    images: Tensor  # [C,H,W,3] float32 in [0,1]
    alphas: Tensor | None = None  # [C,H,W] float32, None when no source image had alpha
    depths_z: Tensor | None = None  # [C,H,W] float32 metres along the optical axis, 0 = invalid
    masks: Tensor | None = None  # [C,H,W] bool, True = use this pixel
    splits: dict[str, Tensor] = field(default_factory=dict)  # name -> frame indices [n] int64
    background: tuple[float, float, float] = (1.0, 1.0, 1.0)
    # Extra top-level keys of the source file; tensor values are per image ([C,...]:
    # LLFF "bounds", KITTI "frame_ids" / "camera_ids") and `subset` picks them.
    metadata: dict = field(default_factory=dict)
    # LiDAR scans recorded with the images (KITTI), in the world frame; scans belong to
    # capture times rather than images, so `subset` keeps all of them.
    lidar: LidarScans | None = None

    def __len__(self) -> int:
        return len(self.image_paths)

    def subset(self, split: str) -> Dataset:
        """The frames of one split, in split order; its `splits` is {split: all frames}."""
        if split not in self.splits:
            raise NerfgenError(self.root, f"no split {split!r} (available: {sorted(self.splits)})")
        return self.take(self.splits[split], split)

    def take(self, idx: Tensor, split: str) -> Dataset:  # idx [n] int64 frame indices
        """Frames `idx` in that order, as one split named `split` (LiDAR scans stay whole)."""

        def pick(t: Tensor | None) -> Tensor | None:
            return None if t is None else t[idx]

        return replace(
            self,
            cameras=self.cameras[idx],
            image_paths=[self.image_paths[i] for i in idx.tolist()],
            images=self.images[idx],
            alphas=pick(self.alphas),
            depths_z=pick(self.depths_z),
            masks=pick(self.masks),
            splits={split: torch.arange(len(idx), dtype=torch.int64)},
            metadata={k: v[idx] if isinstance(v, Tensor) else v for k, v in self.metadata.items()},
        )


def holdout_split(n_frames: int, every: int = 8) -> dict[str, Tensor]:
    """Every `every`-th frame (0, every, 2*every, ...) is "test", the rest "train" (LLFF/mip-NeRF 360 rule)."""
    if every < 1:
        raise NerfgenError(None, f"holdout_every must be >= 1, got {every}")
    idx = torch.arange(n_frames, dtype=torch.int64)
    is_test = idx % every == 0
    return {"train": idx[~is_test], "test": idx[is_test]}
