"""`GTRenderer`: the exact `FrameRenderer` (see nerfgen.render.frame) of a ground-truth scene."""

from __future__ import annotations

import numpy as np

from nerfgen.cameras import Cameras
from nerfgen.procedural.build import GTScene, InstanceBox
from nerfgen.procedural.lidar import lidar_scan_gt
from nerfgen.procedural.render import render_gt
from nerfgen.procedural.subset import instance_subscene
from nerfgen.render.frame import FrameMaps, LidarScan
from nerfgen.sensors.lidar_specs import LidarSpec


class GTRenderer:
    """Renders a `GTScene` by ray casting; `only_instance` casts against that object's
    triangles alone (its sub-scene and BVH are built once and kept). RGB is anti-aliased
    with `supersample` x `supersample` rays on mixed pixels, as captures are
    (nerfgen.procedural.render); renders of one instance alone serve its amodal mask and skip it."""

    def __init__(self, scene: GTScene, supersample: int = 3):
        self.scene = scene
        self.supersample = supersample
        self._alone: dict[int, GTScene] = {}

    def instances(self) -> list[InstanceBox]:
        return list(self.scene.instances)

    def render(self, cameras: Cameras, index: int, only_instance: int | None = None) -> FrameMaps:
        supersample = self.supersample if only_instance is None else 1
        frames = render_gt(self._scene_of(only_instance), cameras, [index], supersample)
        return FrameMaps(
            rgb=frames.rgb[0],
            depth_z=frames.depth_z[0],
            range=frames.range[0],
            opacity=(frames.range[0] > 0).astype(np.float32),
            normals_world=frames.normals[0],
            instance=frames.instance[0],
            class_id=frames.class_id[0],
        )

    def render_lidar(self, spec: LidarSpec, sensor_to_world: np.ndarray) -> LidarScan:
        return lidar_scan_gt(self.scene, spec, sensor_to_world)

    def _scene_of(self, only_instance: int | None) -> GTScene:
        if only_instance is None:
            return self.scene
        if only_instance not in self._alone:
            self._alone[only_instance] = instance_subscene(self.scene, only_instance)
        return self._alone[only_instance]
