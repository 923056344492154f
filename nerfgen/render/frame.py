"""The frame contract: what every renderer produces and how it is asked for it.

A renderer turns cameras and LiDAR sensors (nerfgen.sensors: ray generators) into
`FrameMaps` per camera frame and `LidarScan`s per sweep. The procedural mesh world
(`nerfgen.procedural.GTRenderer`, exact ray casting) and composed radiance-field scenes
(`nerfgen.scene.NeuralSceneRenderer`) both implement `FrameRenderer`; labels
(nerfgen.labels) are derived from it and writers (nerfgen.writers) format its records.
Arrays are numpy; world frame z-up, metres; cameras OpenCV (x right, y down, z forward);
pixel (i, j) has its centre at (i+0.5, j+0.5).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, Sequence

import numpy as np

from nerfgen.cameras import Cameras
from nerfgen.sensors.lidar_specs import LidarSpec


@dataclass
class FrameMaps:
    """Per-pixel outputs of one rendered frame (H x W); misses have opacity 0 and depth 0."""

    rgb: np.ndarray  # [H,W,3] float32 in [0,1], composited over the background
    depth_z: np.ndarray  # [H,W] float32 metres along the optical axis, 0 = no surface
    range: np.ndarray  # [H,W] float32 metres along the ray, 0 = no surface
    opacity: np.ndarray  # [H,W] float32 in [0,1] (1 for every ground-truth hit)
    normals_world: np.ndarray  # [H,W,3] float32 unit world-frame normals, 0 = no surface
    instance: np.ndarray  # [H,W] int32, 0 = background / stuff
    class_id: np.ndarray  # [H,W] int32, 0 = none (ids from nerfgen.classes)


@dataclass
class LidarScan:
    """One LiDAR sweep: returned points only (dropped beams are counted, not stored)."""

    sensor_to_world: np.ndarray  # [4,4] LiDAR frame (x forward, y left, z up) to world
    points_sensor: np.ndarray  # [N,3] float32 metres in the LiDAR frame
    intensity: np.ndarray  # [N] float32 in [0,1] (see nerfgen.sensors.lidar for the proxy)
    ring: np.ndarray  # [N] int32 beam (laser) index, 0 = lowest elevation
    instance: np.ndarray  # [N] int32, 0 = background / stuff
    class_id: np.ndarray  # [N] int32
    n_beams_fired: int  # rays cast in this sweep (returned + dropped)


class SceneInstance(Protocol):
    """An object placed in the scene (e.g. `nerfgen.procedural.InstanceBox`)."""

    @property
    def instance_id(self) -> int: ...  # > 0, the value of its pixels in FrameMaps.instance

    @property
    def class_name(self) -> str: ...

    @property
    def class_id(self) -> int: ...

    @property
    def center(self) -> np.ndarray: ...  # [3] world centre of its tight 3D box

    @property
    def size(self) -> np.ndarray: ...  # [3] box extents along the object's x, y, z

    @property
    def rotation(self) -> np.ndarray: ...  # [3,3] object-to-world rotation (box axes)

    @property
    def pose(self) -> np.ndarray: ...  # [4,4] object-to-world


class FrameRenderer(Protocol):
    def instances(self) -> Sequence[SceneInstance]:
        """Every object of the scene, in instance-id order."""
        ...

    def render(self, cameras: Cameras, index: int, only_instance: int | None = None) -> FrameMaps:
        """Renders camera `index`. With `only_instance`, renders that object alone: no
        other object and no background (pixels off the object are misses)."""
        ...

    def render_lidar(self, spec: LidarSpec, sensor_to_world: np.ndarray) -> LidarScan:
        """One sweep of `spec` from the pose sensor_to_world [4,4] (LiDAR frame: x forward,
        y left, z up): first return of every beam, with intensity, instance and class."""
        ...
