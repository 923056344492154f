"""LiDAR metrics on held-out scans: which scans are held out, and the metrics against
hand-computed values for known rendered ranges."""

from __future__ import annotations

import math

import torch

from nerfgen.data.lidar import LidarScans
from nerfgen.train import lidar_eval


def _scans() -> LidarScans:
    poses = torch.eye(4).repeat(3, 1, 1)
    poses[:, 0, 3] = torch.tensor([0.0, 1.0, 2.0])
    directions = torch.nn.functional.normalize(torch.randn(7, 3), dim=-1)
    return LidarScans(
        sensor_to_world=poses,
        frame_ids=torch.tensor([10, 11, 12]),
        offsets=torch.tensor([0, 2, 5, 7]),
        directions=directions,
        ranges=torch.tensor([5.0, 6.0, 10.0, 20.0, 40.0, 7.0, 8.0]),
        intensity=torch.zeros(7),
    )


def test_held_out_scans_are_those_of_the_held_out_frames():
    scans = _scans()
    assert lidar_eval.held_out_scans(scans, torch.tensor([11, 12, 99])).tolist() == [1, 2]
    assert lidar_eval.held_out_scans(scans, None).numel() == 0


def test_metrics_match_hand_computed_values(monkeypatch):
    scans = _scans()
    seen = {}

    def fake(trained, origins, directions):
        seen["origins"], seen["directions"] = origins, directions
        # scan 1's returns (10, 20, 40 m) rendered at 10.05, 21, 40; the third one not returned
        return torch.tensor([10.05, 21.0, 40.0]), torch.tensor([0.9, 0.8, 0.2])

    monkeypatch.setattr(lidar_eval, "scan_ranges", fake)
    metrics = lidar_eval.lidar_metrics(None, scans, torch.tensor([1]))
    assert torch.equal(seen["origins"], torch.tensor([[1.0, 0, 0]] * 3))
    assert torch.equal(seen["directions"], scans.directions[2:5])
    assert metrics["scans"] == 1 and metrics["returns"] == 3
    # errors 0.05 and 1.0 m, relative 0.5 % and 5 %: torch's median of two is the lower one
    assert math.isclose(metrics["range_median_abs_error_m"], 0.05, rel_tol=1e-4)
    assert math.isclose(metrics["range_median_rel_error_pct"], 0.5, rel_tol=1e-4)
    assert math.isclose(metrics["within_10cm"], 0.5)
    assert math.isclose(metrics["drop_agreement"], 2 / 3)
