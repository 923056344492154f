"""LiDAR sweeps (`LidarScan`) from a renderer's per-ray results, and comparing sweeps.

Intensity proxy (deterministic, documented stand-in for calibrated reflectivity):
luminance of the surface colour (Rec. 709 weights) times |cos(incidence)|, in [0, 1];
no 1/r^2 falloff, since sensors report range-compensated reflectivity. Ground truth
uses the texture albedo and the exact normal; a radiance field uses its rendered rgb
and normal. Ray order and frames: nerfgen.sensors.lidar.
"""

from __future__ import annotations

import numpy as np

from nerfgen.render.frame import LidarScan
from nerfgen.sensors.frames import rotate
from nerfgen.sensors.lidar import LidarRays
from nerfgen.sensors.lidar_specs import LidarSpec

LUMINANCE = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)  # Rec. 709


def intensity_proxy(colour: np.ndarray, normal: np.ndarray, directions: np.ndarray) -> np.ndarray:
    """Intensity [N] float32 in [0, 1]: luminance(colour [N,3]) * |dot(normal [N,3] unit,
    directions [N,3] unit)|; 0 where the normal is 0 (no surface)."""
    cos = np.abs(np.einsum("ij,ij->i", np.asarray(normal, np.float64), np.asarray(directions, np.float64)))
    luminance = np.einsum("ij,j->i", np.asarray(colour, np.float32), LUMINANCE)
    return np.clip(luminance * cos.astype(np.float32), 0.0, 1.0)


def lidar_scan(
    spec: LidarSpec,
    sensor_to_world: np.ndarray,
    rays: LidarRays,
    range_: np.ndarray,
    returned: np.ndarray,
    intensity: np.ndarray,
    instance: np.ndarray,
    class_id: np.ndarray,
) -> LidarScan:
    """A `LidarScan` from per-ray results ([N] each, N = len(rays.ring)).

    Keeps rays that `returned` with range_ (metres along the unit ray) within
    [spec.min_range, spec.max_range]; the rest count as fired but dropped.
    """
    range_ = np.asarray(range_, dtype=np.float64)
    keep = np.asarray(returned, bool) & (range_ >= spec.min_range) & (range_ <= spec.max_range)
    rotation = np.asarray(sensor_to_world, dtype=np.float64)[:3, :3]
    directions_sensor = rotate(rays.directions[keep], rotation.T)
    return LidarScan(
        sensor_to_world=np.asarray(sensor_to_world, dtype=np.float64).copy(),
        points_sensor=(range_[keep, None] * directions_sensor).astype(np.float32),
        intensity=np.asarray(intensity, np.float32)[keep],
        ring=rays.ring[keep].astype(np.int32),
        instance=np.asarray(instance)[keep].astype(np.int32),
        class_id=np.asarray(class_id)[keep].astype(np.int32),
        n_beams_fired=len(rays.ring),
    )


def beam_indices(spec: LidarSpec, scan: LidarScan) -> np.ndarray:
    """Firing-order index [N] int64 (azimuth step * n_beams + ring) of each returned point
    of `scan`, recovered from its direction: compares sweeps of one spec beam by beam."""
    x, y = scan.points_sensor[:, 0].astype(np.float64), scan.points_sensor[:, 1].astype(np.float64)
    step = np.rint(np.arctan2(y, x) * spec.n_azimuth / (2 * np.pi)).astype(np.int64) % spec.n_azimuth
    return step * spec.n_beams + scan.ring


def beam_ranges(spec: LidarSpec, scan: LidarScan) -> tuple[np.ndarray, np.ndarray]:
    """(returned [n] bool, range [n] float64 metres, 0 where dropped) over every beam of a
    sweep of `spec` in firing order, n = n_azimuth * n_beams: two sweeps of one spec from
    one pose compare beam by beam."""
    n = spec.n_beams * spec.n_azimuth
    returned, range_ = np.zeros(n, bool), np.zeros(n)
    beam = beam_indices(spec, scan)
    returned[beam] = True
    range_[beam] = np.linalg.norm(scan.points_sensor.astype(np.float64), axis=1)
    return returned, range_
