"""Composed scenes: trained radiance fields (a background with holes, placed objects)
rendered together, with exact labels, and their ground-truth twins.

    spec = load_composed_scene_spec("street_with_cars.yaml")   # validated scene file
    renderer = NeuralSceneRenderer(load_composed_scene(spec))  # nerfgen.labels.FrameRenderer
    maps = renderer.render(cameras, 0)                         # FrameMaps
    scan = renderer.render_lidar(HDL64E, sensor_to_world)      # LidarScan (nerfgen.scene.lidar)
    exact = GTRenderer(composed_gt_scene(spec))                # the same scene, ray cast
"""

from nerfgen.scene.fields import SceneField, occupied_bounds
from nerfgen.scene.lidar import render_composed_lidar
from nerfgen.scene.load import AssetField, ComposedScene, default_rig, load_composed_scene, load_trained_asset
from nerfgen.scene.parse import is_composed_scene, load_composed_scene_spec
from nerfgen.scene.render import ComposeConfig, ComposedRays, render_composed_rays
from nerfgen.scene.renderer import ComposedImage, NeuralSceneRenderer, render_composed_image
from nerfgen.scene.spec import Asset, Background, ComposedSceneSpec, Hole, PlacedObject
from nerfgen.scene.twin import composed_gt_scene
from nerfgen.yaml_file import read_yaml

__all__ = [
    "Asset",
    "AssetField",
    "Background",
    "ComposeConfig",
    "ComposedImage",
    "ComposedRays",
    "ComposedScene",
    "ComposedSceneSpec",
    "Hole",
    "NeuralSceneRenderer",
    "PlacedObject",
    "SceneField",
    "composed_gt_scene",
    "default_rig",
    "is_composed_scene",
    "load_composed_scene",
    "load_composed_scene_spec",
    "load_trained_asset",
    "occupied_bounds",
    "read_yaml",
    "render_composed_image",
    "render_composed_lidar",
    "render_composed_rays",
]
