"""Camera trajectories: functions returning OpenCV camera-to-world poses [N,4,4] float64.

World z-up, metres. `orbit` circles a centre looking at it; `drive` follows a road
polyline at a speed and frame rate, looking along the heading (a dataset split's own
cameras: `Dataset.subset(split).cameras`). nerfstudio camera paths are read by
`nerfgen.sensors.camera_path`. For a rig on a vehicle, turn a trajectory into ego poses
with `nerfgen.sensors.frames.ego_poses`.
"""

from __future__ import annotations

import numpy as np

from nerfgen.cameras import look_at
from nerfgen.errors import NerfgenError

UP = (0.0, 0.0, 1.0)


def orbit_eyes(center, radius: float, azimuth: np.ndarray, elevation: np.ndarray) -> np.ndarray:
    """Points [N,3] on the sphere of `radius` around `center` [3] at azimuth [N] (radians,
    counter-clockwise from +x seen from above) and elevation [N] (radians above the xy plane)."""
    azimuth, elevation = np.asarray(azimuth, np.float64), np.asarray(elevation, np.float64)
    direction = np.stack(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)], -1
    )
    return np.asarray(center, dtype=np.float64) + radius * direction


def orbit(center, radius: float, elevation_deg: float, n: int, start_azimuth_deg: float = 0.0) -> np.ndarray:
    """`n` poses [n,4,4] evenly spaced in azimuth on a circle of `radius` metres around
    `center` [3] at `elevation_deg` (|elevation| < 90), each looking at `center`."""
    if not abs(elevation_deg) < 90:
        raise NerfgenError(None, f"orbit elevation must be within (-90, 90) degrees, got {elevation_deg}")
    azimuth = np.radians(start_azimuth_deg) + 2 * np.pi * np.arange(n) / max(n, 1)
    eyes = orbit_eyes(center, radius, azimuth, np.full(n, np.radians(elevation_deg)))
    return look_at(eyes, np.broadcast_to(np.asarray(center, np.float64), (n, 3)), UP)


def path_points(waypoints: np.ndarray, distance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Points [N,3] at arc length `distance` [N] along the polyline `waypoints` [K,3]
    (K >= 2), and the unit tangents [N,3] of the segments they lie on (zero on a
    zero-length path). Distances beyond either end extrapolate along the end segment."""
    waypoints = np.asarray(waypoints, dtype=np.float64)
    distance = np.asarray(distance, dtype=np.float64)
    segment = np.diff(waypoints, axis=0)  # [K-1,3]
    length = np.linalg.norm(segment, axis=1)
    start = np.concatenate([[0.0], np.cumsum(length)])  # arc length at each waypoint [K]
    i = np.clip(np.searchsorted(start, distance, side="right") - 1, 0, len(segment) - 1)
    safe_length = np.where(length > 0, length, 1.0)[i]
    tangent = segment[i] / safe_length[:, None]
    return waypoints[i] + tangent * (distance - start[i])[:, None], tangent


def drive(
    path,
    speed: float,
    fps: float,
    n: int,
    lateral_offset: float = 0.0,
    height: float = 1.6,
    jitter: float = 0.0,
    seed: int = 0,
) -> np.ndarray:
    """`n` poses [n,4,4] of a camera driving along `path` and looking along the heading.

    path: road centre-line waypoints [K,2] (on z = 0) or [K,3] (K >= 2), driven from the
    first to the last. Frame i is at arc length i * speed / fps (m/s, frames/s), shifted
    `lateral_offset` metres to the left of the heading and `height` metres up; the
    optical axis is the segment's direction (so heading changes at waypoints). `jitter`
    adds seeded uniform noise of up to that many metres to every position, translating
    the camera without turning it.
    """
    path = np.asarray(path, dtype=np.float64)
    if path.ndim != 2 or path.shape[1] not in (2, 3) or len(path) < 2:
        raise NerfgenError(None, f"drive path must have shape [K>=2, 2 or 3], got {list(path.shape)}")
    if not (speed > 0 and fps > 0):
        raise NerfgenError(None, f"drive needs positive speed and fps, got speed={speed}, fps={fps}")
    if path.shape[1] == 2:
        path = np.concatenate([path, np.zeros((len(path), 1))], 1)
    on_road, heading = path_points(path, np.arange(n) * speed / fps)
    left = np.cross(UP, heading)
    left /= np.linalg.norm(left, axis=1, keepdims=True)
    eyes = on_road + lateral_offset * left + np.array([0.0, 0.0, height])
    eyes += np.random.default_rng(seed).uniform(-jitter, jitter, eyes.shape)
    return look_at(eyes, eyes + heading, UP)
