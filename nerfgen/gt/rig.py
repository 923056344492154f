"""A scene's default camera rig -> `Cameras`, deterministic for a given seed."""
from __future__ import annotations

import math

import numpy as np

from nerfgen.cameras import Cameras, focal_from_fov
from nerfgen.gt.spec import Rig, RigSegment

GOLDEN = (math.sqrt(5) - 1) / 2  # low-discrepancy step for orbit elevations


def look_at(eyes: np.ndarray, targets: np.ndarray, up=(0.0, 0.0, 1.0)) -> np.ndarray:
    """OpenCV camera-to-world poses [N,4,4] float64 for eyes [N,3] looking at targets
    [N,3], with image "up" (-y) as close to world `up` as possible. The view direction
    must not be parallel to `up`."""
    forward = targets - eyes
    forward /= np.linalg.norm(forward, axis=1, keepdims=True)
    right = np.cross(forward, np.asarray(up, dtype=np.float64))
    right /= np.linalg.norm(right, axis=1, keepdims=True)
    down = np.cross(forward, right)
    c2w = np.tile(np.eye(4), (len(eyes), 1, 1))
    c2w[:, :3, 0], c2w[:, :3, 1], c2w[:, :3, 2], c2w[:, :3, 3] = right, down, forward, eyes
    return c2w


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
    direction = np.stack(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)], -1
    )
    center = np.asarray(s.center, dtype=np.float64)
    return center + s.radius * direction, np.broadcast_to(center, (count, 3)).copy()


def _line(s: RigSegment, count: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    f = ((np.arange(count) + rng.uniform(0.25, 0.75, count)) / max(count, 1))[:, None]
    eye_from, eye_to = np.asarray(s.eye_from), np.asarray(s.eye_to)
    target_from, target_to = np.asarray(s.target_from), np.asarray(s.target_to)
    return eye_from + f * (eye_to - eye_from), target_from + f * (target_to - target_from)
