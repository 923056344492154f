"""Moving placed objects: a scene with some objects displaced by rigid transforms.

A displacement `delta` [4,4] maps an object's scene-file placement to its new one
(new box pose = delta @ box pose in the scene file). A ground-truth scene moves the
object's triangles, face planes and texture frames (textures stick to the surface); a
composed radiance-field scene moves the object's field (its field-to-world transform).
Both move the object's box and pose with it. Background holes stay where the scene file
cut them: a car moved away from its hole leaves the hole empty.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import torch

from nerfgen.cameras.transforms import apply
from nerfgen.procedural.build import GTScene, InstanceBox
from nerfgen.scene.load import ComposedScene


def nearest_rotation(matrix: np.ndarray) -> np.ndarray:  # [3,3] -> [3,3]
    """The rotation closest to `matrix` (SVD): poses sent as float32 are rigid to ~1e-7
    only, and a moved mesh must not be scaled or sheared by that."""
    u, _, vt = np.linalg.svd(matrix)
    if np.linalg.det(u @ vt) < 0:
        u[:, -1] = -u[:, -1]
    return u @ vt


def displacement(initial_pose: np.ndarray, pose: np.ndarray) -> np.ndarray:  # [4,4], [4,4] -> [4,4]
    """delta with delta @ initial_pose = pose (its rotation made exactly rigid)."""
    rigid = np.eye(4)
    rigid[:3, :3] = nearest_rotation(pose[:3, :3])
    rigid[:3, 3] = pose[:3, 3]
    return rigid @ np.linalg.inv(initial_pose)


def moved_box(box: InstanceBox, delta: np.ndarray) -> InstanceBox:
    return dataclasses.replace(
        box,
        center=apply(delta, np.asarray(box.center, np.float64)[None])[0],
        rotation=delta[:3, :3] @ box.rotation,
        pose=delta @ box.pose,
    )


def moved_gt_scene(scene: GTScene, deltas: dict[int, np.ndarray]) -> GTScene:
    """`scene` with instance i displaced by deltas[i] (instances own their vertices and parts)."""
    vertices, normals = scene.vertices.copy(), scene.face_normals.copy()
    offsets, world_to_part = scene.face_offsets.copy(), scene.world_to_part.copy()
    for instance_id, delta in deltas.items():
        faces = scene.face_instance == instance_id
        used = np.unique(scene.faces[faces])
        vertices[used] = apply(delta, scene.vertices[used])
        normals[faces] = scene.face_normals[faces] @ delta[:3, :3].T
        offsets[faces] = np.einsum("ij,ij->i", normals[faces], vertices[scene.faces[faces, 0]])
        parts = np.unique(scene.face_part[faces])
        world_to_part[parts] = scene.world_to_part[parts] @ np.linalg.inv(delta)
    return dataclasses.replace(
        scene,
        vertices=vertices,
        face_normals=normals,
        face_offsets=offsets,
        world_to_part=world_to_part,
        instances=tuple(_moved(b, deltas) for b in scene.instances),
    )


def moved_composed_scene(scene: ComposedScene, deltas: dict[int, np.ndarray]) -> ComposedScene:
    """`scene` with object i's field and box displaced by deltas[i]."""
    fields = [
        dataclasses.replace(f, to_world=(torch.from_numpy(deltas[f.instance_id]) @ f.to_world.double()).float())
        if f.instance_id in deltas
        else f
        for f in scene.fields
    ]
    return dataclasses.replace(scene, fields=fields, boxes=[_moved(b, deltas) for b in scene.boxes])


def _moved(box: InstanceBox, deltas: dict[int, np.ndarray]) -> InstanceBox:
    return moved_box(box, deltas[box.instance_id]) if box.instance_id in deltas else box
