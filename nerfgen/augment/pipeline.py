"""`augment`: place objects into a reconstructed street and render a labelled dataset
along a drive. The steps, each a public function of its own module:

    background probe (probe.py) -> road + drive cameras (road.py) -> placement
    (placement.py) -> composed scene file (scene_file.py) -> FrameRenderer (nerfgen.scene)
    -> render_frames (nerfgen.labels) -> raw dataset + formats (nerfgen.writers) -> preview

Output layout (appears only when complete, see nerfgen.output_dir):

    OUT/scene.yaml        the composed scene rendered (absolute asset paths)
    OUT/placement.json    placements, road plane, drive path, seed (+ ground error vs ground truth)
    OUT/raw/              raw dataset (nerfgen.writers.raw), with correspondences and LiDAR sweeps when asked
    OUT/<format>/         each requested format (nerfgen.writers.export), with manifest.json
    OUT/preview.png       contact sheet: RGB with 2D/3D boxes, depth, normals
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from functools import cache
from pathlib import Path
from typing import Mapping

import numpy as np
import yaml

from nerfgen.augment.config import AugmentConfig
from nerfgen.augment.ground import ground_heights
from nerfgen.augment.placement import Ground, ObjectKind, Placement, place_objects
from nerfgen.augment.preview import contact_sheet
from nerfgen.augment.probe import BackgroundProbe, FieldProbe, MeshProbe
from nerfgen.augment.road import Road, parse_path, road_from_cameras, road_from_rig
from nerfgen.augment.scene_file import asset_doc, composed_doc, hole_around
from nerfgen.data import load_dataset
from nerfgen.errors import NerfgenError, require_at_least, require_at_least_one
from nerfgen.labels import render_frames
from nerfgen.memory import check_render_fits
from nerfgen.output_dir import check_output, output_dir
from nerfgen.procedural import GTRenderer
from nerfgen.procedural.build import load_scene
from nerfgen.scene import (
    ComposedSceneSpec,
    NeuralSceneRenderer,
    composed_gt_scene,
    default_rig,
    load_composed_scene,
    load_trained_asset,
    occupied_bounds,
)
from nerfgen.scene.load import AssetLoader, asset_gt_box
from nerfgen.scene.parse import parse_composed_scene
from nerfgen.scene.placement import axis_aligned_box
from nerfgen.sensors.frames import mounted_on_ground_ego
from nerfgen.sensors.lidar_specs import chosen_lidar
from nerfgen.train import load_trained
from nerfgen.writers.encode import json_bytes
from nerfgen.writers.export import export_beside_raw, parse_formats
from nerfgen.writers.raw import raw_meta, write_raw_frames

SCENE_NAME = "scene.yaml"
RAW_OUTPUTS = ("rgb", "depth", "normals", "masks", "boxes")  # everything KITTI, COCO, BOP, nerfstudio read


@dataclass
class AugmentResult:
    out: Path
    placements: list[Placement]
    ground: Ground
    ground_error_gt: (
        list[float] | None
    )  # m, snapped height - exact ground height per object, when ground truth is known
    seconds: dict[
        str, float
    ]  # wall time of each stage: load, place, render (frames + labels + LiDAR + raw), export, preview


def augment(
    background: str | Path,
    objects: Mapping[str, str | Path],
    out: str | Path,
    config: AugmentConfig = AugmentConfig(),
    gt: Mapping[str, str | Path] | None = None,
    load_asset: AssetLoader = load_trained_asset,
    command: tuple[str, ...] = (),
    overwrite: bool = False,
) -> AugmentResult:
    """Places `config.placement.n_objects` objects into `background` and renders the dataset.

    background: a trained run directory or a ground-truth scene YAML. objects: class name ->
    trained run or ground-truth scene YAML (e.g. {"car": "runs/car"}). gt: ground-truth
    scene of trained assets, keyed "background" or by class (exact boxes, removable
    instances, the exact twin and the ground error). `command` is recorded in the raw meta.
    Nothing is written unless everything succeeds; an existing non-empty `out` is replaced
    only with `overwrite` and only when nerfgen wrote it (nerfgen.output_dir).
    """
    clock = _Stopwatch()
    out = Path(out)
    require_at_least_one(config, ("frames", "width", "height", "supersample", "preview_rows"))
    require_at_least(config, ("seed",), 0)
    check_render_fits("--frames", config.frames, config.width, config.height, config.supersample)
    inputs = (background, *objects.values(), *(gt or {}).values())
    check_output(out, inputs, overwrite)
    formats = parse_formats(config.format)
    load_asset = cache(load_asset)  # the background and each object are loaded once for placement and rendering
    base = _asset_spec(out / SCENE_NAME, background, objects, gt or {})
    exact = config.exact or all(a.is_gt for a in [base.background.asset, *(o.asset for o in base.objects)])
    holes = [hole_around(b) for b in _removed(base, config.remove)]
    background_spec = parse_composed_scene(
        base.path, {"background": {**asset_doc(base.background.asset), "holes": holes}}
    )
    road = _road(config, background_spec, background, load_asset)
    probe = _probe(background_spec, exact or config.place_on_gt, load_asset, config, road)
    cameras = road.cameras(config.frames, config.width, config.height)
    kinds = [ObjectKind(o.class_name, o.asset, _asset_box(o.asset, base.path, load_asset)) for o in base.objects]
    clock.lap("load")
    placements, ground = place_objects(probe, road, cameras, kinds, config.placement, config.seed)
    clock.lap("place")

    doc = composed_doc(base.background.asset, holes, placements)
    spec = parse_composed_scene(base.path, doc)
    renderer = _renderer(spec, exact, load_asset, config.supersample)
    clock.lap("load")
    error = _ground_error(background_spec, placements) if base.background.asset.gt is not None else None
    report = _placement_report(placements, ground, road, config, error)

    lidar = chosen_lidar(config.lidar, azimuth_deg=config.lidar_azimuth_deg)
    lidar_poses = None if lidar is None else mounted_on_ground_ego(cameras.c2w.double().numpy(), lidar.sensor_to_ego)
    outputs = RAW_OUTPUTS + (("correspondences",) if config.correspondences else ())

    def frames(first: int):
        return render_frames(
            renderer, cameras, correspondences=config.correspondences, lidar=lidar, lidar_poses=lidar_poses, first=first
        )

    with output_dir(out, "augment", inputs, overwrite) as stage:
        (stage / SCENE_NAME).write_text(yaml.safe_dump(doc, sort_keys=False))
        (stage / "placement.json").write_bytes(json_bytes(report))
        meta = raw_meta(renderer.instances(), len(cameras), outputs, None, config.seed, command, lidar)
        write_raw_frames(stage / "raw", frames, meta)
        clock.lap("render")
        export_beside_raw(stage, formats, progress=False, command=tuple(command))
        clock.lap("export")
        (stage / "preview.png").write_bytes(contact_sheet(stage / "raw", config.preview_rows))
        clock.lap("preview")
    return AugmentResult(out, placements, ground, error, clock.seconds)


def parse_assignments(text: str, what: str) -> dict[str, str]:
    """'car=runs/car,truck=runs/truck' -> {"car": "runs/car", "truck": "runs/truck"}."""
    pairs = {}
    for item in filter(None, (s.strip() for s in text.split(","))):
        name, sep, value = item.partition("=")
        if not sep or not name.strip() or not value.strip():
            raise NerfgenError(None, f"{what} must be NAME=PATH[,NAME=PATH...], got {item!r}")
        pairs[name.strip()] = value.strip()
    return pairs


def _asset_spec(path: Path, background, objects: Mapping, gt: Mapping) -> ComposedSceneSpec:
    """Validated assets (the scene parser's checks and messages) of the background and one
    object per class, at the origin; `gt` keys must name the background or a class."""
    unknown = sorted(set(gt) - {"background", *objects})
    if unknown:
        raise NerfgenError(None, f"--gt names {unknown}, which are neither 'background' nor a class of --objects")

    def entry(asset, key) -> dict:
        doc = {"asset": str(Path(asset).absolute())}
        if key in gt:
            doc["gt"] = str(Path(gt[key]).absolute())
        return doc

    doc = {
        "background": entry(background, "background"),
        "objects": [
            {**entry(a, c), "class": c, "instance_id": i + 1, "position": [0, 0, 0]}
            for i, (c, a) in enumerate(objects.items())
        ],
    }
    return parse_composed_scene(path, doc)


def _removed(spec: ComposedSceneSpec, ids: tuple[int, ...]):
    if not ids:
        return []
    asset = spec.background.asset
    if asset.gt is None:
        raise NerfgenError(
            asset.path,
            "--remove needs the background's ground-truth scene (--gt background=SCENE.yaml) to know its objects",
        )
    boxes = {b.instance_id: b for b in load_scene(asset.gt).instances}
    missing = sorted(set(ids) - set(boxes))
    if missing:
        raise NerfgenError(asset.gt, f"--remove: no instances {missing} (it has {sorted(boxes)})")
    return [boxes[i] for i in sorted(set(ids))]


def _probe(
    spec: ComposedSceneSpec, exact: bool, load_asset: AssetLoader, config: AugmentConfig, road: Road
) -> BackgroundProbe:
    if exact:
        return MeshProbe(composed_gt_scene(spec))
    field = load_composed_scene(spec, load_asset).fields[0]
    # A field of a real drive fills the space above the street too (sky, far matter in
    # contracted space): its ground is looked for from the drive's own eye height down
    # (ground_heights starts 1 m above the probe's top).
    ceiling = road.eye_height if field.field.config.contraction else None
    return FieldProbe(field, config.placement.occupancy_spacing, config.placement.occupancy_opacity, ceiling=ceiling)


def _road(config: AugmentConfig, spec: ComposedSceneSpec, background: str | Path, load_asset: AssetLoader) -> Road:
    """The drive: --path, else the background rig's drive line, else (a trained run of a
    real drive, no rig) the drive of the run's training cameras."""
    if config.path:
        return Road(parse_path(config.path), *_eye(spec))
    rig = default_rig(spec)
    if rig is not None and any(s.type == "line" for s in rig.segments) or spec.background.asset.is_gt:
        return road_from_rig(rig, background)
    run = load_trained(spec.background.asset.path).config
    cameras = load_dataset(run.data, run.downscale, **run.data_options).cameras
    fov = float(np.degrees(2 * np.arctan(0.5 * cameras.width[0].item() / cameras.fx[0].item())))
    return road_from_cameras(cameras.c2w.double().numpy(), fov, background)


def _eye(spec: ComposedSceneSpec) -> tuple[float, float]:
    """Eye height and field of view for an explicit --path: the rig's when there is one."""
    rig = default_rig(spec)
    line = next((s for s in rig.segments if s.type == "line"), None) if rig is not None else None
    return (line.eye_from[2] if line is not None else 1.6), (rig.fov_deg if rig is not None else 70.0)


def _asset_box(asset, where: Path, load_asset: AssetLoader):
    box = asset_gt_box(asset, where)
    if box is not None:
        return box
    bounds = occupied_bounds(load_asset(asset, where).grid)
    if bounds is None:
        raise NerfgenError(asset.path, "trained field has no occupied cells: nothing to place")
    return axis_aligned_box(*(b.double().numpy() for b in bounds))


def _renderer(spec: ComposedSceneSpec, exact: bool, load_asset: AssetLoader, supersample: int):

    if exact:
        return GTRenderer(composed_gt_scene(spec), supersample)
    return NeuralSceneRenderer(load_composed_scene(spec, load_asset), supersample=supersample)


def _ground_error(background_spec: ComposedSceneSpec, placements: list[Placement]) -> list[float]:
    """Snapped height minus the exact ground height under each object's bottom centre (its
    own twin's rays; the background's twin has the removed objects cut out)."""
    if not placements:
        return []
    exact = MeshProbe(composed_gt_scene(background_spec))
    xy = np.array([p.box.center[:2] for p in placements])
    return [float(v) for v in np.array([p.ground_z for p in placements]) - ground_heights(exact, xy)]


def _placement_report(placements, ground: Ground, road: Road, config: AugmentConfig, error) -> dict:
    return {
        "seed": config.seed,
        "config": asdict(config),
        "road_path": road.path.tolist(),
        "ground_plane": asdict(ground.plane),
        "drivable_area_m2": ground.drivable_area,
        "objects": [
            {
                "instance_id": p.obj.instance_id,
                "class": p.obj.class_name,
                "position": list(p.obj.pose.translation),
                "yaw_deg": p.obj.pose.rotation_deg[2],
                "ground_z": p.ground_z,
                "box_center": p.box.center.tolist(),
                "box_size": p.box.size.tolist(),
                "tries": p.tries,
                **({"ground_error_gt_m": error[k]} if error is not None else {}),
            }
            for k, p in enumerate(placements)
        ],
    }


class _Stopwatch:
    def __init__(self):
        self.seconds: dict[str, float] = {}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        """Adds the time since the previous lap to `stage`."""
        now = time.perf_counter()
        self.seconds[stage] = self.seconds.get(stage, 0.0) + now - self._last
        self._last = now
