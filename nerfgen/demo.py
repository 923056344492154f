"""The end-to-end demo (`nerfgen demo`, `make demo`), the first thing a new user runs, on
the bundled scenes, each stage one public call:

    capture street and car (exact ground truth)     nerfgen.procedural.capture
    train a field on each, score held-out views      nerfgen.train.train_field, evaluate
    insert trained cars into the trained street,
    render a labelled drive with LiDAR, export
    KITTI and COCO, preview.png                      nerfgen.augment.augment
    compare the drive with its exact twin            nerfgen.evaluate.compare_with_twin

It prints one table row per stage (result, seconds, where the files are) and writes the
same as OUT/summary.json. The same seed gives byte-identical datasets and fields
(timings aside) unless --train-seconds cuts training short.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Literal

from nerfgen.sensors.lidar_specs import LidarChoice

SCENES_DIR = Path(__file__).resolve().parents[1] / "scenes"
VISIBLE_HEIGHT_FRACTION = 1 / 15  # a placed car must look this tall (of the frame height) in some frame: 8 px of 120


@dataclass
class DemoConfig:
    """Capture the bundled street and car with exact ground truth, train a field on each,
    insert trained cars into the trained street, render a labelled drive with camera and
    LiDAR, export KITTI and COCO, measure it all against exact ground truth and print a table."""

    out: Path = Path("demo_out")
    """Output directory: captures/, runs/, dataset/ (raw, kitti, coco, preview.png), summary.json."""
    overwrite: bool = False
    """Run again into an OUT that an earlier demo wrote, replacing each of its parts as the new
    one completes; other non-empty directories are never touched."""
    views: int = 60
    """Views captured per scene; every 8th (0, 8, ...) is held out of training to score the field."""
    width: int = 200
    """Width in pixels of the captured views (the training images)."""
    height: int = 150
    """Height in pixels of the captured views."""
    train_steps: int = 2000
    """Training steps of the car field (2000: ~70 s on 2 idle CPU cores; twice that when busy)."""
    street_train_steps: int = 1000
    """Training steps of the street field (`--preset street`: each step costs ~5x a car step, 1000
    take ~3 min idle; 2000 give held-out depth AbsRel 0.6 % instead of ~1 % but ~10 min busy)."""
    train_seconds: float | None = None
    """Also stop training a field after this many seconds; a binding deadline makes the fields
    (and everything rendered from them) differ from run to run."""
    cars: int = 3
    """Trained cars inserted into the trained street (whose parked cars are cut out)."""
    frames: int = 10
    """Frames rendered along the street's drive, each with a LiDAR sweep."""
    frame_width: int = 160
    """Width in pixels of the rendered frames."""
    frame_height: int = 120
    """Height in pixels of the rendered frames."""
    lidar: LidarChoice = "vlp16"
    """LiDAR preset swept at every frame (KITTI mount, 1.73 m above the ground under the camera)."""
    lidar_azimuth_deg: float = 1.0
    """Degrees between LiDAR firings (the presets' 0.2 deg or finer cost 5x more on a CPU)."""
    place_on: Literal["exact", "trained"] = "exact"
    """Ground the cars are placed on: the street's exact one (its ground-truth scene), or the
    trained street's, found by rays cast down through its density (on the depth-supervised
    1000-step street: a plane 7 cm below the exact road)."""
    seed: int = 0
    """Seed of capture, training and placement; the same seed gives byte-identical datasets."""


@dataclass
class StageResult:
    """One row of the summary: what a stage measured and wrote."""

    stage: str
    result: str  # the measurements in words, for the table
    seconds: float | None  # wall time; None for rows that only report
    where: str  # the files it wrote ("" for none)
    metrics: dict = field(default_factory=dict)  # the same measurements as numbers, for summary.json


def run_demo(config: DemoConfig) -> None:
    """Runs every stage into config.out, prints the table and writes summary.json."""
    from rich.console import Console

    from nerfgen.atomic import atomic_write_bytes
    from nerfgen.output_dir import output_lock, write_marker
    from nerfgen.writers.encode import json_bytes

    _check(config)
    start = time.perf_counter()
    stages: list[StageResult] = []
    # The demo writes its parts in place (the composed scene names the runs by their final
    # paths); each part is an output of its own, staged and marked as every output is.
    with output_lock(config.out):
        config.out.mkdir(parents=True, exist_ok=True)
        write_marker(config.out, "demo")
        datasets = {name: _capture(config, name, stages) for name in ("street", "car")}
        runs = {name: _train(config, name, datasets[name], stages) for name in ("street", "car")}
        dataset_dir = _augment(config, runs, stages)
    stages += _compare(dataset_dir)
    total = time.perf_counter() - start
    stages.append(StageResult("total", "", total, str(config.out / "summary.json")))
    summary = {
        "config": {k: str(v) if isinstance(v, Path) else v for k, v in asdict(config).items()},
        "stages": [asdict(s) for s in stages],
        "total_seconds": total,
        "files": _files(config.out, dataset_dir),
    }
    atomic_write_bytes(config.out / "summary.json", json_bytes(summary))
    Console().print(_table(stages, config.out))


def _check(config: DemoConfig) -> None:
    from nerfgen.errors import NerfgenError
    from nerfgen.output_dir import check_output

    minimum = {
        "views": 2,
        "width": 1,
        "height": 1,
        "train_steps": 1,
        "street_train_steps": 1,
        "cars": 1,
        "frames": 1,
        "frame_width": 1,
        "frame_height": 1,
    }
    for name, least in minimum.items():
        if getattr(config, name) < least:
            raise NerfgenError(None, f"--{name.replace('_', '-')} must be >= {least}, got {getattr(config, name)}")
    if config.train_seconds is not None and config.train_seconds <= 0:
        raise NerfgenError(None, f"--train-seconds must be > 0, got {config.train_seconds}")
    check_output(config.out, (), config.overwrite)


def _capture(config: DemoConfig, name: str, stages: list[StageResult]) -> Path:
    from nerfgen.procedural import capture, load_scene

    t0 = time.perf_counter()
    scene = load_scene(SCENES_DIR / f"{name}.yaml")
    out = capture(
        scene,
        config.out / "captures" / name,
        config.views,
        config.width,
        config.height,
        config.seed,
        overwrite=config.overwrite,
    )
    result = (
        f"{config.views} views {config.width}x{config.height}, {len(scene.instances)} instances, "
        "exact depth/normals/ids"
    )
    metrics = {"views": config.views, "instances": len(scene.instances)}
    stages.append(StageResult(f"capture {name}", result, time.perf_counter() - t0, str(out), metrics))
    return out


def _train(config: DemoConfig, name: str, data: Path, stages: list[StageResult]) -> Path:
    from nerfgen.data import load_dataset
    from nerfgen.train import TrainConfig, evaluate, train_field
    from nerfgen.train.presets import preset

    run = config.out / "runs" / name
    t0 = time.perf_counter()
    steps = config.street_train_steps if name == "street" else config.train_steps
    budget = TrainConfig(max_steps=steps, seconds=config.train_seconds, seed=config.seed)
    trained = train_field(
        data, run, overwrite=config.overwrite, **preset("street" if name == "street" else "object", train=budget)
    )
    stages.append(
        StageResult(
            f"train {name}", f"{trained.step} steps", time.perf_counter() - t0, str(run), {"steps": trained.step}
        )
    )

    t0 = time.perf_counter()
    dataset = load_dataset(data, background=trained.config.train.eval_background)
    scores = evaluate(trained, dataset, "test", run)
    keys = ("psnr", "ssim", "depth_abs_rel", "normal_median_deg", "surface_normal_median_deg", "n_views")
    metrics = {k: scores[k] for k in keys if k in scores}
    result = (
        f"PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.3f}, depth AbsRel {scores['depth_abs_rel']:.3f}, "
        f"normal median: surface {scores['surface_normal_median_deg']:.1f} deg, "
        f"field {scores['normal_median_deg']:.1f} deg "
        f"({scores['n_views']} held-out views vs exact)"
    )
    stages.append(StageResult(f"score {name} field", result, time.perf_counter() - t0, str(run / "eval.json"), metrics))
    return run


def _augment(config: DemoConfig, runs: dict[str, Path], stages: list[StageResult]) -> Path:
    from nerfgen.augment import AugmentConfig, PlacementConfig, augment
    from nerfgen.procedural import load_scene

    street = SCENES_DIR / "street.yaml"
    parked = tuple(b.instance_id for b in load_scene(street).instances if b.class_name == "car")
    augment_config = AugmentConfig(
        frames=config.frames,
        width=config.frame_width,
        height=config.frame_height,
        seed=config.seed,
        format="kitti,coco",
        remove=parked,
        place_on_gt=config.place_on == "exact",
        correspondences=True,
        lidar=config.lidar,
        lidar_azimuth_deg=config.lidar_azimuth_deg,
        placement=PlacementConfig(
            n_objects=config.cars, min_box_height_px=config.frame_height * VISIBLE_HEIGHT_FRACTION
        ),
    )
    out = config.out / "dataset"
    gt = {"background": street, "car": SCENES_DIR / "car.yaml"}
    result = augment(
        runs["street"],
        {"car": runs["car"]},
        out,
        augment_config,
        gt,
        command=("nerfgen", "demo"),
        overwrite=config.overwrite,
    )
    seconds = result.seconds
    ground_error = max(abs(e) for e in result.ground_error_gt)
    stages.append(
        StageResult(
            f"place {len(result.placements)} cars",
            f"on the {config.place_on} street's road ({len(parked)} parked cars cut out); "
            f"ground height vs exact: max {ground_error * 100:.1f} cm",
            seconds["load"] + seconds["place"],
            str(out / "placement.json"),
            {"cars": len(result.placements), "ground_error_max_m": ground_error},
        )
    )
    stages.append(_render_row(config, out / "raw", seconds["render"]))
    stages.append(
        StageResult(
            "export KITTI + COCO",
            "labels, calib, velodyne; instances with RLE masks",
            seconds["export"],
            f"{out / 'kitti'}, {out / 'coco'}",
        )
    )
    stages.append(
        StageResult("preview", "RGB with 2D/3D boxes | depth | normals", seconds["preview"], str(out / "preview.png"))
    )
    return out


def _render_row(config: DemoConfig, raw: Path, seconds: float) -> StageResult:
    from nerfgen.writers.raw import read_raw_lidar, read_raw_lidar_spec

    spec = read_raw_lidar_spec(raw)
    result = (
        f"{config.frames} frames {config.frame_width}x{config.frame_height}: "
        "RGB, depth, normals, masks, boxes, correspondences"
    )
    metrics = {"frames": config.frames}
    if spec is not None:
        points = sum(len(read_raw_lidar(raw, i).points_sensor) for i in range(config.frames))
        result += (
            f"; {spec.name} every {spec.azimuth_resolution_deg:g} deg: {points / config.frames:.0f} points per sweep"
        )
        metrics["lidar_points"] = points
    return StageResult("render drive + LiDAR", result, seconds, str(raw), metrics)


def _compare(dataset_dir: Path) -> list[StageResult]:
    from nerfgen.evaluate import compare_with_twin

    t0 = time.perf_counter()
    errors = compare_with_twin(dataset_dir / "raw", dataset_dir / "scene.yaml")
    seconds = time.perf_counter() - t0
    m = errors.summary()
    return [
        StageResult(
            "exact twin",
            "the same frames and sweeps ray cast on the ground-truth scenes",
            seconds,
            str(dataset_dir / "scene.yaml"),
        ),
        StageResult(
            "  depth, normals",
            f"depth AbsRel {_num(m['depth_abs_rel'], '.3f')}, normal median {_num(m['normal_median_deg'], '.1f')} deg",
            None,
            "",
            _subset(m, "depth_abs_rel", "normal_median_deg"),
        ),
        StageResult(
            "  masks, boxes",
            f"mask IoU mean {_num(m['mask_iou_mean'], '.3f')} (min {_num(m['mask_iou_min'], '.3f')}, "
            f"{len(errors.mask_iou)} instance views), 2D box IoU {_num(m['box_iou_mean'], '.3f')}, "
            f"3D boxes/poses exact: {'yes' if m['poses_exact'] == 1.0 else 'NO'}",
            None,
            "",
            _subset(
                m,
                "mask_iou_mean",
                "mask_iou_min",
                "box_iou_mean",
                "poses_exact",
                "occlusion_error_max",
                "truncation_error_max",
            ),
        ),
        StageResult(
            "  correspondences",
            f"EPE median {_num(m['correspondence_epe_median_px'], '.2f')} px, "
            f"PCK@3px {_num(m['correspondence_pck_3px'], '.3f')}, "
            f"visibility accuracy {_num(m['visibility_accuracy'], '.3f')}",
            None,
            "",
            _subset(m, "correspondence_epe_median_px", "correspondence_pck_3px", "visibility_accuracy"),
        ),
        StageResult(
            "  LiDAR",
            f"range error median {_num(m['lidar_range_error_median_m'], '.3f')} m "
            f"({_num(m['lidar_range_rel_median'], '.1%')}), "
            f"drop agreement {_num(m['lidar_drop_agreement'], '.3f')}",
            None,
            "",
            _subset(m, "lidar_range_error_median_m", "lidar_range_rel_median", "lidar_drop_agreement"),
        ),
    ]


def _subset(metrics: dict, *keys: str) -> dict:
    return {k: metrics[k] for k in keys}


def _num(value: float | None, spec: str) -> str:
    return "n/a" if value is None else format(value, spec)


def _files(out: Path, dataset_dir: Path) -> dict[str, str]:
    return {
        "preview": str(dataset_dir / "preview.png"),
        "kitti": str(dataset_dir / "kitti"),
        "coco": str(dataset_dir / "coco"),
        "raw": str(dataset_dir / "raw"),
        "scene": str(dataset_dir / "scene.yaml"),
        "runs": str(out / "runs"),
        "captures": str(out / "captures"),
    }


def _table(stages: list[StageResult], out: Path):
    from rich.table import Table

    table = Table(title="nerfgen demo", caption=f"files (where) under {out}/")
    for column in ("stage", "result", "seconds", "where"):
        table.add_column(column, overflow="fold")
    for s in stages:
        where = ", ".join(str(Path(w).relative_to(out)) for w in s.where.split(", ")) if s.where else ""
        table.add_row(s.stage, s.result, "" if s.seconds is None else f"{s.seconds:.1f}", where)
    return table
