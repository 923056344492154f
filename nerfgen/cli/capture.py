"""`nerfgen capture`: render a bundled procedural scene into a labelled nerfstudio dataset."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass
class CaptureConfig:
    """Render a procedural scene (scenes/*.yaml) with exact ground truth: RGB, depth_z,
    range, normals, instance and class masks, 3D boxes (gt.json), transforms.json."""

    scene: tyro.conf.Positional[Path]
    """Scene YAML file, e.g. scenes/street.yaml."""
    out: Path
    """Output directory: new or empty (appears when the capture completes)."""
    views: int = 100
    """Number of views along the scene's default camera rig."""
    width: int = 200
    """Image width in pixels."""
    height: int = 150
    """Image height in pixels."""
    seed: int = 0
    """Seed jittering the rig; the same seed gives byte-identical files."""
    supersample: int = 3
    """RGB anti-aliasing: the mean of supersample x supersample rays per pixel (1: one
    ray through the pixel centre, which aliases fine textures). Labels always come from
    the pixel centre."""
    overwrite: bool = False
    """Replace OUT when it is an existing non-empty directory that nerfgen wrote (one holding
    a .nerfgen-output marker); other non-empty directories are never replaced."""


def capture(config: tyro.conf.OmitArgPrefixes[CaptureConfig]) -> None:
    """Capture a bundled scene with exact ground truth into a nerfstudio dataset."""
    from nerfgen.errors import require_at_least, require_at_least_one
    from nerfgen.memory import check_render_fits
    from nerfgen.procedural import capture as capture_scene
    from nerfgen.procedural.capture import RENDER_THREADS, VIEWS_PER_BATCH

    require_at_least_one(config, ("views", "width", "height", "supersample"))
    require_at_least(config, ("seed",), 0)
    in_flight = min(config.views, RENDER_THREADS * VIEWS_PER_BATCH)
    check_render_fits("--views", config.views, config.width, config.height, config.supersample, in_flight)
    out = capture_scene(
        config.scene,
        config.out,
        config.views,
        config.width,
        config.height,
        config.seed,
        supersample=config.supersample,
        overwrite=config.overwrite,
    )
    print(f"wrote {config.views} views of {config.scene} to {out}")
