"""Label errors against exact ground truth (nerfgen.evaluate): perfect on identical
frames, the expected numbers on known perturbations, None where nothing is measured."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest

from nerfgen.evaluate import LabelErrors, box_iou, mask_iou
from nerfgen.labels import correspondences, frame_labels
from nerfgen.procedural import GTRenderer, load_scene, rig_cameras
from nerfgen.procedural.lidar import lidar_scan_gt
from nerfgen.sensors.frames import mount
from nerfgen.sensors.lidar import VLP16

SCENES = Path(__file__).resolve().parent.parent / "scenes"


@pytest.fixture(scope="module")
def car_views():
    scene = load_scene(SCENES / "car.yaml")
    renderer = GTRenderer(scene)
    cameras = rig_cameras(scene.spec.rig, 2, 64, 48, 0)
    maps = [renderer.render(cameras, i) for i in range(2)]
    labels = [frame_labels(renderer, cameras, i, maps[i]) for i in range(2)]
    return scene, cameras, maps, labels


def test_ious():
    a = np.zeros((4, 4), bool)
    a[:2] = True
    b = np.zeros((4, 4), bool)
    b[1:3] = True
    assert mask_iou(a, b) == pytest.approx(4 / 12) and mask_iou(a & False, b & False) == 1.0
    assert box_iou(np.array([0, 0, 2, 2.0]), np.array([1, 0, 3, 2.0])) == pytest.approx(2 / 6)
    assert box_iou(None, None) == 1.0 and box_iou(None, np.array([0, 0, 1, 1.0])) == 0.0


def test_identical_frames_score_perfectly(car_views):
    scene, cameras, maps, labels = car_views
    errors = LabelErrors()
    for i in range(2):
        errors.add_frame(maps[i], labels[i], maps[i], labels[i])
    pair = correspondences(cameras, 0, 1, maps[0].depth_z, maps[1].depth_z)
    errors.add_correspondences(pair, pair, maps[0].depth_z)
    spec = dataclasses.replace(VLP16, azimuth_resolution_deg=5.0)
    scan = lidar_scan_gt(scene, spec, mount((-5.0, 0.0, 1.0)))
    errors.add_lidar(spec, scan, scan)
    m = errors.summary()
    assert m["depth_abs_rel"] == 0.0 and m["normal_median_deg"] == pytest.approx(0.0, abs=1e-3)
    assert m["mask_iou_mean"] == m["mask_iou_min"] == m["box_iou_mean"] == 1.0 and len(errors.mask_iou) == 2
    assert m["poses_exact"] == 1.0 and m["occlusion_error_max"] == m["truncation_error_max"] == 0.0
    assert m["correspondence_epe_median_px"] == 0.0 and m["correspondence_pck_3px"] == m["visibility_accuracy"] == 1.0
    assert m["lidar_drop_agreement"] == 1.0 and m["lidar_range_error_median_m"] == 0.0 and len(scan.points_sensor) > 0


def test_known_errors_are_measured(car_views):
    scene, cameras, maps, labels = car_views
    longer = dataclasses.replace(maps[0], depth_z=maps[0].depth_z * 1.1, instance=np.zeros_like(maps[0].instance))
    moved = dataclasses.replace(
        labels[0], instances=[dataclasses.replace(labels[0].instances[0], size=labels[0].instances[0].size * 2)]
    )
    errors = LabelErrors()
    errors.add_frame(longer, labels[0], maps[0], labels[0])
    errors.add_frame(maps[1], moved, maps[1], labels[1])  # a 3D box that differs from the exact one
    m = errors.summary()
    pixels = [int((f.depth_z > 0).sum()) for f in maps]
    assert m["depth_abs_rel"] == pytest.approx(0.1 * pixels[0] / sum(pixels), rel=1e-5)  # pooled over pixels
    assert m["mask_iou_min"] == 0.0 and m["poses_exact"] == 0.0

    spec = dataclasses.replace(VLP16, azimuth_resolution_deg=5.0)
    scan = lidar_scan_gt(scene, spec, mount((-5.0, 0.0, 1.0)))
    half = np.arange(len(scan.points_sensor)) % 2 == 0
    far = dataclasses.replace(scan, points_sensor=scan.points_sensor * 1.5)
    dropped = dataclasses.replace(
        scan, **{k: getattr(scan, k)[half] for k in ("points_sensor", "intensity", "ring", "instance", "class_id")}
    )
    errors = LabelErrors()
    errors.add_lidar(spec, far, scan)
    errors.add_lidar(spec, dropped, scan)
    m = errors.summary()
    n_beams = spec.n_beams * spec.n_azimuth
    assert m["lidar_drop_agreement"] == pytest.approx(1 - (~half).sum() / (2 * n_beams))
    assert m["lidar_range_rel_median"] == pytest.approx(0.5, abs=1e-6)  # n beams 50 % long, n/2 exact


def test_nothing_measured_is_none():
    m = LabelErrors().summary()
    assert m["poses_exact"] == 1.0
    assert all(v is None for k, v in m.items() if k != "poses_exact")
