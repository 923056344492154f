"""`nerfgen demo` end to end at a reduced size (tiny captures, seconds of training, three
frames): the datasets it writes load with their own readers, summary.json holds sane
measurements, and bad input is one line. (Same seed, same bytes: the demo's stages are
tested for it on their own, test_capture, test_train, test_augment.)"""

from __future__ import annotations

import contextlib
import io
import json
import math
from pathlib import Path

import numpy as np
import pytest

from nerfgen.cli import main
from nerfgen.writers.raw import read_raw_frame, read_raw_lidar, read_raw_meta

SMALL = [
    "--views",
    "8",
    "--width",
    "48",
    "--height",
    "36",
    "--train-steps",
    "150",
    "--street-train-steps",
    "100",
    "--frames",
    "3",
    "--frame-width",
    "80",
    "--frame-height",
    "60",
    "--lidar-azimuth-deg",
    "10",
]


@pytest.fixture(scope="module")
def demo_out(tmp_path_factory) -> tuple[Path, str]:
    out = tmp_path_factory.mktemp("demo") / "out"
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        main(["demo", "--out", str(out), *SMALL])
    return out, printed.getvalue()


def test_prints_a_row_per_stage(demo_out):
    _, printed = demo_out
    for stage in (
        "capture street",
        "train car",
        "score street field",
        "place 3 cars",
        "render drive + LiDAR",
        "export KITTI + COCO",
        "exact twin",
        "correspondences",
        "LiDAR",
        "total",
    ):
        assert stage in printed


def visible_instances(raw: Path, index: int) -> int:
    return sum(i.px_visible > 0 for i in read_raw_frame(raw, index)[1].instances)


def test_kitti_labels_parse_with_15_fields(demo_out):
    """One 'Car' line per car visible in the rendered frame. At this size the barely trained
    street is still fog that can hide the cars, so a frame may have none."""
    out, _ = demo_out
    kitti = out / "dataset" / "kitti" / "training"
    assert len(list((kitti / "image_2").glob("*.png"))) == len(list((kitti / "calib").glob("*.txt"))) == 3
    for index in range(3):
        lines = [line.split() for line in (kitti / "label_2" / f"{index:06d}.txt").read_text().splitlines()]
        assert len(lines) == visible_instances(out / "dataset" / "raw", index)
        for fields in lines:
            assert len(fields) == 15 and fields[0] == "Car"
            left, top, right, bottom = map(float, fields[4:8])
            assert 0 <= left <= right <= 80 and 0 <= top <= bottom <= 60
            assert all(math.isfinite(float(v)) for v in fields[1:])


def test_coco_loads_with_pycocotools(demo_out):
    from pycocotools.coco import COCO

    out, _ = demo_out
    (annotations,) = (out / "dataset" / "coco" / "annotations").glob("*.json")
    coco = COCO(str(annotations))
    assert len(coco.getImgIds()) == 3 and {c["name"] for c in coco.loadCats(coco.getCatIds())} <= {"car"}
    assert len(coco.getAnnIds()) == sum(visible_instances(out / "dataset" / "raw", i) for i in range(3))
    for ann in coco.loadAnns(coco.getAnnIds()):
        assert coco.annToMask(ann).sum() == ann["area"] > 0


def test_lidar_points_exist(demo_out):
    out, _ = demo_out
    raw = out / "dataset" / "raw"
    assert read_raw_meta(raw)["lidar"]["name"] == "VLP-16"
    for index in range(3):
        scan = read_raw_lidar(raw, index)
        assert len(scan.points_sensor) > 0 and scan.n_beams_fired == 16 * 36
        velodyne = np.fromfile(out / "dataset" / "kitti" / "training" / "velodyne" / f"{index:06d}.bin", dtype="<f4")
        assert velodyne.reshape(-1, 4).shape[0] == len(scan.points_sensor)
    assert (out / "dataset" / "preview.png").stat().st_size > 0


def test_summary_has_sane_numbers(demo_out):
    out, _ = demo_out
    summary = json.loads((out / "summary.json").read_text())
    stages = {s["stage"].strip(): s for s in summary["stages"]}
    assert all(s["seconds"] > 0 for s in summary["stages"] if s["seconds"] is not None)
    assert (
        summary["total_seconds"] >= sum(s["seconds"] for s in summary["stages"][:-1] if s["seconds"] is not None) * 0.99
    )
    for name, steps in (("street", 100), ("car", 150)):
        score = stages[f"score {name} field"]["metrics"]
        assert (
            5.0 < score["psnr"] < 60.0 and 0.0 <= score["depth_abs_rel"] and 0.0 <= score["normal_median_deg"] <= 180.0
        )
        assert stages[f"train {name}"]["metrics"]["steps"] == steps
    masks = stages["masks, boxes"]["metrics"]
    assert 0.0 <= masks["mask_iou_min"] <= masks["mask_iou_mean"] <= 1.0 and 0.0 <= masks["box_iou_mean"] <= 1.0
    assert masks["poses_exact"] == 1.0  # 3D boxes and poses are inputs: exact by construction
    depth = stages["depth, normals"]["metrics"]
    assert depth["depth_abs_rel"] >= 0.0 and 0.0 <= depth["normal_median_deg"] <= 180.0
    lidar = stages["LiDAR"]["metrics"]
    assert 0.0 <= lidar["lidar_drop_agreement"] <= 1.0 and lidar["lidar_range_error_median_m"] >= 0.0
    assert stages["place 3 cars"]["metrics"]["cars"] == 3
    assert abs(stages["place 3 cars"]["metrics"]["ground_error_max_m"]) < 0.05  # placed on the exact ground
    assert Path(summary["files"]["preview"]).is_file()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--views", "1"], "--views must be >= 2, got 1"),
        (["--train-steps", "0"], "--train-steps must be >= 1, got 0"),
        (["--train-seconds", "-1"], "--train-seconds must be > 0"),
    ],
)
def test_bad_input_is_one_line(tmp_path, capsys, args, message):
    with pytest.raises(SystemExit) as exit_info:
        main(["demo", "--out", str(tmp_path / "out"), *args])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("nerfgen: error:") and message in err and "\n" not in err
    assert not (tmp_path / "out").exists()


def test_help_lists_commands(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    printed = capsys.readouterr().out
    assert "capture" in printed and "demo" in printed
