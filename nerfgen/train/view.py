"""Orbit renders of a trained field: PNG frames and an animated GIF."""

from __future__ import annotations

import io
from pathlib import Path

import imageio.v3 as iio
import numpy as np
import torch

from nerfgen.cameras import Cameras
from nerfgen.errors import NerfgenError
from nerfgen.output_dir import output_dir
from nerfgen.render.image import render_image
from nerfgen.render.orbit import orbit_cameras
from nerfgen.train.run import TrainedField


def render_orbit(
    trained: TrainedField,
    reference: Cameras,
    n_views: int,
    out: Path,
    background=(1.0, 1.0, 1.0),
    overwrite: bool = False,
) -> Path:
    """Writes out/frame_NNNN.png and out/orbit.gif (all or nothing; `overwrite` replaces
    only an earlier nerfgen output, never the run itself); returns the GIF path."""
    if n_views < 1:
        raise NerfgenError(None, f"--orbit must be >= 1, got {n_views}")
    aabb = trained.grid.aabb
    cameras = orbit_cameras(reference, (aabb[:3] + aabb[3:]) * 0.5, n_views)
    frames = []
    with output_dir(out, "view", inputs=(trained.checkpoint,), overwrite=overwrite) as tmp:
        for k in range(n_views):
            rgb = render_image(trained.field, trained.grid, cameras, k, trained.config.render, background).rgb
            frame = (rgb.clamp(0, 1) * 255).round().to(torch.uint8).numpy()
            iio.imwrite(tmp / f"frame_{k:04d}.png", frame)
            frames.append(frame)
        buf = io.BytesIO()
        iio.imwrite(buf, np.stack(frames), extension=".gif", duration=80, loop=0)
        (tmp / "orbit.gif").write_bytes(buf.getvalue())
    return Path(out) / "orbit.gif"
