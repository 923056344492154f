"""Exact LiDAR sweeps of the procedural mesh world: the first surface hit of every beam."""

from __future__ import annotations

import numpy as np

from nerfgen.procedural.build import GTScene
from nerfgen.procedural.raycast import cast_rays
from nerfgen.render.frame import LidarScan
from nerfgen.render.lidar_scan import intensity_proxy, lidar_scan
from nerfgen.sensors.lidar import lidar_rays
from nerfgen.sensors.lidar_specs import LidarSpec


def lidar_scan_gt(scene: GTScene, spec: LidarSpec, sensor_to_world: np.ndarray) -> LidarScan:
    """Exact sweep of a ground-truth scene: first surface hit of every beam."""
    rays = lidar_rays(spec, sensor_to_world)
    hits = cast_rays(scene, rays.origins, rays.directions)
    intensity = intensity_proxy(hits.albedo, hits.normal, rays.directions)
    return lidar_scan(spec, sensor_to_world, rays, hits.range, hits.hit, intensity, hits.instance, hits.class_id)
