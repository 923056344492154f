"""`nerfgen render --lidar`: one sweep per frame through the scene's renderer, mounted on a
level ego frame under the camera, written as raw lidar/*.npz, pointcloud/*.ply and KITTI
velodyne/*.bin + calib; the recorded command reproduces the bytes."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
from plyfile import PlyData
from test_render_cli import SMALL, files
from test_writers_kitti import read_calib

from nerfgen.cli import main
from nerfgen.procedural import load_scene
from nerfgen.procedural.lidar import lidar_scan_gt
from nerfgen.sensors.frames import ground_ego_poses, mount
from nerfgen.sensors.lidar import HDL32E
from nerfgen.writers.raw import read_raw_frame, read_raw_lidar, read_raw_meta

SCENES = Path(__file__).resolve().parent.parent / "scenes"
LIDAR = ["--lidar", "hdl32e", "--lidar-azimuth-deg", "2.0", "--lidar-mount", "0.5", "0", "1.73", "0", "0", "10"]


@pytest.fixture(scope="module")
def street_out(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("render_lidar") / "street"
    main(
        [
            "render",
            str(SCENES / "street.yaml"),
            "--out",
            str(out),
            *SMALL,
            "--trajectory",
            "drive",
            *LIDAR,
            "--format",
            "kitti",
        ]
    )
    return out


def test_ground_ego_frame_is_level_under_the_camera():
    c2w = np.eye(4)[None].repeat(2, 0)
    c2w[0, :3, :3] = mount(pitch_deg=25.0, yaw_deg=40.0)[:3, :3] @ np.array([[0, 0, 1], [-1, 0, 0], [0, -1, 0]])
    c2w[1, :3, :3] = np.diag([1.0, -1.0, -1.0])  # straight down, image up = world +y
    c2w[:, :3, 3] = [[3.0, -2.0, 1.6], [1.0, 1.0, 10.0]]
    ego = ground_ego_poses(c2w)
    np.testing.assert_allclose(ego[0], mount((3.0, -2.0, 0.0), yaw_deg=40.0), atol=1e-12)
    np.testing.assert_allclose(ego[1], mount((1.0, 1.0, 0.0), yaw_deg=90.0), atol=1e-12)


def test_sweeps_are_the_exact_scans_from_the_mount(street_out):
    meta = read_raw_meta(street_out / "raw")
    assert meta["lidar"]["name"] == "HDL-32E" and meta["lidar"]["azimuth_resolution_deg"] == 2.0
    spec = dataclasses.replace(HDL32E, azimuth_resolution_deg=2.0, sensor_to_ego=mount((0.5, 0.0, 1.73), yaw_deg=10.0))
    np.testing.assert_allclose(meta["lidar"]["sensor_to_ego"], spec.sensor_to_ego)
    street = load_scene(SCENES / "street.yaml")
    for index in range(2):
        c2w = read_raw_frame(street_out / "raw", index)[1].c2w
        scan = read_raw_lidar(street_out / "raw", index)
        pose = scan.sensor_to_world
        np.testing.assert_allclose(pose, ground_ego_poses(c2w[None])[0] @ spec.sensor_to_ego)
        assert pose[2, 3] == pytest.approx(1.73) and pose[2, 2] == pytest.approx(1.0)  # level, KITTI height
        exact = lidar_scan_gt(street, spec, pose)  # the renderer's sweep is exactly this
        for key in ("points_sensor", "intensity", "ring", "instance", "class_id"):
            np.testing.assert_array_equal(getattr(scan, key), getattr(exact, key))
        assert scan.n_beams_fired == 32 * 180 and len(scan.ring) > 1000 and (scan.instance > 0).any()


def test_ply_and_kitti_carry_the_same_points(street_out):
    for index in range(2):
        scan = read_raw_lidar(street_out / "raw", index)
        name = f"{index:06d}"
        vertex = PlyData.read(str(street_out / "raw" / "pointcloud" / f"{name}.ply"))["vertex"]
        world = scan.points_sensor.astype(np.float64) @ scan.sensor_to_world[:3, :3].T + scan.sensor_to_world[:3, 3]
        np.testing.assert_allclose(np.stack([vertex["x"], vertex["y"], vertex["z"]], 1), world, atol=1e-5)
        np.testing.assert_array_equal(vertex["instance"], scan.instance)
        np.testing.assert_array_equal(vertex["class"], scan.class_id)
        velodyne = np.fromfile(street_out / "kitti" / "training" / "velodyne" / f"{name}.bin", "<f4").reshape(-1, 4)
        np.testing.assert_array_equal(velodyne, np.column_stack([scan.points_sensor, scan.intensity]))
        c2w = read_raw_frame(street_out / "raw", index)[1].c2w
        calib = read_calib(street_out / "kitti" / "training" / "calib" / f"{name}.txt")
        np.testing.assert_allclose(
            calib["Tr_velo_to_cam"].reshape(3, 4), (np.linalg.inv(c2w) @ scan.sensor_to_world)[:3], atol=1e-9
        )


def test_recorded_command_reproduces_the_bytes(street_out, tmp_path):
    command = read_raw_meta(street_out / "raw")["command"]
    out = command.index("--out") + 1
    assert command[out] == str(street_out)
    command[out] = str(tmp_path / "again")
    main(command[1:])
    first, again = files(street_out), files(tmp_path / "again")
    assert again.keys() == first.keys()
    differ = sorted(k for k in first if first[k] != again[k])  # only the --out path recorded in them
    assert differ == ["kitti/manifest.json", "raw/manifest.json", "raw/meta.json"], differ
    assert json.loads(again["raw/meta.json"])["command"] == command
