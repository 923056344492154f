"""`capture` / `nerfgen capture`: determinism, atomic output, CLI errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch
import yaml

from nerfgen.cameras import generate_rays, pixel_centres
from nerfgen.cli import main
from nerfgen.errors import NerfgenError
from nerfgen.procedural import capture, load_scene
from nerfgen.procedural.raycast import cast_rays
from nerfgen.procedural.render import mixed_pixels, render_gt
from nerfgen.procedural.rig import rig_cameras
from nerfgen.procedural.shading import shade

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SMALL = dict(views=3, width=24, height=18, progress=False)


@pytest.fixture(scope="module")
def car():
    return load_scene(SCENES / "car.yaml")


def _files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_same_bytes_different_seed_different_rig(car, tmp_path):
    a = _files(capture(car, tmp_path / "a", seed=7, **SMALL))
    b = _files(capture(car, tmp_path / "b", seed=7, **SMALL))
    c = _files(capture(car, tmp_path / "c", seed=8, **SMALL))
    assert len(a) == 3 * 6 + 3 and a == b  # 6 layers, transforms.json, gt.json, the marker
    poses = [[f["transform_matrix"] for f in json.loads(x["transforms.json"])["frames"]] for x in (a, c)]
    assert not np.allclose(poses[0], poses[1])


def test_overwrite_replaces_an_earlier_capture(car, tmp_path):
    out = tmp_path / "ds"
    capture(car, out, **SMALL)
    (out / "stale.txt").write_text("old")
    capture(car, out, **SMALL, overwrite=True)
    assert not (out / "stale.txt").exists()
    assert [p.name for p in tmp_path.iterdir()] == ["ds"]


def test_cli_capture_writes_dataset(tmp_path, capsys):
    out = tmp_path / "street"
    main(["capture", str(SCENES / "street.yaml"), "--out", str(out), "--views", "2", "--width", "16", "--height", "12"])
    gt = json.loads((out / "gt.json").read_text())
    assert gt["scene"] == "street" and len(gt["instances"]) >= 3
    assert {i["class"] for i in gt["instances"]} >= {"car", "pole", "tree"}
    assert sorted(p.name for p in (out / "images").iterdir()) == ["frame_00000.png", "frame_00001.png"]


def _cli_error(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err
    return err


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda d: d["objects"][0]["parts"][0].update(primitive="blob"), "unknown primitive 'blob'"),
        (lambda d: d["objects"][0]["parts"][0].update(size=[4.2, -1.8, 0.75]), "'size' must be positive"),
        (lambda d: d["objects"][0]["parts"][0]["material"].update(texture="wood"), "unknown texture 'wood'"),
        (lambda d: d["objects"].append({**d["objects"][0], "name": "car2"}), "duplicate instance id 1"),
    ],
)
def test_cli_bad_scene_exits_2_and_leaves_nothing(tmp_path, capsys, edit, problem):
    data = yaml.safe_load((SCENES / "car.yaml").read_text())
    edit(data)
    scene = tmp_path / "bad.yaml"
    scene.write_text(yaml.safe_dump(data))
    err = _cli_error(["capture", str(scene), "--out", str(tmp_path / "out")], capsys)
    assert str(scene) in err and problem in err
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_cli_malformed_yaml(tmp_path, capsys):
    scene = tmp_path / "bad.yaml"
    scene.write_text("name: car\nobjects:\n  - name: [\n")
    err = _cli_error(["capture", str(scene), "--out", str(tmp_path / "out")], capsys)
    assert str(scene) in err and "malformed YAML at line" in err
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_unwritable_output(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a directory")
    out = blocker / "ds"
    with pytest.raises(NerfgenError, match="cannot write output directory"):
        capture(SCENES / "car.yaml", out, **SMALL)
    err = _cli_error(["capture", str(SCENES / "car.yaml"), "--out", str(out), "--views", "2"], capsys)
    assert str(out) in err
    assert [p.name for p in tmp_path.iterdir()] == ["file"]


def test_bad_view_count(tmp_path, capsys):
    err = _cli_error(["capture", str(SCENES / "car.yaml"), "--out", str(tmp_path / "o"), "--views", "0"], capsys)
    assert "views must be >= 1" in err


def test_supersampled_rgb_is_the_mean_of_subpixel_rays_and_labels_stay_exact(car):
    """RGB at s = 3 against an independent computation: rays through the 9 sub-pixel
    points (x + (a + 0.5) / 3, y + (b + 0.5) / 3) of every pixel, shaded and averaged.
    Mixed pixels (edges, texture boundaries) are that mean; the others keep their centre
    colour, within the tolerance of the full mean; the label maps are those of the
    pixel-centre render, bit for bit."""
    s, width, height = 3, 32, 24
    cameras = rig_cameras(car.spec.rig, 2, width, height, seed=0)
    fine, centre = render_gt(car, cameras, [1], supersample=s), render_gt(car, cameras, [1])
    for name in ("depth_z", "range", "normals", "instance", "class_id"):
        assert np.array_equal(getattr(fine, name), getattr(centre, name)), name
    offsets = (torch.arange(s, dtype=torch.float64) + 0.5) / s
    sub = torch.stack(torch.meshgrid(offsets, offsets, indexing="ij"), -1).reshape(-1, 2).flip(-1)  # (u, v)
    corners = pixel_centres(width, height).double() - 0.5
    uv = (corners[:, None, :] + sub[None]).reshape(-1, 2)
    rays = generate_rays(cameras, 1, uv)
    full = shade(car, cast_rays(car, rays.origins.numpy(), rays.directions.numpy()))
    full = full.reshape(height, width, s * s, 3).mean(2)
    mixed = mixed_pixels(centre.rgb[0])
    assert 0.05 < mixed.mean() < 0.6  # the car's outline and trim, not the empty background
    np.testing.assert_allclose(fine.rgb[0][mixed], full[mixed], atol=1e-5)
    assert np.array_equal(fine.rgb[0][~mixed], centre.rgb[0][~mixed])
    assert np.abs(fine.rgb[0] - full).max() < 0.05  # smooth pixels: centre = mean to second order
    assert np.abs(fine.rgb - centre.rgb).max() > 0.1  # anti-aliasing changed the edges


def test_supersampling_a_view_of_nothing_changes_nothing(car):
    """A camera looking away from the car sees the background alone: no mixed pixel."""
    cameras = rig_cameras(car.spec.rig, 1, 8, 6, seed=0)
    c2w = torch.eye(4)[None]  # OpenCV axes = world axes: the optical axis points up (+z)
    c2w[0, 2, 3] = 50.0
    cameras.c2w = c2w
    fine, centre = render_gt(car, cameras, [0], supersample=3), render_gt(car, cameras, [0])
    assert not centre.range.any()
    assert np.array_equal(fine.rgb, centre.rgb)


def test_capture_records_supersampling_and_rejects_zero(car, tmp_path, capsys):
    out = capture(car, tmp_path / "ds", supersample=2, **SMALL)
    assert json.loads((out / "gt.json").read_text())["rgb_supersample"] == 2
    err = _cli_error(["capture", str(SCENES / "car.yaml"), "--out", str(tmp_path / "o"), "--supersample", "0"], capsys)
    assert "supersample must be >= 1" in err
