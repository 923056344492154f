"""`nerfgen export`: turn a raw dataset (`nerfgen render`) into KITTI, COCO, BOP and nerfstudio datasets."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass
class ExportConfig:
    """Write a raw dataset (from `nerfgen render`) in training formats, one directory per
    format under OUT: OUT/kitti, OUT/coco, OUT/bop, OUT/nerfstudio, each with a manifest.json."""

    raw: tyro.conf.Positional[Path]
    """Raw dataset directory written by `nerfgen render`."""
    out: Path
    """Output directory: new or empty; appears only when every format is complete."""
    format: str = "kitti,coco,bop,nerfstudio"
    """Comma-separated formats: kitti, coco, bop, nerfstudio."""
    resume: bool = False
    """Continue an interrupted export (one also run with --resume): keep the files it finished,
    write the rest; the result is byte-identical to an uninterrupted export."""
    bop_depth_scale: float = 1.0
    """Millimetres per unit of BOP's 16-bit depth PNGs (1.0: 1 mm steps up to 65.535 m; 0 = invalid)."""
    overwrite: bool = False
    """Replace OUT when it is an existing non-empty directory that nerfgen wrote (one holding
    a .nerfgen-output marker); other non-empty directories are never replaced."""


def export(config: tyro.conf.OmitArgPrefixes[ExportConfig]) -> None:
    """Write a raw rendered dataset as KITTI, COCO, BOP or nerfstudio."""
    from nerfgen.api import export_dataset
    from nerfgen.errors import NerfgenError

    if not 0 < config.bop_depth_scale < 1e6:  # NaN and inf fail too
        raise NerfgenError(
            None, f"--bop-depth-scale must be a positive number of millimetres, got {config.bop_depth_scale}"
        )
    out = export_dataset(config.raw, config.out, config.format, config.resume, config.bop_depth_scale, config.overwrite)
    print(f"wrote {config.format} of {config.raw} to {out}")
