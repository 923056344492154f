"""LiDAR as a ray generator: the beams of one sweep of a `LidarSpec` in world coordinates.

    spec = dataclasses.replace(HDL64E, azimuth_resolution_deg=0.2)
    rays = lidar_rays(spec, ego_to_world @ spec.sensor_to_ego)
    # a renderer casts them: nerfgen.procedural.lidar (exact), nerfgen.scene.lidar (fields),
    # and nerfgen.render.lidar_scan turns per-ray results into a LidarScan

Sensor frame: x forward, y left, z up. Azimuth is measured from +x towards +y
(counter-clockwise seen from above) in [0, 2 pi); elevation from the xy plane.
Rays are in firing order: all beams of azimuth step 0 (ring 0 first), then step 1, ...,
so ray i has azimuth step i // n_beams and ring i % n_beams, and reshaping per-ray
values to [n_azimuth, n_beams] gives a range image. A sweep is instantaneous: the
ego-motion during the 0.1 s rotation (rolling shutter) is ignored.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nerfgen.sensors.frames import rotate
from nerfgen.sensors.lidar_specs import HDL32E, HDL64E, LIDAR_PRESETS, VLP16, LidarSpec

__all__ = ["HDL32E", "HDL64E", "LIDAR_PRESETS", "VLP16", "LidarRays", "LidarSpec", "beam_directions", "lidar_rays"]


class LidarRays(NamedTuple):
    """One sweep's rays in world coordinates, in firing order (see module docstring)."""

    origins: np.ndarray  # [N,3] float64, all the sensor origin
    directions: np.ndarray  # [N,3] float64 unit
    ring: np.ndarray  # [N] int32 beam index, 0 = lowest elevation
    azimuth: np.ndarray  # [N] float64 radians in [0, 2 pi), sensor frame


def beam_directions(spec: LidarSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Sensor-frame unit directions [N,3] float64, ring [N] int32 and azimuth [N] float64
    of one sweep in firing order, N = n_azimuth * n_beams."""
    azimuth = np.repeat(2 * np.pi * np.arange(spec.n_azimuth) / spec.n_azimuth, spec.n_beams)
    ring = np.tile(np.arange(spec.n_beams, dtype=np.int32), spec.n_azimuth)
    elevation = np.radians(np.asarray(spec.elevation_deg, dtype=np.float64))[ring]
    directions = np.stack(
        [np.cos(elevation) * np.cos(azimuth), np.cos(elevation) * np.sin(azimuth), np.sin(elevation)], -1
    )
    return directions, ring, azimuth


def lidar_rays(spec: LidarSpec, sensor_to_world: np.ndarray) -> LidarRays:
    """World rays of one sweep of `spec` from the pose sensor_to_world [4,4]."""
    sensor_to_world = np.asarray(sensor_to_world, dtype=np.float64)
    directions, ring, azimuth = beam_directions(spec)
    origins = np.broadcast_to(sensor_to_world[:3, 3], directions.shape).copy()
    return LidarRays(origins, rotate(directions, sensor_to_world[:3, :3]), ring, azimuth)
