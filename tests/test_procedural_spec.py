"""Scene YAML validation: every bad input is a one-line NerfgenError naming file and problem."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from nerfgen.errors import NerfgenError
from nerfgen.procedural import load_scene_spec

BASE = {
    "name": "mini",
    "background": [0.5, 0.6, 0.7],
    "lights": {"ambient": 0.3, "directional": [{"direction": [0, 0, -1], "intensity": 0.7}]},
    "objects": [
        {
            "name": "crate",
            "class": "box",
            "instance": 1,
            "parts": [
                {
                    "name": "cube",
                    "primitive": "box",
                    "size": [1, 1, 1],
                    "material": {"texture": "solid", "color": [0.8, 0.2, 0.2]},
                }
            ],
        },
        {
            "name": "ball",
            "class": "ball",
            "instance": 2,
            "pose": {"translation": [2, 0, 0.5], "yaw_deg": 10},
            "parts": [
                {
                    "name": "s",
                    "primitive": "sphere",
                    "radius": 0.5,
                    "material": {"texture": "checker", "period": 0.2, "colors": [[0, 0, 0], [1, 1, 1]]},
                }
            ],
        },
    ],
    "rig": {
        "fov_deg": 60,
        "segments": [{"type": "orbit", "share": 1, "center": [0, 0, 0], "radius": 5, "elevation_deg": [10, 50]}],
    },
}


def _write(tmp_path: Path, data) -> Path:
    path = tmp_path / "scene.yaml"
    path.write_text(data if isinstance(data, str) else yaml.safe_dump(data))
    return path


def _error(tmp_path: Path, data) -> str:
    path = _write(tmp_path, data)
    with pytest.raises(NerfgenError) as e:
        load_scene_spec(path)
    message = str(e.value)
    assert message.startswith(str(path)) and "\n" not in message
    return message


def _edited(edit) -> dict:
    data = copy.deepcopy(BASE)
    edit(data)
    return data


def test_valid_scene_parses(tmp_path):
    spec = load_scene_spec(_write(tmp_path, BASE))
    assert [o.instance for o in spec.objects] == [1, 2]
    assert spec.objects[1].pose.rotation_deg == (0.0, 0.0, 10.0)
    assert spec.objects[1].parts[0].material.colors == ((0, 0, 0), (1, 1, 1))


def test_unknown_primitive(tmp_path):
    msg = _error(tmp_path, _edited(lambda d: d["objects"][0]["parts"][0].update(primitive="blob")))
    assert "object 'crate'" in msg and "unknown primitive 'blob'" in msg and "cylinder" in msg


def test_negative_and_zero_sizes(tmp_path):
    msg = _error(tmp_path, _edited(lambda d: d["objects"][0]["parts"][0].update(size=[1, -2, 1])))
    assert "'size' must be positive" in msg and "crate" in msg
    msg = _error(tmp_path, _edited(lambda d: d["objects"][1]["parts"][0].update(radius=0)))
    assert "'radius' must be positive" in msg and "ball" in msg


def test_malformed_yaml_names_the_line(tmp_path):
    msg = _error(tmp_path, "name: x\nobjects: [\n  {a: 1,\n  b: [}\n")
    assert "malformed YAML at line 4" in msg


def test_yaml_never_runs_code(tmp_path):
    msg = _error(tmp_path, "name: !!python/object/apply:os.system ['echo pwned']\n")
    assert "malformed YAML" in msg


def test_duplicate_instance_id(tmp_path):
    msg = _error(tmp_path, _edited(lambda d: d["objects"][1].update(instance=1)))
    assert "duplicate instance id 1" in msg


def test_stuff_may_share_instance_zero(tmp_path):
    data = _edited(lambda d: [o.update(instance=0) for o in d["objects"]])
    assert [o.instance for o in load_scene_spec(_write(tmp_path, data)).objects] == [0, 0]


def test_unknown_texture(tmp_path):
    msg = _error(tmp_path, _edited(lambda d: d["objects"][0]["parts"][0]["material"].update(texture="marble")))
    assert "unknown texture 'marble'" in msg and "stripes" in msg


def test_missing_key_and_bad_type(tmp_path):
    msg = _error(tmp_path, _edited(lambda d: d["objects"][0].pop("class")))
    assert "missing key 'class'" in msg and "object 'crate'" in msg
    msg = _error(tmp_path, _edited(lambda d: d["objects"][0].update(instance="one")))
    assert "'instance' must be an integer" in msg
    msg = _error(tmp_path, _edited(lambda d: d["objects"][0]["parts"][0]["material"].update(color=[2, 0, 0])))
    assert "components in [0, 1]" in msg


def test_unknown_class_and_rig_type(tmp_path):
    msg = _error(tmp_path, _edited(lambda d: d["objects"][0].update({"class": "dragon"})))
    assert "unknown class 'dragon'" in msg
    msg = _error(tmp_path, _edited(lambda d: d["rig"]["segments"][0].update(type="spiral")))
    assert "unknown rig type 'spiral'" in msg


def test_repeat_expands_parts(tmp_path):
    data = _edited(lambda d: d["objects"][0]["parts"][0].update(repeat={"count": 3, "step": [2, 0, 0]}))
    parts = load_scene_spec(_write(tmp_path, data)).objects[0].parts
    assert [p.name for p in parts] == ["cube_0", "cube_1", "cube_2"]
    assert [p.pose.translation[0] for p in parts] == [0.0, 2.0, 4.0]


def test_missing_file(tmp_path):
    with pytest.raises(NerfgenError, match="cannot read scene file"):
        load_scene_spec(tmp_path / "nope.yaml")
