"""`nerfgen train DATA --out RUN`: fit an Instant-NGP-style field to a dataset."""

from __future__ import annotations

from dataclasses import dataclass
from dataclasses import field as dc_field
from pathlib import Path
from typing import Annotated

import tyro

from nerfgen.fields.ngp import NGPFieldConfig
from nerfgen.render.volume import RenderConfig
from nerfgen.train.config import GridConfig, TrainConfig
from nerfgen.train.presets import PresetName


@dataclass
class TrainCommand:
    """Train a radiance field (hash grid + tiny MLPs) on a dataset; checkpoints go to --out."""

    data: tyro.conf.Positional[Path]
    """Dataset: a directory or transforms*.json that nerfgen reads (nerfstudio, Blender, COLMAP, LLFF,
    KITTI odometry or raw, `nerfgen capture` output)."""
    out: Path
    """Run directory: config.json and checkpoints/ are written here; it must be new or empty
    unless --resume continues the run in it or --overwrite replaces that run."""
    downscale: int = 1
    """Train on images downsampled by this integer factor."""
    frames: str | None = None
    """KITTI: the frame numbers to read, START:END[:STEP] like a Python slice (END excluded; "100:" is 100 on)
    or one number; default all."""
    cameras: str | None = None
    """KITTI: the cameras to read, e.g. "2,3"; default the colour cameras 2 and 3 that the data has (else 0 and 1)."""
    resume: bool = False
    """Continue from the newest checkpoint in --out instead of starting over."""
    overwrite: bool = False
    """Replace the run in --out (only a directory nerfgen wrote); it stays whole until the new run completes."""
    preset: PresetName = "object"
    """Set-up for the kind of scene (nerfgen.train.presets): "object" (the defaults, fastest),
    "room" (16 levels up to 2048 cells, finer steps: centimetre detail in a box metres wide,
    3x slower per step) or "street" (room's field plus depth supervision, for a 100 m box);
    explicit flags win."""
    aabb: tuple[float, float, float, float, float, float] | None = None
    """Scene box min x y z max x y z (metres); default: the dataset's scene_aabb or a guess from the cameras."""
    train: Annotated[TrainConfig, tyro.conf.OmitArgPrefixes] = dc_field(default_factory=TrainConfig)
    field: NGPFieldConfig = dc_field(default_factory=NGPFieldConfig)
    grid: GridConfig = dc_field(default_factory=GridConfig)
    render: RenderConfig = dc_field(default_factory=RenderConfig)


def run_train(cmd: tyro.conf.OmitArgPrefixes[TrainCommand]) -> None:
    """Train a radiance field (hash grid + tiny MLPs) on posed images."""
    from nerfgen.train import train_field
    from nerfgen.train.presets import preset

    configs = preset(cmd.preset, train=cmd.train, field=cmd.field, render=cmd.render)
    trained = train_field(
        cmd.data,
        cmd.out,
        downscale=cmd.downscale,
        grid=cmd.grid,
        aabb=cmd.aabb,
        resume=cmd.resume,
        overwrite=cmd.overwrite,
        **configs,
        data_options={"frames": cmd.frames, "cameras": cmd.cameras},
    )
    print(f"trained {trained.step} steps -> {trained.checkpoint}")
