"""Composed scene file -> `ComposedScene`: trained fields placed in the world, ready to render."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np
import torch

from nerfgen.classes import CLASS_IDS
from nerfgen.errors import NerfgenError
from nerfgen.fields.base import Field
from nerfgen.ops.occupancy_grid import OccupancyGrid
from nerfgen.procedural.build import InstanceBox, load_scene
from nerfgen.procedural.parse import load_scene_spec
from nerfgen.procedural.spec import Rig
from nerfgen.render.volume import step_size
from nerfgen.scene.fields import SceneField, occupied_bounds
from nerfgen.scene.parse import load_composed_scene_spec
from nerfgen.scene.placement import axis_aligned_box, placed_instance_box, rigid_to_world
from nerfgen.scene.spec import Asset, ComposedSceneSpec, PlacedObject
from nerfgen.train.run import load_trained

DEFAULT_SKY = (1.0, 1.0, 1.0)


@dataclass
class ComposedScene:
    """Placed fields (background first, then objects in file order), the objects'
    exact boxes and poses, and the colour of rays that hit nothing."""

    spec: ComposedSceneSpec
    fields: list[SceneField]
    boxes: list[InstanceBox]  # in instance-id order
    sky: tuple[float, float, float]

    def only(self, instance_id: int) -> list[SceneField]:
        """The field of one object, alone."""
        found = [f for f in self.fields if f.instance_id == instance_id]
        if not found:
            raise ValueError(f"scene {self.spec.path} has no instance {instance_id}")
        return found


def default_rig(spec: ComposedSceneSpec) -> Rig | None:
    """The scene's own rig, else that of the background's ground-truth scene, else of the
    first object's (None when there is none)."""
    if spec.rig is not None:
        return spec.rig
    assets = ([spec.background.asset] if spec.background is not None else []) + [o.asset for o in spec.objects]
    return next((load_scene_spec(a.gt).rig for a in assets if a.gt is not None), None)


def asset_gt_box(asset: Asset, where: Path) -> InstanceBox | None:
    """The asset-frame box of the single instance of the asset's ground-truth scene, if it has one."""
    if asset.gt is None:
        return None
    boxes = load_scene(asset.gt).instances
    if len(boxes) != 1:
        raise NerfgenError(where, f"ground-truth asset {asset.gt} must have exactly one instance, it has {len(boxes)}")
    return boxes[0]


@dataclass
class AssetField:
    """A field in its own frame, ready to place: what an asset loader returns."""

    field: Field
    grid: OccupancyGrid
    step_size: float  # field-frame marching step
    cone_angle: float
    sky: tuple[float, float, float]  # the colour it was trained against


AssetLoader = Callable[[Asset, Path], AssetField]  # (asset, scene file for errors) -> field


def load_trained_asset(asset: Asset, where: Path) -> AssetField:
    """The default loader: the newest checkpoint of a trained run directory."""

    if asset.is_gt:
        raise NerfgenError(
            where, f"asset {asset.path} is a ground-truth scene; render the exact twin (--exact) or give a trained run"
        )
    trained = load_trained(asset.path)
    render = trained.config.render
    return AssetField(
        trained.field,
        trained.grid,
        step_size(render, trained.grid.aabb),
        render.cone_angle,
        trained.config.train.eval_background,
    )


def _place(
    loaded: AssetField, to_world: np.ndarray, scale: float, instance_id: int, class_id: int, holes=()
) -> SceneField:
    return SceneField(
        field=loaded.field,
        grid=loaded.grid,
        step_size=loaded.step_size,
        cone_angle=loaded.cone_angle,
        to_world=torch.from_numpy(to_world).float(),
        scale=scale,
        bounds=occupied_bounds(loaded.grid),
        instance_id=instance_id,
        class_id=class_id,
        holes=holes,
    )


def _object_box(obj: PlacedObject, field: SceneField, where: Path) -> InstanceBox:
    gt_box = asset_gt_box(obj.asset, where)
    if gt_box is None:
        if field.bounds is None:
            raise NerfgenError(obj.asset.path, "trained field has no occupied cells: nothing to place")
        gt_box = axis_aligned_box(*(b.double().numpy() for b in field.bounds))
    return placed_instance_box(obj, gt_box, f"{obj.class_name}_{obj.instance_id}")


def load_composed_scene(
    scene: str | Path | ComposedSceneSpec, load_asset: AssetLoader = load_trained_asset
) -> ComposedScene:
    """Loads every field of a composed scene file (or an already parsed spec) and places it.
    `load_asset` turns an asset into a field (default: trained run directories)."""
    spec = scene if isinstance(scene, ComposedSceneSpec) else load_composed_scene_spec(scene)
    fields, boxes, sky = [], [], DEFAULT_SKY
    if spec.background is not None:
        loaded = load_asset(spec.background.asset, spec.path)
        fields.append(_place(loaded, np.eye(4), 1.0, 0, 0, spec.background.holes))
        sky = loaded.sky
    for obj in spec.objects:
        field = _place(
            load_asset(obj.asset, spec.path), rigid_to_world(obj), obj.scale, obj.instance_id, CLASS_IDS[obj.class_name]
        )
        fields.append(field)
        boxes.append(_object_box(obj, field, spec.path))
    return ComposedScene(spec, fields, sorted(boxes, key=lambda b: b.instance_id), tuple(sky))
