"""`NeuralSceneRenderer`: the `FrameRenderer` (nerfgen.labels.renderer) of a composed
radiance-field scene, so labels, correspondences and writers work unchanged."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from nerfgen.cameras import Cameras, generate_rays, range_to_depth_z
from nerfgen.gt.build import InstanceBox
from nerfgen.labels.types import FrameMaps, LidarScan
from nerfgen.ops.packed import PackedSamples
from nerfgen.render.surface_normals import surface_normals
from nerfgen.scene.fields import SceneField
from nerfgen.scene.lidar import render_composed_lidar
from nerfgen.scene.load import ComposedScene
from nerfgen.scene.render import ComposeConfig, render_composed_rays
from nerfgen.sensors.lidar_specs import LidarSpec


@dataclass
class ComposedImage:
    """Per-pixel outputs of one camera ([H,W,...], metres), plus the composited samples of
    every pixel's ray (row-major pixel order) for correspondences_from_weights and LiDAR."""

    rgb: Tensor  # [H,W,3]
    depth_z: Tensor  # [H,W] 0 = no surface
    range: Tensor  # [H,W] 0 = no surface
    opacity: Tensor  # [H,W]
    normals_world: Tensor  # [H,W,3] 0 = no surface
    normals_cam: Tensor  # [H,W,3] OpenCV camera frame
    instance: Tensor  # [H,W] int32
    class_id: Tensor  # [H,W] int32
    samples: PackedSamples  # over H*W rays
    weights: Tensor  # [S]

    def frame_maps(self) -> FrameMaps:
        return FrameMaps(
            rgb=self.rgb.numpy().astype(np.float32),
            depth_z=self.depth_z.numpy().astype(np.float32),
            range=self.range.numpy().astype(np.float32),
            opacity=self.opacity.numpy().astype(np.float32),
            normals_world=self.normals_world.numpy().astype(np.float32),
            instance=self.instance.numpy().astype(np.int32),
            class_id=self.class_id.numpy().astype(np.int32),
        )


def _concat_packed(parts: list[PackedSamples]) -> PackedSamples:
    """Packed samples of consecutive ray chunks as one (ray indices shifted per chunk)."""
    shifts = np.cumsum([0] + [p.n_rays for p in parts])
    ray_indices = torch.cat([p.ray_indices + int(s) for p, s in zip(parts, shifts)])
    return PackedSamples.from_ray_indices(ray_indices, torch.cat([p.t_starts for p in parts]), torch.cat([p.t_ends for p in parts]), int(shifts[-1]))


def render_composed_image(
    fields: Sequence[SceneField], cameras: Cameras, index: int, sky: Tensor, config: ComposeConfig = ComposeConfig()
) -> ComposedImage:
    """Renders every pixel of camera `index` through `fields` in chunks of rays."""
    h, w = int(cameras.height[index]), int(cameras.width[index])
    out = []
    field_normals = config.normals == "field"
    with torch.no_grad():  # not inference_mode: gradient normals need autograd
        rays = generate_rays(cameras, index)
        for start in range(0, h * w, config.chunk):
            sl = slice(start, start + config.chunk)
            out.append(render_composed_rays(fields, rays.origins[sl], rays.directions[sl], sky, config, normals=field_normals))
    cat = lambda name: torch.cat([getattr(o, name) for o in out])  # noqa: E731
    range_ = cat("range")
    normals = cat("normals")
    if config.normals == "surface":
        points = rays.origins + rays.directions * range_[:, None]
        normals = surface_normals(
            points.reshape(h, w, 3), rays.directions.reshape(h, w, 3), range_.reshape(h, w), range_.reshape(h, w) > 0,
            segments=cat("instance").reshape(h, w), radius=config.surface_normal_radius,
        ).reshape(-1, 3)
    cam_rotation = cameras.c2w[index, :3, :3].float()
    return ComposedImage(
        rgb=cat("rgb").reshape(h, w, 3),
        depth_z=range_to_depth_z(range_, rays.z_cam).reshape(h, w),
        range=range_.reshape(h, w),
        opacity=cat("opacity").reshape(h, w),
        normals_world=normals.reshape(h, w, 3),
        normals_cam=(normals @ cam_rotation).reshape(h, w, 3),  # R^T n per row
        instance=cat("instance").reshape(h, w),
        class_id=cat("class_id").reshape(h, w),
        samples=_concat_packed([o.samples for o in out]),
        weights=cat("weights"),
    )


class NeuralSceneRenderer:
    """Renders a `ComposedScene`; `only_instance` renders that object's field alone."""

    def __init__(self, scene: ComposedScene, config: ComposeConfig = ComposeConfig()):
        self.scene = scene
        self.config = config
        self.sky = torch.tensor(scene.sky, dtype=torch.float32)

    def instances(self) -> list[InstanceBox]:
        return list(self.scene.boxes)

    def render_image(self, cameras: Cameras, index: int, only_instance: int | None = None) -> ComposedImage:
        fields = self.scene.fields if only_instance is None else self.scene.only(only_instance)
        return render_composed_image(fields, cameras, index, self.sky, self.config)

    def render(self, cameras: Cameras, index: int, only_instance: int | None = None) -> FrameMaps:
        return self.render_image(cameras, index, only_instance).frame_maps()

    def render_lidar(self, spec: LidarSpec, sensor_to_world: np.ndarray) -> LidarScan:
        return render_composed_lidar(self.scene.fields, spec, sensor_to_world, self.sky, self.config)
