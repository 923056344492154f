"""LiDAR: preset geometry against the spec sheets, rays, exact sweeps of the GT street."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
from test_procedural_scenes import _distance_to_mesh  # exact point-to-triangle-soup distance

from nerfgen.classes import CLASS_IDS
from nerfgen.errors import NerfgenError
from nerfgen.procedural import load_scene
from nerfgen.procedural.lidar import lidar_scan_gt
from nerfgen.render.lidar_scan import intensity_proxy
from nerfgen.sensors.frames import ego_poses
from nerfgen.sensors.lidar import HDL32E, HDL64E, VLP16, LidarSpec, lidar_rays
from nerfgen.sensors.trajectories import drive

SCENES = Path(__file__).resolve().parent.parent / "scenes"


@pytest.fixture(scope="module")
def street():
    return load_scene(SCENES / "street.yaml")


def test_presets_match_spec_sheets():
    np.testing.assert_allclose(VLP16.elevation_deg, np.arange(-15, 16, 2))
    assert (VLP16.n_beams, VLP16.n_azimuth, VLP16.max_range) == (16, 1800, 100.0)
    hdl32 = np.array(HDL32E.elevation_deg)
    assert HDL32E.n_beams == 32 and (hdl32[0], hdl32[-1]) == (-30.67, 10.67)
    np.testing.assert_allclose(np.diff(hdl32), 4 / 3, atol=1e-3)
    assert (HDL32E.n_azimuth, HDL32E.max_range) == (2250, 100.0)
    hdl64 = np.array(HDL64E.elevation_deg)
    assert HDL64E.n_beams == 64 and hdl64[-1] == 2.0 and hdl64[0] == pytest.approx(-24.33)
    np.testing.assert_allclose(np.diff(hdl64[:32]), 0.5, atol=1e-4)  # lower block
    np.testing.assert_allclose(np.diff(hdl64[32:]), 1 / 3, atol=1e-4)  # upper block
    assert hdl64[32] == pytest.approx(-8.3333, abs=1e-4) and HDL64E.max_range == 120.0
    assert 0.08 <= HDL64E.azimuth_resolution_deg <= 0.17


def test_bad_spec_is_rejected():
    with pytest.raises(NerfgenError, match="ascending"):
        LidarSpec("x", (1.0, 0.0), 0.2, 0.5, 50.0)
    with pytest.raises(NerfgenError, match="min_range < max_range"):
        dataclasses.replace(VLP16, min_range=120.0)


def test_rays_unit_ring_order_and_full_circle():
    spec = dataclasses.replace(HDL32E, azimuth_resolution_deg=1.0)
    sensor_to_world = np.eye(4)
    sensor_to_world[:3, :3] = [[0, -1, 0], [1, 0, 0], [0, 0, 1]]  # facing +y
    sensor_to_world[:3, 3] = [3.0, 4.0, 1.7]
    origins, directions, ring, azimuth = lidar_rays(spec, sensor_to_world)
    assert len(ring) == 360 * 32
    np.testing.assert_allclose(np.linalg.norm(directions, axis=1), 1.0, atol=1e-12)
    np.testing.assert_array_equal(origins, np.broadcast_to([3.0, 4.0, 1.7], origins.shape))
    # firing order: ring cycles fastest; elevation (world z, sensor is level) follows the ring
    np.testing.assert_array_equal(ring[:64], np.tile(np.arange(32), 2))
    np.testing.assert_allclose(np.degrees(np.arcsin(directions[:, 2])), np.array(spec.elevation_deg)[ring], atol=1e-9)
    # azimuth covers the circle in whole steps; world heading = sensor azimuth + 90 degrees
    np.testing.assert_allclose(np.unique(np.round(np.degrees(azimuth), 9)), np.arange(360.0))
    heading = np.degrees(np.arctan2(directions[:, 1], directions[:, 0]))
    np.testing.assert_allclose((heading - np.degrees(azimuth) - 90 + 180) % 360 - 180, 0, atol=1e-9)


def _sweep(street, spec, x=-6.0):
    """A sweep from the eastbound lane of the street (ego on the ground, default mount)."""
    ego = ego_poses(drive([[x, -1.75], [x + 10, -1.75]], 10.0, 10.0, 1, height=0.0))[0]
    sensor_to_world = ego @ spec.sensor_to_ego
    scan = lidar_scan_gt(street, spec, sensor_to_world)
    world = scan.points_sensor.astype(np.float64) @ sensor_to_world[:3, :3].T + sensor_to_world[:3, 3]
    return scan, sensor_to_world, world


def test_gt_sweep_points_on_mesh_in_range_and_labelled(street):
    spec = dataclasses.replace(HDL64E, azimuth_resolution_deg=0.5)
    scan, sensor_to_world, world = _sweep(street, spec)
    assert scan.n_beams_fired == 64 * 720 and 0.5 * scan.n_beams_fired < len(scan.ring) < scan.n_beams_fired
    r = np.linalg.norm(scan.points_sensor, axis=1)
    assert r.min() >= spec.min_range and r.max() <= spec.max_range
    sample = np.random.default_rng(0).choice(len(world), 400, replace=False)
    assert _distance_to_mesh(street.vertices, street.faces, world[sample]).max() < 1e-4
    road = scan.class_id == CLASS_IDS["road"]
    assert road.sum() > 1000
    np.testing.assert_allclose(world[road, 2], 0.0, atol=1e-4)  # road top at z = 0
    assert 0 < scan.intensity.min() and scan.intensity.max() <= 1
    # points inside a parked car's box (above the road) belong to that car
    checked = 0
    for box in (b for b in street.instances if b.class_name == "car"):
        local = (world - box.center) @ box.rotation
        inside = np.all(np.abs(local) <= box.size / 2 + 1e-3, axis=1) & (world[:, 2] > 0.05)
        if inside.sum() >= 50:
            assert (scan.instance[inside] == box.instance_id).mean() >= 0.95
            assert (scan.class_id[inside] == CLASS_IDS["car"]).mean() >= 0.95
            checked += 1
    assert checked >= 2


def test_range_window_and_ring_elevations(street):
    near = dataclasses.replace(VLP16, azimuth_resolution_deg=2.0, min_range=5.0, max_range=12.0)
    scan, sensor_to_world, _ = _sweep(street, near)
    r = np.linalg.norm(scan.points_sensor.astype(np.float64), axis=1)
    assert r.min() >= 5.0 and r.max() <= 12.0
    elevation = np.degrees(np.arcsin(scan.points_sensor[:, 2] / r))
    np.testing.assert_allclose(elevation, np.array(near.elevation_deg)[scan.ring], atol=1e-4)
    full = _sweep(street, dataclasses.replace(near, min_range=0.5, max_range=100.0))[0]
    assert len(full.ring) > len(scan.ring) and full.n_beams_fired == scan.n_beams_fired == 16 * 180


def test_intensity_proxy():
    colour = np.array([[1.0, 1.0, 1.0], [0.5, 0.5, 0.5], [1.0, 0.0, 0.0], [1.0, 1.0, 1.0]])
    normal = np.array([[0, 0, 1.0], [0, 0, -1.0], [0, 0, 1.0], [0, 0, 0.0]])
    d = np.array([[0, 0, -1.0], [0, np.sqrt(0.75), 0.5], [0, 0, -1.0], [1.0, 0, 0]])
    np.testing.assert_allclose(intensity_proxy(colour, normal, d), [1.0, 0.25, 0.2126, 0.0], atol=1e-6)
