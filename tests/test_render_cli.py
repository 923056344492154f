"""`nerfgen render`: raw dataset from a scene file, deterministic, one-line errors."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from nerfgen.cli import main
from nerfgen.writers.raw import read_raw_correspondences, read_raw_frame, read_raw_meta

SCENES = Path(__file__).resolve().parent.parent / "scenes"
SMALL = ["--frames", "2", "--width", "20", "--height", "15"]


def files(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_render_writes_a_deterministic_raw_dataset(tmp_path):
    out = tmp_path / "car"
    argv = [
        "render",
        str(SCENES / "car.yaml"),
        "--out",
        str(out),
        *SMALL,
        "--seed",
        "4",
        "--outputs",
        "rgb,depth,masks,boxes,correspondences",
    ]
    main(argv)
    first = files(out)
    main(argv + ["--overwrite"])  # a re-run replaces the directory with the same bytes
    assert files(out) == first and [p.name for p in tmp_path.iterdir()] == ["car"]
    meta = read_raw_meta(out)
    assert meta["frame_count"] == 2 and meta["seed"] == 4
    assert meta["outputs"] == ["rgb", "depth", "masks", "boxes", "correspondences"]
    assert [i["class_name"] for i in meta["instances"]] == ["car"]
    assert not (out / "normals").exists()
    maps, labels = read_raw_frame(out, 1)
    (car,) = labels.instances
    assert car.px_visible == (maps.instance == 1).sum() > 0 and labels.index == 1
    uv, valid = read_raw_correspondences(out, 0)
    assert uv.shape == (15, 20, 2) and valid.any()


def test_supersample_changes_rgb_on_edges_only(tmp_path):
    """`--supersample 1` casts one ray per pixel centre; the default anti-aliases the RGB of
    mixed pixels; labels are the same bytes either way."""
    outs = {}
    for s in ("1", "3"):
        outs[s] = tmp_path / f"car{s}"
        main(["render", str(SCENES / "car.yaml"), "--out", str(outs[s]), *SMALL, "--supersample", s])
    (one, _), (three, _) = (read_raw_frame(outs[s], 0) for s in ("1", "3"))
    assert np.array_equal(one.depth_z, three.depth_z) and np.array_equal(one.instance, three.instance)
    changed = np.abs(one.rgb.astype(np.float32) - three.rgb.astype(np.float32)).max(-1) > 0
    assert 0 < changed.mean() < 0.5


def test_drive_trajectory_follows_the_street(tmp_path):
    out = tmp_path / "street"
    main(["render", str(SCENES / "street.yaml"), "--out", str(out), *SMALL, "--trajectory", "drive"])
    poses = [read_raw_frame(out, i)[1].c2w for i in (0, 1)]
    for c2w in poses:  # eye height of the drive-by lane (1.6 m, jitter 0.3), looking east along it
        assert abs(c2w[2, 3] - 1.6) <= 0.3 + 1e-6 and c2w[0, 2] == pytest.approx(1.0, abs=1e-6)
    assert poses[1][0, 3] - poses[0][0, 3] == pytest.approx(48.0, abs=0.6)  # from x = -26 to 22
    assert len(read_raw_frame(out, 0)[1].instances) == len(read_raw_meta(out)["instances"]) > 3


def test_orbit_trajectory_circles_the_object(tmp_path):
    out = tmp_path / "car"
    main(["render", str(SCENES / "car.yaml"), "--out", str(out), *SMALL, "--trajectory", "orbit"])
    for i in (0, 1):
        c2w = read_raw_frame(out, i)[1].c2w
        to_centre = np.array([0.0, 0.0, 0.8]) - c2w[:3, 3]  # car.yaml orbit: centre, radius 8
        assert np.linalg.norm(to_centre) == pytest.approx(8.0, abs=1e-4)
        np.testing.assert_allclose(c2w[:3, 2], to_centre / 8.0, atol=1e-5)  # looking at it


def _cli_error(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as e:
        main(argv)
    assert e.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and err.startswith("nerfgen: error:")
    return err


@pytest.mark.parametrize(
    "content",
    ["name: broken\nobjects: [\n", "name: x\nbackground: [1, 1, 1]\n"],
)
def test_malformed_scene_is_a_one_line_error_and_writes_nothing(tmp_path, capsys, content):
    scene = tmp_path / "bad.yaml"
    scene.write_text(content)
    err = _cli_error(["render", str(scene), "--out", str(tmp_path / "out"), *SMALL], capsys)
    assert str(scene) in err
    assert [p.name for p in tmp_path.iterdir()] == ["bad.yaml"]


def test_bad_options_are_one_line_errors(tmp_path, capsys):
    out = str(tmp_path / "out")
    assert "unknown outputs ['mesh']" in _cli_error(
        ["render", str(SCENES / "car.yaml"), "--out", out, *SMALL, "--outputs", "rgb,mesh"], capsys
    )
    assert "no line segment" in _cli_error(
        ["render", str(SCENES / "car.yaml"), "--out", out, *SMALL, "--trajectory", "drive"], capsys
    )
    assert "--frames must be >= 1" in _cli_error(
        ["render", str(SCENES / "car.yaml"), "--out", out, "--frames", "0"], capsys
    )
    assert "--supersample must be >= 1" in _cli_error(
        ["render", str(SCENES / "car.yaml"), "--out", out, "--supersample", "0"], capsys
    )
    assert list(tmp_path.iterdir()) == []
