"""Composed scene files: validation with one-line errors, and `nerfgen render` of a
composed scene (neural branch on a tiny run, --exact on its ground-truth twin)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import yaml

from nerfgen.cameras.transforms import rotation_rpy
from nerfgen.cli import main
from nerfgen.errors import NerfgenError
from nerfgen.procedural import load_scene
from nerfgen.scene import is_composed_scene, load_composed_scene_spec

SCENES = Path(__file__).resolve().parent.parent / "scenes"


def write(tmp_path: Path, doc) -> Path:
    path = tmp_path / "composed.yaml"
    path.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc))
    return path


def car(asset: str, instance_id: int = 1, **pose) -> dict:
    return {"asset": asset, "class": "car", "instance_id": instance_id, "position": [0, 0, 0], **pose}


def test_spec_resolves_paths_and_poses(tmp_path, tiny_run):
    path = write(
        tmp_path,
        {
            "background": {
                "asset": str(tiny_run),
                "holes": [{"center": [1, 2, 0.8], "size": [4.6, 2, 1.5], "yaw_deg": 90}],
            },
            "objects": [
                car(str(SCENES / "car.yaml"), 2, rotation_deg=[0, 0, 45], scale=1.5),
                {**car(str(tiny_run), 1), "gt": str(SCENES / "car.yaml")},
            ],
        },
    )
    spec = load_composed_scene_spec(path)
    assert spec.background.holes[0].rotation_deg == (0, 0, 90)
    a, b = spec.objects
    assert a.asset.is_gt and a.asset.gt == SCENES / "car.yaml" and a.scale == 1.5 and a.pose.rotation_deg == (0, 0, 45)
    assert not b.asset.is_gt and b.asset.gt == SCENES / "car.yaml"
    assert is_composed_scene(yaml.safe_load(path.read_text()))
    assert not is_composed_scene(yaml.safe_load((SCENES / "car.yaml").read_text()))


@pytest.mark.parametrize(
    "doc, problem",
    [
        ("objects: [\n", "malformed YAML"),
        ({"objects": [car("missing_run")]}, "does not exist"),
        ({"objects": [car("CAR", 0)]}, "'instance_id' must be >= 1"),
        ({"objects": [car("CAR", 1), car("CAR", 1)]}, "duplicate instance_id 1"),
        ({"objects": [{**car("CAR"), "class": "spaceship"}]}, "unknown class 'spaceship'"),
        ({"objects": [car("CAR", yaw_deg=3, rotation_deg=[0, 0, 3])]}, "either 'yaw_deg' or 'rotation_deg'"),
        ({"objects": [car("CAR", scale=0)]}, "'scale' must be positive"),
        ({"background": {"asset": "CAR", "holes": [{"center": [0, 0, 0]}]}, "objects": []}, "missing key 'size'"),
        ({"background": "CAR", "objects": [], "lights": 1}, "unknown key 'lights'"),
    ],
)
def test_malformed_scene_is_a_one_line_error_exit_2(tmp_path, capsys, doc, problem):
    if isinstance(doc, dict):
        doc = json.loads(json.dumps(doc).replace('"CAR"', json.dumps(str(SCENES / "car.yaml"))))
    path = write(tmp_path, doc)
    with pytest.raises(NerfgenError):
        load_composed_scene_spec(path)
    with pytest.raises(SystemExit) as exit_info:
        main(["render", str(path), "--out", str(tmp_path / "out"), "--exact"])
    err = capsys.readouterr().err.strip()
    assert exit_info.value.code == 2 and len(err.splitlines()) == 1
    assert str(path) in err and problem in err, err
    assert not (tmp_path / "out").exists()


def test_render_cli_neural_and_exact_branches(tmp_path, tiny_run):
    doc = {
        "objects": [
            {**car(str(tiny_run), 1, yaw_deg=30), "gt": str(SCENES / "car.yaml")},
            car(str(SCENES / "car.yaml"), 2, position=[0, 4, 0], scale=0.5),
        ]
    }
    exact_only = write(tmp_path, doc)
    out = tmp_path / "exact"
    main(["render", str(exact_only), "--out", str(out), "--exact", "--frames", "2", "--width", "24", "--height", "18"])
    meta = json.loads((out / "meta.json").read_text())
    car_box = load_scene(SCENES / "car.yaml").instances[0]
    placed = {i["instance_id"]: i for i in meta["instances"]}
    np.testing.assert_allclose(placed[2]["size"], car_box.size * 0.5)
    np.testing.assert_allclose(np.array(placed[1]["obj_to_world"])[:3, :3], rotation_rpy(0, 0, 30))
    assert len(list((out / "labels").iterdir())) == 2

    # The neural branch refuses ground-truth assets, and renders trained runs.
    with pytest.raises(SystemExit) as exit_info:
        main(["render", str(exact_only), "--out", str(tmp_path / "no")])
    assert exit_info.value.code == 2 and not (tmp_path / "no").exists()
    neural = write(tmp_path, {"objects": doc["objects"][:1]})
    out = tmp_path / "neural"
    main(
        [
            "render",
            str(neural),
            "--out",
            str(out),
            "--frames",
            "2",
            "--width",
            "16",
            "--height",
            "12",
            "--trajectory",
            "orbit",
        ]
    )
    meta = json.loads((out / "meta.json").read_text())
    assert meta["instances"][0]["size"] == car_box.size.tolist()  # exact box from the asset's gt scene
    labels = json.loads((out / "labels" / "000000.json").read_text())
    assert [i["instance_id"] for i in labels["instances"]] == [1]
    assert np.load(out / "depth_z" / "000000.npy").shape == (12, 16)
