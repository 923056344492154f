"""The public Python API, what every `nerfgen` command calls (also as `nerfgen.<name>`).

    import nerfgen
    nerfgen.capture("scenes/street.yaml", "out/street", views=60)       # exact ground truth
    nerfgen.train_field("out/street", "runs/street")                     # a radiance field
    scene = nerfgen.load_scene("street_cars.yaml")                       # any scene file -> FrameRenderer
    nerfgen.render_dataset("street_cars.yaml", "out/raw", frames=20, lidar="vlp16")
    nerfgen.export_dataset("out/raw", "out/formats", "kitti,coco,bop")
    nerfgen.augment_street("runs/street", {"car": "runs/car"}, "out/augmented")

(The names differ from the subpackages nerfgen.render, nerfgen.train, nerfgen.augment.)

A scene file is either kind: a procedural ground-truth scene (`scenes/*.yaml`, rendered
exactly by ray casting) or a composed scene of trained runs and placed objects (rendered
through their fields, or `exact=True` through its ground-truth twin). Both render through
the one frame contract (nerfgen.render.frame), so everything downstream is the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal, Sequence

import numpy as np

from nerfgen.augment import augment as augment_street
from nerfgen.cameras import Cameras, focal_from_fov
from nerfgen.errors import NerfgenError
from nerfgen.labels import render_frames
from nerfgen.memory import check_render_fits
from nerfgen.output_dir import check_output
from nerfgen.procedural import GTRenderer, build_scene, capture, rig_cameras
from nerfgen.procedural.spec import Rig, SceneSpec
from nerfgen.render.frame import FrameRenderer
from nerfgen.scene import (
    ComposedSceneSpec,
    NeuralSceneRenderer,
    composed_gt_scene,
    default_rig,
    load_composed_scene,
)
from nerfgen.scene.parse import load_any_scene_spec as scene_spec
from nerfgen.sensors.frames import mounted_on_ground_ego
from nerfgen.sensors.lidar_specs import LidarChoice, chosen_lidar
from nerfgen.sensors.trajectories import drive, orbit
from nerfgen.train import load_trained, train_field
from nerfgen.writers.bop import models_from_gt_scene
from nerfgen.writers.export import check_formats, export_raw, write_raw_and_export
from nerfgen.writers.raw import raw_meta, read_raw_meta, write_raw_dataset

Trajectory = Literal["rig", "orbit", "drive"]

__all__ = [  # nerfgen re-exports these (nerfgen._API)
    "LoadedScene",
    "augment_street",
    "bop_models",
    "capture",
    "export_dataset",
    "load_scene",
    "load_trained",
    "render_dataset",
    "scene_spec",
    "train_field",
    "trajectory_cameras",
]


@dataclass
class LoadedScene:
    """A scene file ready to render."""

    renderer: FrameRenderer
    """Renders camera frames and LiDAR sweeps (nerfgen.render.frame)."""
    rig: Rig
    """The scene's default camera rig (orbits and drive lines that place trajectories)."""
    spec: SceneSpec | ComposedSceneSpec
    """The validated scene file."""


def load_scene(path: str | Path, exact: bool = False, supersample: int = 3) -> LoadedScene:
    """The renderer and rig of a scene file: ground-truth scenes (and composed ones with
    `exact`, through their twin) ray-cast exactly, composed scenes through their fields.
    `supersample`: RGB anti-aliasing (nerfgen.procedural.render, nerfgen.scene.renderer)."""
    spec = scene_spec(path)
    if isinstance(spec, SceneSpec):
        if exact:
            raise NerfgenError(path, "--exact applies to composed scenes; ground-truth scenes are always exact")
        return LoadedScene(GTRenderer(build_scene(spec), supersample), spec.rig, spec)
    rig = default_rig(spec)
    if rig is None:
        raise NerfgenError(path, "no camera rig: add 'rig:' or a 'gt' scene to the background or an object")
    if exact:
        return LoadedScene(GTRenderer(composed_gt_scene(spec), supersample), rig, spec)
    return LoadedScene(NeuralSceneRenderer(load_composed_scene(spec), supersample=supersample), rig, spec)


def trajectory_cameras(
    rig: Rig,
    trajectory: Trajectory,
    frames: int,
    width: int,
    height: int,
    seed: int = 0,
    where: str | Path | None = None,
) -> Cameras:
    """Cameras along the rig ("rig"), or pinhole cameras with the rig's field of view on an
    orbit or a drive placed by its first orbit / line segment; the seed jitters the rig,
    picks the orbit's start and jitters the drive. `where` names the scene in errors."""
    if trajectory == "rig":
        return rig_cameras(rig, frames, width, height, seed)
    kind = {"orbit": "orbit", "drive": "line"}[trajectory]
    segment = next((s for s in rig.segments if s.type == kind), None)
    if segment is None:
        raise NerfgenError(where, f"the scene's rig has no {kind} segment for --trajectory {trajectory}")
    rng = np.random.default_rng(seed)
    if trajectory == "orbit":
        elevation = float(np.mean(segment.elevation_deg))
        c2w = orbit(segment.center, segment.radius, elevation, frames, rng.uniform(0.0, 360.0))
    else:
        start, end = np.asarray(segment.eye_from, np.float64), np.asarray(segment.eye_to, np.float64)
        step = np.linalg.norm(end[:2] - start[:2]) / max(frames - 1, 1)  # metres per frame
        path = np.stack([start[:2], end[:2]])
        c2w = drive(path, speed=step, fps=1.0, n=frames, height=start[2], jitter=segment.jitter, seed=seed)
    focal = focal_from_fov(np.radians(rig.fov_deg), width)
    return Cameras.create(c2w, focal, focal, width / 2, height / 2, width, height)


def bop_models(scene: str | Path | None) -> dict:
    """BOP object models of a scene file: its meshes (a ground-truth scene, or a composed
    scene whose assets all name their ground-truth scenes: its exact twin); {} when the
    file is not at hand or a trained asset has no exact geometry."""
    if not scene or not Path(scene).is_file():
        return {}
    spec = scene_spec(scene)
    if isinstance(spec, SceneSpec):
        return models_from_gt_scene(build_scene(spec))
    assets = ([spec.background.asset] if spec.background is not None else []) + [o.asset for o in spec.objects]
    return models_from_gt_scene(composed_gt_scene(spec)) if all(a.gt is not None for a in assets) else {}


def render_dataset(
    scene: str | Path,
    out: str | Path,
    trajectory: Trajectory = "rig",
    frames: int = 20,
    width: int = 160,
    height: int = 120,
    outputs: Sequence[str] = ("rgb", "depth", "normals", "masks", "boxes"),
    seed: int = 0,
    exact: bool = False,
    supersample: int = 3,
    lidar: LidarChoice = "none",
    lidar_mount: tuple[float, float, float, float, float, float] | None = None,
    lidar_azimuth_deg: float | None = None,
    formats: str = "",
    resume: bool = False,
    overwrite: bool = False,
    command: Sequence[str] = (),
) -> Path:
    """Renders a labelled raw dataset of `scene` along a camera path into `out`
    (nerfgen.writers.raw), with a LiDAR sweep per frame when `lidar` names a preset, and
    with `formats` (e.g. "kitti,coco") as out/raw plus out/<format>. Everything is checked
    before the first frame renders; `out` follows nerfgen.output_dir's policy. `command`
    is recorded in the metadata."""
    check_render_fits("--frames", frames, width, height, supersample)
    format_list = check_formats(formats, list(outputs)) if formats else []
    check_output(out, [scene], overwrite)
    models = bop_models(scene) if "bop" in format_list else {}
    sensor = chosen_lidar(lidar, lidar_mount, lidar_azimuth_deg)
    loaded = load_scene(scene, exact, supersample)
    cameras = trajectory_cameras(loaded.rig, trajectory, frames, width, height, seed, scene)
    meta = raw_meta(loaded.renderer.instances(), len(cameras), outputs, str(scene), seed, command, sensor)
    lidar_poses = None if sensor is None else mounted_on_ground_ego(cameras.c2w.double().numpy(), sensor.sensor_to_ego)

    def rendered(first: int):
        return render_frames(
            loaded.renderer,
            cameras,
            boxes="boxes" in outputs,
            correspondences="correspondences" in outputs,
            lidar=sensor,
            lidar_poses=lidar_poses,
            first=first,
        )

    if format_list:
        return write_raw_and_export(
            out, rendered, meta, format_list, resume=resume, overwrite=overwrite, bop_models=models
        )
    return write_raw_dataset(out, rendered, meta, resume=resume, overwrite=overwrite)


def export_dataset(
    raw: str | Path,
    out: str | Path,
    formats: str = "kitti,coco,bop,nerfstudio",
    resume: bool = False,
    bop_depth_scale: float = 1.0,
    overwrite: bool = False,
) -> Path:
    """Writes the raw dataset `raw` as each of `formats` under out/<format>; BOP's object
    models come from the scene file the raw dataset names (bop_models)."""
    format_list = check_formats(formats, None)
    models = {}
    if "bop" in format_list and Path(raw).is_dir():
        models = bop_models(read_raw_meta(raw).get("scene"))
    return export_raw(raw, out, format_list, resume, bop_depth_scale, overwrite=overwrite, bop_models=models)
