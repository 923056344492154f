"""What labels need from a renderer: the scene's object boxes, per-frame maps and LiDAR sweeps.

Ground-truth scenes (`nerfgen.gt.GTRenderer`) and composed radiance-field scenes
(`nerfgen.scene.NeuralSceneRenderer`) both implement `FrameRenderer`; everything in
`nerfgen.labels` is written against it. A LiDAR is one more ray generator: the renderer
casts its beams (`nerfgen.sensors.lidar.lidar_rays`) the way it renders pixels.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Protocol, Sequence

import numpy as np

from nerfgen.cameras import Cameras
from nerfgen.labels.types import FrameMaps, LidarScan

if TYPE_CHECKING:  # a runtime import would cycle: nerfgen.sensors imports nerfgen.gt
    from nerfgen.sensors.lidar_specs import LidarSpec


class SceneInstance(Protocol):
    """An object placed in the scene (e.g. `nerfgen.gt.InstanceBox`)."""

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
