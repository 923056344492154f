"""Spinning multi-beam LiDAR models and presets from public Velodyne spec sheets.

A spinning LiDAR fires a column of beams (one per laser, fixed elevations) at evenly
spaced azimuths over 360 degrees per sweep. The presets model the nominal geometry
only; real units differ per device by factory calibration (per-laser elevation,
azimuth and distance corrections, beam origins a few cm off the spin axis), which is
ignored here: every beam starts at the sensor origin.

Sources (spec sheets and user manuals, Velodyne LiDAR):
- VLP-16 ("Puck"): 16 lasers, vertical FOV +15 to -15 deg, 2.0 deg apart; horizontal
  resolution 0.1-0.4 deg (0.2 deg at 10 Hz); range up to 100 m.
- HDL-32E: 32 lasers, vertical FOV +10.67 to -30.67 deg, ~1.33 deg apart; horizontal
  resolution 0.08-0.33 deg (0.16 deg at 10 Hz); range up to ~100 m (80-100 m).
- HDL-64E (S2/S3): 64 lasers, vertical FOV +2 to -24.9 deg (26.9 deg) in two blocks of
  32 lasers with different spacing: the upper block spans +2 to about -8.33 deg (1/3 deg
  apart), the lower block about -8.83 to -24.33 deg (1/2 deg apart); the spec sheet's
  -24.9 deg includes the per-unit calibration spread, which a nominal model cannot have.
  Horizontal resolution 0.08 deg at 5 Hz to 0.35 deg at 20 Hz (~0.17 deg at 10 Hz);
  range up to 120 m. The manual gives a minimum return distance of about 3 ft (0.9 m).
Minimum ranges of VLP-16 (0.5 m) and HDL-32E (1.0 m) are approximations of the sheets'
"~1 m" blind zone.

The mount pose (`sensor_to_ego`) defaults to KITTI's Velodyne height, 1.73 m above an
ego origin on the ground. Change any field with `dataclasses.replace(HDL64E, ...)`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from nerfgen.errors import NerfgenError
from nerfgen.sensors.frames import mount

LidarChoice = Literal["none", "vlp16", "hdl32e", "hdl64e"]
"""How command lines name a LiDAR: none, or a preset (`chosen_lidar` turns it into a LidarSpec)."""

KITTI_LIDAR_HEIGHT = 1.73  # m above the ground (KITTI setup)
# Finest firing step a command may ask for: 36000 firings per sweep (real units: >= 0.08).
MIN_AZIMUTH_DEG = 0.01
MAX_MOUNT = 1e6  # |x|, |y|, |z| (m) and |angle| (deg) of a mount pose


@dataclass(frozen=True)
class LidarSpec:
    name: str
    elevation_deg: tuple[float, ...]  # per beam, ascending: ring r fires at elevation_deg[r]
    azimuth_resolution_deg: float  # angle between firings; rounded so a sweep is whole steps
    min_range: float  # m; returns closer than this are dropped
    max_range: float  # m; returns beyond this (and misses) are dropped
    sensor_to_ego: np.ndarray = field(default_factory=lambda: mount((0.0, 0.0, KITTI_LIDAR_HEIGHT)))

    def __post_init__(self) -> None:
        el = np.asarray(self.elevation_deg, dtype=np.float64)
        if el.ndim != 1 or len(el) == 0 or not (np.all(np.diff(el) > 0) and np.all(np.abs(el) < 90)):
            raise NerfgenError(None, f"LiDAR {self.name!r}: elevations must be ascending within (-90, 90) degrees")
        if not 0 < self.azimuth_resolution_deg <= 360:
            raise NerfgenError(None, f"LiDAR {self.name!r}: azimuth resolution must be in (0, 360] degrees")
        if not 0 <= self.min_range < self.max_range:
            raise NerfgenError(None, f"LiDAR {self.name!r}: need 0 <= min_range < max_range")

    @property
    def n_beams(self) -> int:
        return len(self.elevation_deg)

    @property
    def n_azimuth(self) -> int:
        """Firings per sweep: 360 / resolution, rounded to whole steps."""
        return max(1, round(360.0 / self.azimuth_resolution_deg))


def _evenly(top: float, bottom: float, n: int) -> tuple[float, ...]:
    """n elevations from bottom to top inclusive, ascending, rounded to 1e-4 deg."""
    return tuple(round(float(v), 4) for v in np.linspace(bottom, top, n))


VLP16 = LidarSpec("VLP-16", _evenly(15.0, -15.0, 16), 0.2, 0.5, 100.0)
HDL32E = LidarSpec("HDL-32E", _evenly(10.67, -30.67, 32), 0.16, 1.0, 100.0)
HDL64E = LidarSpec(
    "HDL-64E",
    _evenly(-8.83, -24.33, 32) + _evenly(2.0, 2.0 - 31 / 3, 32),  # lower block, then upper block
    0.17,
    0.9,
    120.0,
)
LIDAR_PRESETS: dict[str, LidarSpec] = {s.name: s for s in (VLP16, HDL32E, HDL64E)}

_PRESETS_BY_CHOICE = {"vlp16": VLP16, "hdl32e": HDL32E, "hdl64e": HDL64E}


def chosen_lidar(
    choice: LidarChoice,
    mount_pose: tuple[float, float, float, float, float, float] | None = None,
    azimuth_deg: float | None = None,
) -> LidarSpec | None:
    """The preset named `choice` (None for "none"), mounted at `mount_pose` (x y z metres,
    roll pitch yaw degrees on the ego frame; default the preset's) and firing every
    `azimuth_deg` degrees (default the preset's)."""
    if mount_pose is not None and not all(abs(v) < MAX_MOUNT for v in mount_pose):  # NaN fails too
        raise NerfgenError(
            None, f"--lidar-mount must be 6 finite numbers within +-{MAX_MOUNT:g}, got {list(mount_pose)}"
        )
    if azimuth_deg is not None and not MIN_AZIMUTH_DEG <= azimuth_deg <= 360:
        raise NerfgenError(None, f"--lidar-azimuth-deg must be in [{MIN_AZIMUTH_DEG}, 360], got {azimuth_deg}")
    if choice == "none":
        return None
    spec = _PRESETS_BY_CHOICE[choice]
    if mount_pose is not None:
        x, y, z, roll, pitch, yaw = mount_pose
        spec = dataclasses.replace(spec, sensor_to_ego=mount((x, y, z), roll, pitch, yaw))
    if azimuth_deg is not None:
        spec = dataclasses.replace(spec, azimuth_resolution_deg=azimuth_deg)
    return spec
