"""Trajectories: orbit, drive, dataset splits, nerfstudio camera_path.json."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from nerfgen.cameras import check_poses, generate_rays, opencv_to_opengl
from nerfgen.errors import NerfgenError
from nerfgen.sensors.camera_path import load_camera_path
from nerfgen.sensors.trajectories import drive, orbit


def test_orbit_looks_at_centre_at_radius_and_elevation():
    center = np.array([1.0, -2.0, 0.5])
    c2w = orbit(center, radius=4.0, elevation_deg=30.0, n=12, start_azimuth_deg=45.0)
    check_poses(torch.from_numpy(c2w), None)
    eyes, forward = c2w[:, :3, 3], c2w[:, :3, 2]
    offset = eyes - center
    np.testing.assert_allclose(np.linalg.norm(offset, axis=1), 4.0, atol=1e-12)
    np.testing.assert_allclose(np.degrees(np.arcsin(offset[:, 2] / 4.0)), 30.0, atol=1e-9)
    # the optical axis (z) goes through the centre: forward == unit vector eye -> centre
    np.testing.assert_allclose(forward, -offset / 4.0, atol=1e-12)
    azimuth = np.degrees(np.arctan2(offset[:, 1], offset[:, 0])) % 360
    np.testing.assert_allclose(azimuth, (45.0 + 30.0 * np.arange(12)) % 360, atol=1e-9)
    assert np.all(c2w[:, 2, 1] < 0)  # image down (y) points down in the world: upright


def test_drive_moves_at_speed_along_the_road_at_height():
    road = [[-26.0, -1.75], [26.0, -1.75]]
    c2w = drive(road, speed=10.0, fps=20.0, n=30, lateral_offset=0.5, height=1.6)
    eyes = c2w[:, :3, 3]
    np.testing.assert_allclose(np.diff(eyes, axis=0), [[0.5, 0.0, 0.0]] * 29, atol=1e-12)  # 10 m/s / 20 fps
    np.testing.assert_allclose(eyes[0], [-26.0, -1.75 + 0.5, 1.6], atol=1e-12)  # left of +x is +y
    np.testing.assert_allclose(c2w[:, :3, 2], [[1.0, 0.0, 0.0]] * 30, atol=1e-12)  # heading along the road
    np.testing.assert_allclose(c2w[:, :3, 1], [[0.0, 0.0, -1.0]] * 30, atol=1e-12)  # level, upright


def test_drive_turns_at_waypoints_and_jitter_is_seeded():
    path = [[0.0, 0.0], [10.0, 0.0], [10.0, 10.0]]
    c2w = drive(path, speed=5.0, fps=1.0, n=4, height=0.0)
    np.testing.assert_allclose(c2w[:, :3, 3], [[0, 0, 0], [5, 0, 0], [10, 0, 0], [10, 5, 0]], atol=1e-12)
    np.testing.assert_allclose(c2w[3, :3, 2], [0.0, 1.0, 0.0], atol=1e-12)
    a, b, c = (drive(path, 5.0, 1.0, 4, height=0.0, jitter=0.2, seed=s) for s in (3, 3, 4))
    assert np.array_equal(a, b) and not np.allclose(a, c)
    assert np.abs(a[:, :3, 3] - c2w[:, :3, 3]).max() <= 0.2
    np.testing.assert_allclose(a[:, :3, :3], c2w[:, :3, :3])  # jitter moves, never turns


def _write_camera_path(path: Path, c2w_opencv: np.ndarray, fov: list[float], **top) -> None:
    gl = opencv_to_opengl(torch.from_numpy(c2w_opencv)).numpy()
    doc = {
        "camera_type": "perspective",
        "render_height": 48,
        "render_width": 64,
        "camera_path": [
            {"camera_to_world": m.reshape(-1).tolist(), "fov": f, "aspect": 64 / 48} for m, f in zip(gl, fov)
        ],
        "fps": 24,
        "seconds": len(fov) / 24,
        **top,
    }
    path.write_text(json.dumps(doc))


def test_camera_path_round_trip(tmp_path):
    c2w = orbit([0.0, 0.0, 1.0], 3.0, 25.0, n=3)
    _write_camera_path(tmp_path / "camera_path.json", c2w, [50.0, 60.0, 70.0])
    path = load_camera_path(tmp_path / "camera_path.json")
    np.testing.assert_allclose(path.c2w, c2w, atol=1e-12)
    assert (path.width, path.height, path.fps) == (64, 48, 24.0)
    np.testing.assert_array_equal(path.fov_deg, [50.0, 60.0, 70.0])
    cams = path.cameras()
    # vertical FOV as nerfstudio: the top-edge centre ray is fov/2 off the optical axis
    top = generate_rays(cams, 1, torch.tensor([[32.0, 0.0]], dtype=torch.float64))
    assert math.degrees(math.acos(top.z_cam.item())) == pytest.approx(30.0, abs=1e-4)
    np.testing.assert_allclose(cams.c2w.double().numpy(), c2w, atol=1e-6)
    # fps from seconds when fps is absent
    _write_camera_path(tmp_path / "b.json", c2w, [50.0] * 3, fps=None, seconds=0.5)
    doc = json.loads((tmp_path / "b.json").read_text())
    del doc["fps"]
    (tmp_path / "b.json").write_text(json.dumps(doc))
    assert load_camera_path(tmp_path / "b.json").fps == 6.0


@pytest.mark.parametrize(
    "edit, problem",
    [
        (lambda d: d["camera_path"][1].update(camera_to_world=[1.0] * 12), "camera_path[1].camera_to_world"),
        (lambda d: d["camera_path"][0].pop("fov"), "camera_path[0].fov"),
        (lambda d: d.update(render_width=-3), "'render_width' must be a positive integer"),
        (lambda d: d.update(camera_path=[]), "non-empty list"),
        (lambda d: d.update(camera_type="equirectangular"), "not supported"),
        (lambda d: d["camera_path"][0]["camera_to_world"].__setitem__(0, 2.0), "not rigid"),
        (lambda d: d.update(fps=0), "'fps' must be a positive number"),
    ],
)
def test_malformed_camera_path_names_the_file(tmp_path, edit, problem):
    file = tmp_path / "camera_path.json"
    _write_camera_path(file, orbit([0, 0, 0], 2.0, 10.0, n=2), [50.0, 50.0])
    doc = json.loads(file.read_text())
    edit(doc)
    file.write_text(json.dumps(doc))
    with pytest.raises(NerfgenError) as e:
        load_camera_path(file)
    assert str(e.value).startswith(str(file)) and problem in str(e.value) and "\n" not in str(e.value)


def test_camera_path_not_json_or_missing(tmp_path):
    (tmp_path / "bad.json").write_text('{"camera_path": [\n  {"fov": 50,}\n]}')
    with pytest.raises(NerfgenError, match=r"bad.json: malformed JSON at line 2"):
        load_camera_path(tmp_path / "bad.json")
    with pytest.raises(NerfgenError, match="does not exist"):
        load_camera_path(tmp_path / "nope.json")
