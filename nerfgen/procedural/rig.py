"""A scene's default camera rig -> `Cameras`, deterministic for a given seed."""

from __future__ import annotations

import math

import numpy as np

from nerfgen.cameras import Cameras, focal_from_fov, look_at
from nerfgen.procedural.spec import Rig, RigSegment
from nerfgen.sensors.trajectories import orbit_eyes, path_points

GOLDEN = (math.sqrt(5) - 1) / 2  # low-discrepancy step for orbit elevations


def rig_cameras(rig: Rig, views: int, width: int, height: int, seed: int) -> Cameras:
    """`views` pinhole cameras of `width` x `height` pixels along the rig's segments.

    Views are split over segments by `share`; `seed` jitters eyes, targets and the
    orbit's starting azimuth, so different seeds give different (but equally
    distributed) rigs and the same seed gives identical ones.
    """
    rng = np.random.default_rng(seed)
    eyes, targets = [], []
    for segment, count in zip(rig.segments, _split(views, [s.share for s in rig.segments])):
        e, t = (_orbit if segment.type == "orbit" else _line)(segment, count, rng)
        eyes.append(e + rng.uniform(-segment.jitter, segment.jitter, e.shape))
        targets.append(t + rng.uniform(-segment.jitter, segment.jitter, t.shape))
    c2w = look_at(np.concatenate(eyes), np.concatenate(targets))
    focal = focal_from_fov(math.radians(rig.fov_deg), width)
    return Cameras.create(c2w, focal, focal, width / 2, height / 2, width, height)


def _split(total: int, shares: list[float]) -> list[int]:
    """Integer counts proportional to `shares` summing to `total` (largest remainder)."""
    exact = np.asarray(shares) / sum(shares) * total
    counts = np.floor(exact).astype(int)
    for i in np.argsort(-(exact - counts), kind="stable")[: total - counts.sum()]:
        counts[i] += 1
    return counts.tolist()


def _orbit(s: RigSegment, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    i = np.arange(count)
    azimuth = 2 * np.pi * (i / max(count, 1) + rng.uniform())
    lo, hi = np.radians(s.elevation_deg)
    elevation = lo + (hi - lo) * ((i * GOLDEN + rng.uniform()) % 1.0)
    center = np.asarray(s.center, dtype=np.float64)
    return orbit_eyes(center, s.radius, azimuth, elevation), np.broadcast_to(center, (count, 3)).copy()


def _line(s: RigSegment, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    f = (np.arange(count) + rng.uniform(0.25, 0.75, count)) / max(count, 1)
    eyes = np.array([s.eye_from, s.eye_to], dtype=np.float64)
    targets = np.array([s.target_from, s.target_to], dtype=np.float64)
    return tuple(path_points(ends, f * np.linalg.norm(ends[1] - ends[0]))[0] for ends in (eyes, targets))
