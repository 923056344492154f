"""`NeuralSceneRenderer`: the `FrameRenderer` (nerfgen.render.frame) of a composed
radiance-field scene, so labels, correspondences and writers work unchanged.

RGB is anti-aliased on silhouettes: pixels whose 3 x 3 neighbourhood holds another
instance, or crosses between surface and sky, get the mean of s x s sub-pixel rays
(nerfgen.render.supersample), as the ray-cast renders and the captures the fields were
trained on do. One ray per pixel leaves a pasted-in object's outline stair-stepped, a
tell-tale of insertion. The ray-cast renders' criterion (any colour step of 4/255)
would pick 58-69 % of a trained street's pixels (field noise, learned texture), 6x the
rays; silhouettes are 2-5 % of them (measured on the demo's street with three inserted
cars, 160 x 120). Labels stay the pixel-centre ray's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np
import torch
from torch import Tensor

from nerfgen.cameras import Cameras, generate_rays, range_to_depth_z
from nerfgen.ops.packed import PackedSamples
from nerfgen.procedural.build import InstanceBox
from nerfgen.render.frame import FrameMaps, LidarScan
from nerfgen.render.supersample import any_neighbour, box_filter, subpixel_uv
from nerfgen.render.surface_normals import surface_normals
from nerfgen.scene.fields import SceneField
from nerfgen.scene.lidar import render_composed_lidar
from nerfgen.scene.load import ComposedScene
from nerfgen.scene.render import ComposeConfig, ComposedRays, render_composed_rays
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
    return PackedSamples.from_ray_indices(
        ray_indices, torch.cat([p.t_starts for p in parts]), torch.cat([p.t_ends for p in parts]), int(shifts[-1])
    )


def silhouette_pixels(instance: np.ndarray, has_surface: np.ndarray) -> np.ndarray:  # [H,W] each -> [H,W] bool
    """Pixels whose 3 x 3 neighbourhood holds another instance id or crosses between
    surface and sky: where one ray per pixel aliases an outline."""
    differs = lambda neighbour, pixel: neighbour != pixel  # noqa: E731
    return any_neighbour(instance, differs) | any_neighbour(has_surface, differs)


def _render_chunks(
    fields: Sequence[SceneField], origins: Tensor, directions: Tensor, sky: Tensor, config: ComposeConfig, normals: bool
) -> list[ComposedRays]:
    """render_composed_rays over rays [n,3] in chunks of config.chunk."""
    step = config.chunk
    return [
        render_composed_rays(fields, origins[i : i + step], directions[i : i + step], sky, config, normals=normals)
        for i in range(0, len(origins), step)
    ]


def render_composed_image(
    fields: Sequence[SceneField],
    cameras: Cameras,
    index: int,
    sky: Tensor,
    config: ComposeConfig = ComposeConfig(),
    supersample: int = 1,
) -> ComposedImage:
    """Renders every pixel of camera `index` through `fields` in chunks of rays; with
    `supersample` > 1, silhouette pixels' RGB is the mean of supersample^2 rays."""
    h, w = int(cameras.height[index]), int(cameras.width[index])
    with torch.no_grad():  # not inference_mode: gradient normals need autograd
        rays = generate_rays(cameras, index)
        out = _render_chunks(fields, rays.origins, rays.directions, sky, config, normals=config.normals == "field")
    cat = lambda name: torch.cat([getattr(o, name) for o in out])  # noqa: E731
    range_ = cat("range")
    normals = cat("normals")
    instance = cat("instance").reshape(h, w)
    if config.normals == "surface":
        points = rays.origins + rays.directions * range_[:, None]
        normals = surface_normals(
            points.reshape(h, w, 3),
            rays.directions.reshape(h, w, 3),
            range_.reshape(h, w),
            range_.reshape(h, w) > 0,
            segments=instance,
            radius=config.surface_normal_radius,
        ).reshape(-1, 3)
    cam_rotation = cameras.c2w[index, :3, :3].float()
    rgb = cat("rgb").reshape(h, w, 3)
    if supersample > 1:
        ys, xs = np.nonzero(silhouette_pixels(instance.numpy(), (range_ > 0).reshape(h, w).numpy()))
        if len(ys):
            with torch.no_grad():
                sub = generate_rays(cameras, index, torch.from_numpy(subpixel_uv(ys, xs, supersample)))
                sub_rgb = torch.cat(
                    [o.rgb for o in _render_chunks(fields, sub.origins, sub.directions, sky, config, normals=False)]
                )
            rgb[ys, xs] = torch.from_numpy(box_filter(sub_rgb.numpy(), supersample)).float()
    return ComposedImage(
        rgb=rgb,
        depth_z=range_to_depth_z(range_, rays.z_cam).reshape(h, w),
        range=range_.reshape(h, w),
        opacity=cat("opacity").reshape(h, w),
        normals_world=normals.reshape(h, w, 3),
        normals_cam=(normals @ cam_rotation).reshape(h, w, 3),  # R^T n per row
        instance=instance,
        class_id=cat("class_id").reshape(h, w),
        samples=_concat_packed([o.samples for o in out]),
        weights=cat("weights"),
    )


class NeuralSceneRenderer:
    """Renders a `ComposedScene`; `only_instance` renders that object's field alone. RGB
    is anti-aliased on silhouettes with `supersample` x `supersample` rays (see above);
    renders of one instance alone serve its amodal mask and skip it."""

    def __init__(self, scene: ComposedScene, config: ComposeConfig = ComposeConfig(), supersample: int = 3):
        if supersample < 1:
            raise ValueError(f"NeuralSceneRenderer: supersample must be >= 1, got {supersample}")
        self.scene = scene
        self.config = config
        self.supersample = supersample
        self.sky = torch.tensor(scene.sky, dtype=torch.float32)

    def instances(self) -> list[InstanceBox]:
        return list(self.scene.boxes)

    def render_image(self, cameras: Cameras, index: int, only_instance: int | None = None) -> ComposedImage:
        if only_instance is not None:
            return render_composed_image(self.scene.only(only_instance), cameras, index, self.sky, self.config)
        return render_composed_image(self.scene.fields, cameras, index, self.sky, self.config, self.supersample)

    def render(self, cameras: Cameras, index: int, only_instance: int | None = None) -> FrameMaps:
        return self.render_image(cameras, index, only_instance).frame_maps()

    def render_lidar(self, spec: LidarSpec, sensor_to_world: np.ndarray) -> LidarScan:
        return render_composed_lidar(self.scene.fields, spec, sensor_to_world, self.sky, self.config)
