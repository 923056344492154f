"""`nerfgen render`: render a labelled raw dataset (see nerfgen.writers.raw) of a scene,
optionally with a LiDAR sweep per frame and exported to training formats.

The LiDAR rides a level vehicle under each camera (nerfgen.sensors.frames.ground_ego_poses):
ego origin on the ground plane z = 0 below the camera centre, x the camera's heading, z up;
`--lidar-mount` places the sensor on it (default KITTI's: 1.73 m above the ground).

OUT appears only when complete (written in the hidden sibling .OUT.partial, under the
output policy of nerfgen.output_dir). A render
that fails leaves nothing, unless it ran with --resume: then the same command with
--resume keeps the frames it finished, renders the rest and ends with the same bytes as
an uninterrupted render (nerfgen.writers.raw; the formats resume as `nerfgen export
--resume` does).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from pathlib import Path
from typing import Literal

import tyro

from nerfgen.sensors.lidar_specs import LidarChoice

DEFAULT_OUTPUTS = "rgb,depth,normals,masks,boxes"


@dataclass
class RenderConfig:
    """Render RGB, depth, normals, instance/class masks, 2D/3D boxes, poses and (optionally)
    dense correspondences of a scene along a camera trajectory into a raw dataset
    (`nerfgen export` turns it into KITTI / COCO / BOP / nerfstudio, or pass --format)."""

    scene: tyro.conf.Positional[Path]
    """Scene file: a ground-truth scene YAML (scenes/*.yaml), rendered exactly by ray casting;
    or a composed scene (background:/objects: of trained runs, see nerfgen.scene.spec),
    rendered through its radiance fields."""
    out: Path
    """Output directory, new or empty (appears when every frame is written): the raw dataset,
    or with --format, OUT/raw plus OUT/<format> for each format."""
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
    exact: bool = False
    """Composed scenes only: ray cast their exact twin (the assets' ground-truth `gt` scenes at
    the same poses) instead of rendering the fields."""
    supersample: int = 3
    """RGB anti-aliasing with supersample x supersample rays per pixel where one ray aliases:
    in ray-cast scenes (ground-truth ones, composed ones with --exact) every pixel an edge or
    texture boundary crosses (nerfgen.procedural.render), in composed scenes' field renders the
    silhouettes (nerfgen.scene.renderer). 1 casts one ray through each pixel centre, as the
    labels always are."""
    lidar: LidarChoice = "none"
    """A LiDAR sweep per frame (Velodyne preset, nerfgen.sensors.lidar_specs) rendered by the same
    renderer: raw lidar/*.npz (LiDAR frame) and pointcloud/*.ply (world), KITTI velodyne/*.bin."""
    lidar_mount: tuple[float, float, float, float, float, float] | None = None
    """LiDAR pose on the ego frame (module docstring): x y z metres, roll pitch yaw degrees
    (default: the preset's, KITTI's 0 0 1.73 0 0 0)."""
    lidar_azimuth_deg: float | None = None
    """Degrees between firings instead of the preset's (e.g. 1.0 for a quick, sparse sweep)."""
    format: str = ""
    """Also export, e.g. kitti,coco,bop,nerfstudio: the raw dataset goes to OUT/raw, each format to OUT/<format>."""
    resume: bool = False
    """Continue an interrupted render (one also run with --resume, same options and scene file):
    keep the frames it finished, render the rest; the result is byte-identical to an uninterrupted render."""
    overwrite: bool = False
    """Replace OUT when it is an existing non-empty directory that nerfgen wrote (one holding
    a .nerfgen-output marker); other non-empty directories are never replaced."""


def render(config: tyro.conf.OmitArgPrefixes[RenderConfig]) -> None:
    """Render a labelled dataset (camera, LiDAR) of a scene or composed scene file."""
    from nerfgen.api import render_dataset
    from nerfgen.errors import require_at_least, require_at_least_one

    require_at_least_one(config, ("frames", "width", "height", "supersample"))
    require_at_least(config, ("seed",), 0)
    outputs = [o.strip() for o in config.outputs.split(",") if o.strip()]
    out = render_dataset(
        config.scene,
        config.out,
        config.trajectory,
        config.frames,
        config.width,
        config.height,
        outputs,
        config.seed,
        config.exact,
        config.supersample,
        config.lidar,
        config.lidar_mount,
        config.lidar_azimuth_deg,
        config.format,
        config.resume,
        config.overwrite,
        _command(config),
    )
    print(f"wrote {config.frames} frames of {config.scene} to {out}")


def _command(config: RenderConfig) -> list[str]:
    """The command line that reproduces this dataset (recorded in meta.json); --resume and
    --overwrite are left out since they do not change the bytes."""
    args = ["nerfgen", "render", str(config.scene)]
    for f in fields(config):
        name, value = f.name.replace("_", "-"), getattr(config, f.name)
        if f.name in ("scene", "resume", "overwrite") or value is None:
            continue
        if isinstance(value, bool):  # tyro flags
            args.append(f"--{name}" if value else f"--no-{name}")
        else:
            args += [f"--{name}", *(map(str, value) if isinstance(value, tuple) else [str(value)])]
    return args
