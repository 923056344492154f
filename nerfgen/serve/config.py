"""`ServeConfig`: the options of `nerfgen serve` (nerfgen.cli.serve exposes them through tyro)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import tyro


@dataclass
class ServeConfig:
    """Serve a scene's cameras, labels and LiDAR over HTTP for closed-loop simulation."""

    scene: tyro.conf.Positional[Path]
    """Scene file, any that `nerfgen render` takes: a ground-truth scene YAML (ray cast), or
    a composed scene (its radiance fields; with --exact its ground-truth twin)."""
    host: str = "127.0.0.1"
    """Address to listen on. Any address but loopback (127.0.0.0/8, ::1, localhost)
    requires --token."""
    port: int = 8000
    """TCP port; 0 lets the system pick a free one (the startup line prints it)."""
    token: str | None = None
    """Bearer token: when given, every request must send `Authorization: Bearer TOKEN`
    (401 otherwise), on any address."""
    camera: tyro.conf.UseAppendAction[tuple[str, ...]] = ()
    """A named pinhole camera NAME=WxH[@HFOV] (horizontal field of view in degrees, default
    the scene rig's, else 70), e.g. --camera front=160x120@70 --camera wide=320x120@120.
    Default: one camera `front` of 160x120 pixels."""
    exact: bool = False
    """Composed scenes only: ray cast their exact twin (the assets' ground-truth scenes)
    instead of rendering the fields, as `nerfgen render --exact`."""
    supersample: int = 3
    """RGB anti-aliasing rays per pixel side on edges, as `nerfgen render --supersample`
    (the same value gives the same image bytes)."""
    queue: int = 8
    """Requests that may wait for the one render worker besides the one it renders; more
    are refused with 429 at once."""
    max_rays: int = 1 << 22
    """Most rays one request may cast (image pixels per camera, or LiDAR beams); larger
    requests are refused with 422."""
