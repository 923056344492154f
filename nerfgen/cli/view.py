"""`nerfgen view RUN --orbit N --out DIR`: an orbit of a trained field as PNGs and a GIF."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass
class ViewCommand:
    """Render an orbit around the scene box centre, at the training cameras' mean distance and elevation."""

    run: tyro.conf.Positional[Path]
    """Run directory written by `nerfgen train`."""
    out: Path
    """Output directory for frame_NNNN.png and orbit.gif."""
    orbit: int = 36
    """Number of views around the orbit."""
    threads: int = 1
    """CPU threads for torch ops (see `nerfgen train --help`)."""
    data: Path | None = None
    """Dataset whose cameras set distance, elevation and intrinsics; default: the training data."""
    overwrite: bool = False
    """Replace --out if an earlier nerfgen command wrote it (other non-empty directories are refused)."""


def run_view(cmd: tyro.conf.OmitArgPrefixes[ViewCommand]) -> None:
    """Render an orbit of a trained run as PNGs and an animated GIF."""
    import torch

    from nerfgen.data import load_dataset
    from nerfgen.errors import require_at_least_one
    from nerfgen.memory import check_orbit_fits
    from nerfgen.train import load_trained
    from nerfgen.train.view import render_orbit

    require_at_least_one(cmd, ("orbit", "threads"))
    torch.set_num_threads(cmd.threads)
    trained = load_trained(cmd.run)
    data = cmd.data if cmd.data is not None else Path(trained.config.data)
    dataset = load_dataset(data, downscale=trained.config.downscale)
    check_orbit_fits(cmd.orbit, int(dataset.cameras.width.max()), int(dataset.cameras.height.max()))
    background = trained.config.train.eval_background
    gif = render_orbit(trained, dataset.cameras, cmd.orbit, cmd.out, background=background, overwrite=cmd.overwrite)
    print(f"wrote {cmd.orbit} views and {gif}")
