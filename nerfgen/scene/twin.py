"""The exact twin of a composed scene: its ground-truth geometry (the background's and
every asset's `gt` scene) at the same poses, for ray casting with `GTRenderer`.

Holes remove the background triangles whose centroid lies inside them; the background
becomes stuff (instance 0, class 0), as the neural background carries no labels; each
object's triangles take its placed instance id and class. Boxes and poses come from
`placed_instance_box`, exactly as in the neural scene.
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np

from nerfgen.cameras.transforms import apply
from nerfgen.classes import CLASS_IDS
from nerfgen.errors import NerfgenError
from nerfgen.procedural.build import GTScene, load_scene
from nerfgen.scene.load import asset_gt_box, default_rig
from nerfgen.scene.parse import load_composed_scene_spec
from nerfgen.scene.placement import asset_to_world, inside_holes, placed_instance_box
from nerfgen.scene.spec import Asset, ComposedSceneSpec


def _gt_of(asset: Asset, where: Path) -> GTScene:
    if asset.gt is None:
        raise NerfgenError(where, f"asset {asset.path} names no ground-truth scene ('gt'): no exact twin")
    return load_scene(asset.gt)


def _transformed(scene: GTScene, to_world: np.ndarray) -> GTScene:
    """`scene` moved by a similarity transform [4,4] (rotation, uniform scale, translation)."""
    scale = np.cbrt(np.linalg.det(to_world[:3, :3]))
    rotation = to_world[:3, :3] / scale
    vertices = apply(to_world, scene.vertices)
    normals = scene.face_normals @ rotation.T
    return dataclasses.replace(
        scene,
        vertices=vertices,
        face_normals=normals,
        face_offsets=np.einsum("ij,ij->i", normals, vertices[scene.faces[:, 0]]),
        world_to_part=scene.world_to_part @ np.linalg.inv(to_world),  # textures move (and scale) with the object
    )


def _labelled(scene: GTScene, keep: np.ndarray, instance_id: int, class_id: int) -> GTScene:
    """The faces `keep` [F] of `scene`, all labelled (instance_id, class_id)."""
    used, faces = np.unique(scene.faces[keep], return_inverse=True)
    n = int(keep.sum())
    return dataclasses.replace(
        scene,
        vertices=scene.vertices[used],
        faces=faces.reshape(-1, 3).astype(np.int64),
        face_normals=scene.face_normals[keep],
        face_offsets=scene.face_offsets[keep],
        face_instance=np.full(n, instance_id, np.int32),
        face_class=np.full(n, class_id, np.int32),
        face_part=scene.face_part[keep],
        instances=(),
    )


def _concatenate(parts: list[GTScene], spec) -> GTScene:
    vertex_shift = np.cumsum([0] + [len(p.vertices) for p in parts])
    part_shift = np.cumsum([0] + [len(p.materials) for p in parts])
    return GTScene(
        spec=spec,
        vertices=np.concatenate([p.vertices for p in parts]),
        faces=np.concatenate([p.faces + s for p, s in zip(parts, vertex_shift)]),
        face_normals=np.concatenate([p.face_normals for p in parts]),
        face_offsets=np.concatenate([p.face_offsets for p in parts]),
        face_instance=np.concatenate([p.face_instance for p in parts]),
        face_class=np.concatenate([p.face_class for p in parts]),
        face_part=np.concatenate([p.face_part + s for p, s in zip(parts, part_shift)]).astype(np.int32),
        materials=tuple(m for p in parts for m in p.materials),
        world_to_part=np.concatenate([p.world_to_part for p in parts]),
        instances=(),
    )


def composed_gt_scene(scene: str | Path | ComposedSceneSpec) -> GTScene:
    """The composed scene (file or parsed spec) as one exact `GTScene` (module docstring)."""
    spec = scene if isinstance(scene, ComposedSceneSpec) else load_composed_scene_spec(scene)
    parts, boxes, base = [], [], None
    if spec.background is not None:
        bg = _gt_of(spec.background.asset, spec.path)
        keep = np.ones(len(bg.faces), bool)
        if spec.background.holes:
            keep = ~inside_holes(bg.vertices[bg.faces].mean(1), spec.background.holes)
        parts.append(_labelled(bg, keep, 0, 0))
        base = bg.spec
    for obj in spec.objects:
        asset = _gt_of(obj.asset, spec.path)
        placed = _transformed(asset, asset_to_world(obj))
        parts.append(_labelled(placed, np.ones(len(placed.faces), bool), obj.instance_id, CLASS_IDS[obj.class_name]))
        boxes.append(
            placed_instance_box(obj, asset_gt_box(obj.asset, spec.path), f"{obj.class_name}_{obj.instance_id}")
        )
        base = base or asset.spec
    if not parts:
        raise NerfgenError(spec.path, "scene has no background and no objects: nothing to ray cast")
    twin_spec = dataclasses.replace(base, name=spec.path.stem, rig=default_rig(spec))
    return dataclasses.replace(
        _concatenate(parts, twin_spec), instances=tuple(sorted(boxes, key=lambda b: b.instance_id))
    )
