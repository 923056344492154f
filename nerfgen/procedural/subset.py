"""A `GTScene` restricted to one instance: what the camera would see of that object
with every other object and all stuff (ground, buildings) removed."""

from __future__ import annotations

import dataclasses

import numpy as np

from nerfgen.procedural.build import GTScene


def instance_subscene(scene: GTScene, instance_id: int) -> GTScene:
    """The triangles of instance `instance_id` alone, with their labels and materials.

    Materials and part transforms are shared with `scene` (faces keep their part
    index), so an object looks the same alone as in the full scene, except for
    shadows that other objects cast on it.
    """
    keep = scene.face_instance == instance_id
    if instance_id <= 0 or not keep.any():
        raise ValueError(f"scene {scene.spec.name!r} has no instance {instance_id}")
    used, faces = np.unique(scene.faces[keep], return_inverse=True)
    return dataclasses.replace(
        scene,
        vertices=scene.vertices[used],
        faces=faces.reshape(-1, 3).astype(np.int64),
        face_normals=scene.face_normals[keep],
        face_offsets=scene.face_offsets[keep],
        face_instance=scene.face_instance[keep],
        face_class=scene.face_class[keep],
        face_part=scene.face_part[keep],
        instances=tuple(b for b in scene.instances if b.instance_id == instance_id),
    )
