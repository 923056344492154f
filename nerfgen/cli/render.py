"""`nerfgen render`: render a labelled raw dataset (see nerfgen.writers.raw) of a scene."""
from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

import tyro

DEFAULT_OUTPUTS = "rgb,depth,normals,masks,boxes"


@dataclass
class RenderConfig:
    """Render RGB, depth, normals, instance/class masks, 2D/3D boxes, poses and (optionally)
    dense correspondences of a scene along a camera trajectory into a raw dataset
    (`nerfgen export` turns it into KITTI / COCO / BOP / nerfstudio)."""

    scene: tyro.conf.Positional[Path]
    """Scene file: a ground-truth scene YAML (scenes/*.yaml), rendered exactly."""
    out: Path
    """Output directory (replaced atomically when every frame is written)."""
    trajectory: Literal["rig", "orbit", "drive"] = "rig"
    """Camera path. rig: the scene's default rig. orbit: a circle around the centre of the
    rig's orbit, at its radius and mid elevation. drive: along the rig's first line (e.g.
    a lane of the street), at its eye height, looking along the road."""
    frames: int = 20
    """Number of frames."""
    width: int = 160
    """Image width in pixels."""
    height: int = 120
    """Image height in pixels."""
    outputs: str = DEFAULT_OUTPUTS
    """Comma-separated subset of rgb,depth,normals,masks,boxes,correspondences
    (correspondences: dense, from each frame to the next)."""
    seed: int = 0
    """Seed jittering the trajectory; the same seed gives byte-identical files."""


def render(config: tyro.conf.OmitArgPrefixes[RenderConfig]) -> None:
    from nerfgen.errors import NerfgenError
    from nerfgen.labels import render_frames
    from nerfgen.writers.raw import raw_meta, write_raw_dataset

    for name in ("frames", "width", "height"):
        if getattr(config, name) < 1:
            raise NerfgenError(None, f"--{name} must be >= 1, got {getattr(config, name)}")
    outputs = [o.strip() for o in config.outputs.split(",") if o.strip()]
    renderer, cameras = _ground_truth(config)  # composed radiance-field scenes: a second branch here
    meta = raw_meta(renderer.instances(), len(cameras), outputs, str(config.scene), config.seed, _command(config))
    frames = render_frames(renderer, cameras, boxes="boxes" in outputs, correspondences="correspondences" in outputs)
    out = write_raw_dataset(config.out, frames, meta)
    print(f"wrote {len(cameras)} frames of {config.scene} to {out}")


def _ground_truth(config: RenderConfig):
    """GTRenderer and the cameras of `config.trajectory` (see RenderConfig)."""
    from nerfgen.gt import GTRenderer, load_scene, rig_cameras

    scene = load_scene(config.scene)
    if config.trajectory == "rig":
        return GTRenderer(scene), rig_cameras(scene.spec.rig, config.frames, config.width, config.height, config.seed)
    return GTRenderer(scene), _trajectory_cameras(config, scene.spec.rig)


def _trajectory_cameras(config: RenderConfig, rig):
    """Pinhole cameras (the rig's field of view) along an orbit or drive placed by the
    scene's rig segments; the seed picks the orbit's start and jitters the drive."""
    import numpy as np

    from nerfgen.cameras import Cameras, focal_from_fov
    from nerfgen.errors import NerfgenError
    from nerfgen.sensors.trajectories import drive, orbit

    kind = {"orbit": "orbit", "drive": "line"}[config.trajectory]
    segment = next((s for s in rig.segments if s.type == kind), None)
    if segment is None:
        raise NerfgenError(config.scene, f"the scene's rig has no {kind} segment for --trajectory {config.trajectory}")
    rng = np.random.default_rng(config.seed)
    if config.trajectory == "orbit":
        elevation = float(np.mean(segment.elevation_deg))
        c2w = orbit(segment.center, segment.radius, elevation, config.frames, rng.uniform(0.0, 360.0))
    else:
        start, end = np.asarray(segment.eye_from, np.float64), np.asarray(segment.eye_to, np.float64)
        step = np.linalg.norm(end[:2] - start[:2]) / max(config.frames - 1, 1)  # metres per frame
        path = np.stack([start[:2], end[:2]])
        c2w = drive(
            path, speed=step, fps=1.0, n=config.frames, height=start[2], jitter=segment.jitter, seed=config.seed
        )
    focal = focal_from_fov(np.radians(rig.fov_deg), config.width)
    return Cameras.create(c2w, focal, focal, config.width / 2, config.height / 2, config.width, config.height)


def _command(config: RenderConfig) -> list[str]:
    """The command line that reproduces this dataset (recorded in meta.json)."""
    args = ["nerfgen", "render", str(config.scene)]
    for f in fields(config):
        if f.name != "scene":
            args += [f"--{f.name}", str(getattr(config, f.name))]
    return args
