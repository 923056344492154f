"""`nerfgen augment` end to end on ground-truth assets (rendered exactly): the files it
writes, what they say about the placed objects, removal holes, byte-identical re-runs,
and one-line errors that leave nothing behind."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from nerfgen.cli import main
from nerfgen.procedural import GTRenderer
from nerfgen.scene import composed_gt_scene, load_composed_scene_spec
from nerfgen.writers.raw import read_raw_frame, read_raw_meta

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SMALL = ["--frames", "3", "--width", "48", "--height", "36", "--min-box-height-px", "4"]


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def run(out: Path, *extra: str) -> list[str]:
    argv = [
        "augment",
        str(SCENES / "street.yaml"),
        "--objects",
        f"car={SCENES / 'car.yaml'}",
        "--out",
        str(out),
        *SMALL,
        *extra,
    ]
    main(argv)
    return argv


def test_augment_writes_scene_labels_formats_and_preview(tmp_path):
    out = tmp_path / "aug"
    argv = run(out, "--n-objects", "2", "--remove", "1", "3", "--seed", "5")
    assert sorted(p.name for p in out.iterdir()) == [
        ".nerfgen-output",
        "coco",
        "kitti",
        "placement.json",
        "preview.png",
        "raw",
        "scene.yaml",
    ]
    report = json.loads((out / "placement.json").read_text())
    spec = load_composed_scene_spec(out / "scene.yaml")
    assert [o.pose.translation for o in spec.objects] == [tuple(o["position"]) for o in report["objects"]]
    assert all(abs(o["ground_error_gt_m"]) < 0.05 for o in report["objects"])
    assert len(spec.background.holes) == 2

    # The removed parked cars (instances 1 and 3 of the street) are gone from the rendered scene.
    twin = composed_gt_scene(spec)
    from nerfgen.augment import MeshProbe, ground_heights

    np.testing.assert_allclose(
        ground_heights(MeshProbe(twin), np.array([[-12.0, -2.6], [8.0, -2.6], [-2.0, 2.6]])), [0, 0, 1.675], atol=1e-6
    )

    meta = read_raw_meta(out / "raw")
    assert [i["instance_id"] for i in meta["instances"]] == [1, 2] and meta["seed"] == 5
    assert meta["command"][:2] == ["nerfgen", "augment"] and "--remove" in meta["command"]
    for dataset in ("raw", "kitti", "coco"):  # every manifest records the augment, not a temporary path
        assert json.loads((out / dataset / "manifest.json").read_text())["command"] == meta["command"]
    seen = set()
    for index in range(3):
        maps, labels = read_raw_frame(out / "raw", index)
        exact = GTRenderer(twin).render(_cameras(labels), 0)
        np.testing.assert_array_equal(maps.instance, exact.instance)  # the raw frames are the scene file's
        seen |= {i.instance_id for i in labels.instances if i.px_visible > 0}
    assert seen == {1, 2}
    kitti_cars = sum(
        line.startswith("Car ")
        for f in (out / "kitti/training/label_2").iterdir()
        for line in f.read_text().splitlines()
    )
    assert kitti_cars >= 2
    coco = json.loads(next((out / "coco/annotations").iterdir()).read_text())
    assert {a["category_id"] for a in coco["annotations"]} <= {
        c["id"] for c in coco["categories"] if c["name"] == "car"
    }
    with Image.open(out / "preview.png") as preview:
        assert preview.size == (3 * 48, 3 * 36)

    first = files(out)
    main([*argv, "--overwrite"])  # same seed: the same bytes, and no staging directories left behind
    assert files(out) == first and sorted(p.name for p in tmp_path.iterdir()) == ["aug"]
    run(out, "--n-objects", "2", "--remove", "1", "3", "--seed", "6", "--overwrite")
    assert json.loads((out / "placement.json").read_text())["objects"] != report["objects"]


def _cameras(labels):
    from nerfgen.cameras import Cameras

    return Cameras.create(labels.c2w, labels.fx, labels.fy, labels.cx, labels.cy, labels.width, labels.height)


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--n-objects", "50"], "drivable ground"),  # 50 cars on a 60 m street
        (["--min-visible-frames", "4"], "more than the 3 frames"),
        (["--remove", "42"], "no instances [42]"),
        (["--format", "kitti,png"], "unknown format"),
        (["--path", "1,2,3"], "--path needs an even number"),
        (["--supersample", "0"], "--supersample must be >= 1, got 0"),
        (["--frames", "0"], "--frames must be >= 1, got 0"),
    ],
)
def test_unsatisfiable_or_bad_requests_exit_2_and_write_nothing(tmp_path, capsys, extra, message):
    with pytest.raises(SystemExit) as exit_info:
        run(tmp_path / "aug", *extra)
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1
    assert list(tmp_path.iterdir()) == []


def test_bad_object_lists_are_one_line_errors(tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["augment", str(SCENES / "street.yaml"), "--objects", "car", "--out", str(tmp_path / "a")])
    assert exit_info.value.code == 2 and "NAME=PATH" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        main(
            [
                "augment",
                str(SCENES / "street.yaml"),
                "--objects",
                f"spaceship={SCENES / 'car.yaml'}",
                "--out",
                str(tmp_path / "a"),
            ]
        )
    assert "unknown class 'spaceship'" in capsys.readouterr().err and list(tmp_path.iterdir()) == []


def test_lidar_and_correspondences_compare_exactly_with_the_twin(tmp_path):
    """Exact assets render their own twin: every error against it is zero."""
    from nerfgen.evaluate import compare_with_twin
    from nerfgen.writers.raw import read_raw_correspondences, read_raw_lidar

    out = tmp_path / "aug"
    run(out, "--n-objects", "2", "--lidar", "vlp16", "--lidar-azimuth-deg", "20", "--correspondences")
    meta = read_raw_meta(out / "raw")
    assert meta["lidar"]["azimuth_resolution_deg"] == 20.0 and "correspondences" in meta["outputs"]
    assert "None" not in meta["command"] and meta["command"][meta["command"].index("--lidar") + 1] == "vlp16"
    assert (
        len(read_raw_lidar(out / "raw", 0).points_sensor) > 0 and read_raw_correspondences(out / "raw", 0) is not None
    )
    assert sorted(p.name for p in (out / "kitti/training/velodyne").iterdir()) == [
        "000000.bin",
        "000001.bin",
        "000002.bin",
    ]
    m = compare_with_twin(out / "raw", out / "scene.yaml", progress=False).summary()
    assert m["depth_abs_rel"] == 0.0 and m["poses_exact"] == 1.0 and m["visibility_accuracy"] == 1.0
    assert m["lidar_drop_agreement"] == 1.0 and m["lidar_range_error_median_m"] == 0.0
    assert m["mask_iou_min"] == m["box_iou_mean"] == 1.0 and m["correspondence_epe_median_px"] == 0.0
