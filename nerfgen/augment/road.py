"""The road a drive follows: a polyline in the ground plane, its direction at every point,
and the cameras of a drive along it (nerfgen.sensors.trajectories.drive).

The road direction comes from the background's own camera rig: its first `line`
segment is the drive the background was captured along (the bundled street: the
eastbound lane), so objects are aligned with the way the data was driven. A trained run
of a real drive has no rig: its road is the drive its training cameras took
(`road_from_cameras`). A path can also be given explicitly (`Road(path=...)`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nerfgen.cameras import Cameras, focal_from_fov
from nerfgen.errors import NerfgenError
from nerfgen.mapping_reader import LIMIT
from nerfgen.procedural.spec import Rig
from nerfgen.sensors.trajectories import drive, path_points


@dataclass(frozen=True)
class Road:
    path: np.ndarray  # [K,2] world xy waypoints (K >= 2), driven from first to last
    eye_height: float  # world z of the drive's cameras
    fov_deg: float = 70.0  # horizontal field of view of the drive's cameras

    @property
    def length(self) -> float:
        return float(np.linalg.norm(np.diff(self.path, axis=0), axis=1).sum())

    def at(self, distance: np.ndarray, lateral: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """World xy [N,2] at arc length `distance` [N] and `lateral` [N] metres to the left
        of the path, and the path's heading there [N] (radians from +x)."""
        points, tangent = path_points(
            np.concatenate([self.path, np.zeros((len(self.path), 1))], 1), np.atleast_1d(distance)
        )
        left = np.stack([-tangent[:, 1], tangent[:, 0]], 1)
        return points[:, :2] + np.atleast_1d(lateral)[:, None] * left, np.arctan2(tangent[:, 1], tangent[:, 0])

    def cameras(self, frames: int, width: int, height: int) -> Cameras:
        """`frames` pinhole cameras evenly spaced from the path's start to its end, at
        `eye_height`, looking along the road."""
        step = self.length / max(frames - 1, 1)
        c2w = drive(self.path, speed=step, fps=1.0, n=frames, height=self.eye_height)
        focal = focal_from_fov(np.radians(self.fov_deg), width)
        return Cameras.create(c2w, focal, focal, width / 2, height / 2, width, height)


def road_from_rig(rig: Rig | None, where: str | Path | None) -> Road:
    """The drive of the rig's first `line` segment (from eye_from to eye_to, at its eye height)."""
    segment = next((s for s in rig.segments if s.type == "line"), None) if rig is not None else None
    if segment is None:
        raise NerfgenError(
            where,
            "the background has no camera rig with a 'line' segment to drive along; give the road path explicitly",
        )
    start, end = np.asarray(segment.eye_from, np.float64), np.asarray(segment.eye_to, np.float64)
    if np.linalg.norm(end[:2] - start[:2]) == 0:
        raise NerfgenError(where, "the rig's first line segment has zero length: no road direction")
    return Road(np.stack([start[:2], end[:2]]), float(start[2]), rig.fov_deg)


def road_from_cameras(c2w: np.ndarray, fov_deg: float, where: str | Path | None, segments: int = 8) -> Road:
    """The drive of a sequence of cameras (c2w [N,4,4], world z up): their positions'
    principal horizontal direction, cut into `segments` equal stretches whose mean
    lateral offsets make the polyline (it follows a gently curving road), at the cameras'
    mean height. Which way it is driven: the way the sequence moves."""
    xy = np.asarray(c2w, np.float64)[:, :2, 3]
    centre = xy.mean(0)
    _, _, axes = np.linalg.svd(xy - centre, full_matrices=False)
    along = (xy - centre) @ axes[0]
    if along.max() - along.min() < 1.0:
        raise NerfgenError(
            where, "the training cameras move less than 1 m: no road to drive along; give the road path explicitly"
        )
    if along[-1] < along[0]:
        axes[0], along = -axes[0], -along
    lateral = (xy - centre) @ np.array([-axes[0][1], axes[0][0]])
    edges = np.linspace(along.min(), along.max(), segments + 1)
    stretch = np.clip(np.searchsorted(edges, along, side="right") - 1, 0, segments - 1)
    stations = [
        (along[stretch == k].mean(), lateral[stretch == k].mean()) for k in range(segments) if (stretch == k).any()
    ]
    ends = [
        (along.min(), lateral[stretch == stretch[along.argmin()]].mean()),
        (along.max(), lateral[stretch == stretch[along.argmax()]].mean()),
    ]
    waypoints = np.array([ends[0], *stations, ends[1]])
    waypoints = waypoints[np.concatenate([[True], np.diff(waypoints[:, 0]) > 1e-6])]
    left = np.array([-axes[0][1], axes[0][0]])
    path = centre + waypoints[:, :1] * axes[0] + waypoints[:, 1:] * left
    return Road(path, float(np.asarray(c2w)[:, 2, 3].mean()), fov_deg)


def parse_path(text: str) -> np.ndarray:
    """'x0,y0,x1,y1[,...]' -> waypoints [K,2] (K >= 2)."""
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise NerfgenError(None, f"--path must be comma-separated numbers x0,y0,x1,y1,..., got {text!r}") from None
    if len(values) < 4 or len(values) % 2:
        raise NerfgenError(None, f"--path needs an even number (>= 4) of values x0,y0,x1,y1,..., got {len(values)}")
    if not all(abs(v) < LIMIT for v in values):  # NaN fails too
        raise NerfgenError(None, f"--path values must be finite and within +-{LIMIT:g} m, got {text!r}")
    waypoints = np.array(values).reshape(-1, 2)
    if not np.linalg.norm(np.diff(waypoints, axis=0), axis=1).all():
        raise NerfgenError(None, f"--path repeats a waypoint: each step must move, got {text!r}")
    return waypoints
