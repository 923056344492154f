"""LiDAR as a ray generator, and sweeps (`LidarScan`) from ground truth or a radiance field.

    spec = dataclasses.replace(HDL64E, azimuth_resolution_deg=0.2)
    sensor_to_world = ego_to_world @ spec.sensor_to_ego
    scan = lidar_scan_gt(scene, spec, sensor_to_world)             # exact, via cast_rays
    # radiance field: render lidar_rays(...), then returns_from_weights (returns.py),
    # intensity_proxy(rgb, normal, directions) and lidar_scan(...)

Sensor frame: x forward, y left, z up. Azimuth is measured from +x towards +y
(counter-clockwise seen from above) in [0, 2 pi); elevation from the xy plane.
Rays are in firing order: all beams of azimuth step 0 (ring 0 first), then step 1, ...,
so ray i has azimuth step i // n_beams and ring i % n_beams, and reshaping per-ray
values to [n_azimuth, n_beams] gives a range image. A sweep is instantaneous: the
ego-motion during the 0.1 s rotation (rolling shutter) is ignored.

Intensity proxy (deterministic, documented stand-in for calibrated reflectivity):
luminance of the surface colour (Rec. 709 weights) times |cos(incidence)|, in [0, 1];
no 1/r^2 falloff, since sensors report range-compensated reflectivity. Ground truth
uses the texture albedo and the exact normal; a radiance field uses its rendered rgb
and normal.
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from nerfgen.gt.build import GTScene
from nerfgen.gt.raycast import cast_rays
from nerfgen.labels.types import LidarScan
from nerfgen.sensors.frames import rotate
from nerfgen.sensors.lidar_specs import HDL32E, HDL64E, LIDAR_PRESETS, VLP16, LidarSpec

__all__ = [
    "HDL32E", "HDL64E", "LIDAR_PRESETS", "VLP16", "LidarRays", "LidarSpec",
    "beam_directions", "beam_indices", "beam_ranges", "intensity_proxy", "lidar_rays", "lidar_scan", "lidar_scan_gt",
]  # fmt: skip

LUMINANCE = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)  # Rec. 709


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


def lidar_rays(spec: LidarSpec, sensor_to_world: np.ndarray) -> LidarRays:
    """World rays of one sweep of `spec` from the pose sensor_to_world [4,4]."""
    sensor_to_world = np.asarray(sensor_to_world, dtype=np.float64)
    directions, ring, azimuth = beam_directions(spec)
    origins = np.broadcast_to(sensor_to_world[:3, 3], directions.shape).copy()
    return LidarRays(origins, rotate(directions, sensor_to_world[:3, :3]), ring, azimuth)


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


def lidar_scan_gt(scene: GTScene, spec: LidarSpec, sensor_to_world: np.ndarray) -> LidarScan:
    """Exact sweep of a ground-truth scene: first surface hit of every beam."""
    rays = lidar_rays(spec, sensor_to_world)
    hits = cast_rays(scene, rays.origins, rays.directions)
    intensity = intensity_proxy(hits.albedo, hits.normal, rays.directions)
    return lidar_scan(spec, sensor_to_world, rays, hits.range, hits.hit, intensity, hits.instance, hits.class_id)
