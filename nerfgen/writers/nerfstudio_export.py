"""nerfstudio layout: transforms.json + images, so `nerfgen train` (and nerfstudio) can train on renders.

    images/000000.png     RGB
    depth/000000.npy      float32 [H,W] depth_z metres, 0 = no surface (`depth_file_path`)
    masks/000000.png      uint8, 255 where a surface was hit (opacity >= 0.5) (`mask_path`)
    transforms.json       nerfgen.data.write_transforms: full intrinsics per frame, OpenGL poses
    manifest.json

The top-level `depth_unit_scale_factor` is 1.0 (the .npy files are metres): nerfgen's
loader reads it from the file; nerfstudio takes it from its data-parser config, so pass
`--pipeline.datamanager.dataparser.depth-unit-scale-factor 1.0` there (its default 1e-3
assumes millimetres). Masks mark pixels to train on, so training ignores the
background; delete the `mask_path` keys to train on every pixel. Splits become
nerfstudio's `{train,val,test}_filenames` when the dataset has splits.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nerfgen.data import write_transforms
from nerfgen.errors import NerfgenError
from nerfgen.labels.frames import cameras_of
from nerfgen.labels.types import FrameLabels
from nerfgen.render.frame import FrameMaps, LidarScan
from nerfgen.writers.depth_io import float_map_npy
from nerfgen.writers.encode import png_bytes, rgb_u8
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.manifest import MANIFEST_NAME, manifest_bytes
from nerfgen.writers.sink import FileSink

SURFACE_OPACITY = 0.5  # mask threshold on the rendered opacity
NERFSTUDIO_SPLITS = ("train", "val", "test")


class NerfstudioWriter:
    """Writes frames in the nerfstudio layout (module doc) under `out_root`."""

    def __init__(self, out_root: str | Path, info: DatasetInfo, resume: bool = False):
        self.sink = FileSink(out_root, resume)
        self.info = info
        self.frames: dict[int, FrameLabels] = {}

    def write_frame(
        self,
        maps: FrameMaps,
        labels: FrameLabels,
        lidar: LidarScan | None = None,  # unused: transforms.json has no point clouds
        alone_masks: dict[int, np.ndarray] | None = None,  # unused
    ) -> None:
        name = f"{labels.index:06d}"
        self.sink.frame_file(f"images/{name}.png", lambda: png_bytes(rgb_u8(maps.rgb)))
        self.sink.frame_file(f"depth/{name}.npy", lambda: float_map_npy(maps.depth_z))
        mask = np.where(maps.opacity >= SURFACE_OPACITY, 255, 0).astype(np.uint8)
        self.sink.frame_file(f"masks/{name}.png", lambda: png_bytes(mask))
        self.frames[labels.index] = labels

    def finish(self) -> Path:

        order = sorted(self.frames)
        frames = [self.frames[i] for i in order]
        models = {f.distortion for f in frames}
        if len(models) > 1:
            raise NerfgenError(
                self.sink.root, f"transforms.json needs one distortion model, frames have {sorted(models)}"
            )
        cameras = cameras_of(frames, self.sink.root)
        extras: dict = {"depth_unit_scale_factor": 1.0}
        if self.info.splits is not None:
            for split, indices in self.info.resolved_splits(order).items():
                if split in NERFSTUDIO_SPLITS:
                    extras[f"{split}_filenames"] = [f"images/{i:06d}.png" for i in indices]
        write_transforms(
            self.sink.root,
            cameras,
            [f"images/{i:06d}.png" for i in order],
            frame_extras=[{"depth_file_path": f"depth/{i:06d}.npy", "mask_path": f"masks/{i:06d}.png"} for i in order],
            extras=extras,
        )
        self.sink.dataset_file(MANIFEST_NAME, manifest_bytes(self.sink.root, self.info.seed, list(self.info.command)))
        return self.sink.root
