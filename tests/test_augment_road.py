"""The road of a trained real drive: the drive its training cameras took."""

from __future__ import annotations

import numpy as np
import pytest

from nerfgen.augment.road import road_from_cameras
from nerfgen.errors import NerfgenError
from nerfgen.sensors.trajectories import drive


def _cameras_on(path: np.ndarray, n: int = 40, height: float = 1.65) -> np.ndarray:
    length = np.linalg.norm(np.diff(path, axis=0), axis=1).sum()
    return drive(path, speed=length / (n - 1), fps=1.0, n=n, height=height)


def test_a_curving_drive_becomes_a_polyline_through_its_cameras():
    t = np.linspace(0, 1, 50)
    curve = np.stack([40 * t - 5, 3 * t**2 + 2], 1)  # 40 m east, bending 3 m north
    c2w = _cameras_on(curve)
    road = road_from_cameras(c2w, 70.0, "run")
    assert road.eye_height == pytest.approx(1.65) and road.fov_deg == 70.0
    np.testing.assert_allclose(road.path[0], curve[0], atol=0.3)
    np.testing.assert_allclose(road.path[-1], curve[-1], atol=0.3)
    # Every camera lies within 15 cm of the road (the drive it was on).
    samples, _ = road.at(np.linspace(0, road.length, 2000), np.zeros(2000))
    gaps = np.linalg.norm(c2w[:, None, :2, 3] - samples[None], axis=-1).min(1)
    assert gaps.max() < 0.15


def test_the_road_is_driven_the_way_the_cameras_moved():
    straight = np.array([[10.0, 0.0], [-20.0, 0.0]])  # westbound
    road = road_from_cameras(_cameras_on(straight), 60.0, "run")
    assert road.path[0][0] > road.path[-1][0]


def test_cameras_that_stand_still_have_no_road():
    c2w = np.repeat(np.eye(4)[None], 5, 0)
    with pytest.raises(NerfgenError, match="no road to drive along"):
        road_from_cameras(c2w, 60.0, "run")


def test_a_contracted_fields_ground_is_probed_from_the_drives_eye_height():
    from types import SimpleNamespace

    import torch

    from nerfgen.augment.probe import FieldProbe

    field = SimpleNamespace(
        bounds=torch.tensor([[-80.0, -60.0, -9.0], [90.0, 70.0, 55.0]]), scale=1.0, to_world=torch.eye(4)
    )
    assert FieldProbe(field, 0.15, 0.5).bounds()[1, 2] == 55.0  # the sky of a real drive's field
    assert FieldProbe(field, 0.15, 0.5, ceiling=1.65).bounds()[1, 2] == 1.65
