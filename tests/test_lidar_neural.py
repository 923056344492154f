"""Neural LiDAR: sweeps of a composed scene of analytic box fields through
`NeuralSceneRenderer.render_lidar` against the same beams ray cast on its exact twin
(`GTRenderer.render_lidar`, Embree): median range error <= 2% and ray drop agreeing on
>= 98% of the beams, plus labels and intensity where both return."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
from test_compose import both, composed, ground_background

from nerfgen.classes import CLASS_IDS
from nerfgen.render.frame import LidarScan
from nerfgen.render.lidar_scan import beam_indices
from nerfgen.sensors.frames import mount
from nerfgen.sensors.lidar import HDL32E

SPEC = dataclasses.replace(HDL32E, azimuth_resolution_deg=4.0)  # 32 x 90 beams: a test-sized sweep
OBJECTS = [
    {"instance_id": 1, "position": [3.0, 0.5, 0], "yaw_deg": 30},
    {"instance_id": 2, "position": [-2.5, -2.0, 0], "yaw_deg": 0, "scale": 1.5},
    {"instance_id": 3, "position": [0.5, 3.5, 0], "rotation_deg": [0, 0, -20], "scale": 0.7},
]


def by_beam(spec, scan: LidarScan) -> dict[str, np.ndarray]:
    """Per-beam arrays over the whole sweep (firing order): returned, range, instance, class, intensity."""
    n = spec.n_beams * spec.n_azimuth
    beam = beam_indices(spec, scan)
    assert len(np.unique(beam)) == len(beam)  # one return per beam
    out = {
        "returned": np.zeros(n, bool),
        "range": np.zeros(n),
        "instance": np.zeros(n, np.int32),
        "class_id": np.zeros(n, np.int32),
        "intensity": np.zeros(n, np.float32),
    }
    out["returned"][beam] = True
    out["range"][beam] = np.linalg.norm(scan.points_sensor.astype(np.float64), axis=1)
    for key in ("instance", "class_id", "intensity"):
        out[key][beam] = getattr(scan, key)
    return out


@pytest.fixture(scope="module")
def sweeps(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("lidar_neural")
    neural, exact = both(composed(tmp, OBJECTS, ground_background(tmp, parked=True)))
    out = []
    for xy, yaw in (((0.0, -0.5), 0.0), ((2.0, -2.5), 120.0)):
        sensor_to_world = mount((*xy, 0.0), yaw_deg=yaw) @ SPEC.sensor_to_ego  # ego on the ground, LiDAR 1.73 m up
        a, b = neural.render_lidar(SPEC, sensor_to_world), exact.render_lidar(SPEC, sensor_to_world)
        for scan in (a, b):
            np.testing.assert_array_equal(scan.sensor_to_world, sensor_to_world)
            assert scan.n_beams_fired == SPEC.n_beams * SPEC.n_azimuth
        out.append((by_beam(SPEC, a), by_beam(SPEC, b)))
    return out


def test_neural_ranges_within_2_percent_and_drops_agree(sweeps):
    for a, b in sweeps:
        assert b["returned"].mean() > 0.15 and (~b["returned"]).mean() > 0.3  # both kinds of beam are tested
        drop_agreement = (a["returned"] == b["returned"]).mean()
        assert drop_agreement >= 0.98, drop_agreement
        both_return = a["returned"] & b["returned"]
        relative = np.abs(a["range"] - b["range"])[both_return] / b["range"][both_return]
        assert np.median(relative) <= 0.02 and np.quantile(relative, 0.9) <= 0.05, np.quantile(relative, [0.5, 0.9])


def test_neural_points_carry_the_twins_labels_and_intensity(sweeps):
    seen = set()
    for a, b in sweeps:
        both_return = a["returned"] & b["returned"]
        assert (a["instance"] == b["instance"])[both_return].mean() > 0.97
        assert (a["class_id"] == b["class_id"])[both_return].mean() > 0.97
        assert (a["class_id"][a["instance"] > 0] == CLASS_IDS["car"]).all()  # every object is a car
        seen |= set(np.unique(a["instance"][both_return]).tolist())
        # Same solid colour in field and mesh: intensity differs only through the normals.
        assert np.median(np.abs(a["intensity"] - b["intensity"])[both_return]) < 0.01
    assert seen == {0, 1, 2, 3}


def test_empty_scene_drops_every_beam(tmp_path):
    neural, _ = both(composed(tmp_path, [{"instance_id": 1, "position": [100.0, 0.0, 0.0]}]))
    scan = neural.render_lidar(SPEC, mount((0.0, 0.0, 1.73)))  # the only object is beyond max_range
    assert len(scan.ring) == 0 and scan.n_beams_fired == SPEC.n_beams * SPEC.n_azimuth
