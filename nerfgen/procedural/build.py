"""Scene spec -> `GTScene`: one world-space triangle soup with per-triangle labels,
per-part materials and per-instance 3D boxes."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nerfgen.cameras.transforms import apply
from nerfgen.classes import CLASS_IDS
from nerfgen.procedural.parse import load_scene_spec
from nerfgen.procedural.primitives import part_mesh
from nerfgen.procedural.spec import Material, ObjectSpec, SceneSpec
from nerfgen.procedural.transforms import pose_matrix


@dataclass(frozen=True, eq=False)
class InstanceBox:
    """An object's oriented 3D box: axis-aligned in the object frame and tight around
    all of its parts' vertices.

    `center` [3] is the box centre in world coordinates, `size` [3] its extents along the
    object's x, y, z axes, `rotation` [3,3] the object-to-world rotation (columns are the
    box axes in world), `pose` [4,4] the object-to-world transform (object origin, which
    need not be the box centre: a car's origin is between its wheels on the ground).
    """

    instance_id: int
    name: str
    class_name: str
    class_id: int
    center: np.ndarray
    size: np.ndarray
    rotation: np.ndarray
    pose: np.ndarray


@dataclass(frozen=True, eq=False)
class GTScene:
    """Exact ground truth of a procedural scene.

    vertices [V,3] float64 world; faces [F,3] int64; face_normals [F,3] float64 unit,
    outward; face_offsets [F] float64 (face f lies in the plane n_f . x = offset_f);
    face_instance [F] int32 (0 = stuff); face_class [F] int32 (ids of
    `nerfgen.classes.CLASS_NAMES`); face_part [F] int32 index into `materials` and
    `world_to_part` [P,4,4] (textures are evaluated in part-local coordinates, so they
    stick to the surface and look the same from every view).
    """

    spec: SceneSpec
    vertices: np.ndarray
    faces: np.ndarray
    face_normals: np.ndarray
    face_offsets: np.ndarray
    face_instance: np.ndarray
    face_class: np.ndarray
    face_part: np.ndarray
    materials: tuple[Material, ...]
    world_to_part: np.ndarray
    instances: tuple[InstanceBox, ...]

    @property
    def aabb(self) -> np.ndarray:
        """[2,3] world-space min and max corner of all geometry."""
        return np.stack([self.vertices.min(0), self.vertices.max(0)])


def load_scene(path: str | Path) -> GTScene:
    """Reads, validates and builds a scene YAML file."""
    return build_scene(load_scene_spec(path))


def build_scene(spec: SceneSpec) -> GTScene:
    vertices, faces, instance, klass, part_index = [], [], [], [], []
    materials, world_to_part, boxes = [], [], []
    offset = 0
    for obj in spec.objects:
        object_to_world = pose_matrix(obj.pose)
        local_vertices = []
        for part in obj.parts:
            mesh = part_mesh(part)
            part_to_object = pose_matrix(part.pose)
            v_object = apply(part_to_object, np.asarray(mesh.vertices, dtype=np.float64))
            local_vertices.append(v_object)
            vertices.append(apply(object_to_world, v_object))
            faces.append(np.asarray(mesh.faces, dtype=np.int64) + offset)
            offset += len(v_object)
            n = len(mesh.faces)
            instance.append(np.full(n, obj.instance, np.int32))
            klass.append(np.full(n, CLASS_IDS[obj.class_name], np.int32))
            part_index.append(np.full(n, len(materials), np.int32))
            materials.append(part.material)
            world_to_part.append(np.linalg.inv(object_to_world @ part_to_object))
        if obj.instance > 0:
            boxes.append(_instance_box(obj, object_to_world, np.concatenate(local_vertices)))
    vertices = np.concatenate(vertices)
    faces = np.concatenate(faces)
    normals = _face_normals(vertices, faces)
    return GTScene(
        spec=spec,
        vertices=vertices,
        faces=faces,
        face_normals=normals,
        face_offsets=np.einsum("ij,ij->i", normals, vertices[faces[:, 0]]),
        face_instance=np.concatenate(instance),
        face_class=np.concatenate(klass),
        face_part=np.concatenate(part_index),
        materials=tuple(materials),
        world_to_part=np.stack(world_to_part),
        instances=tuple(sorted(boxes, key=lambda b: b.instance_id)),
    )


def _face_normals(vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    tri = vertices[faces]
    n = np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0])
    return n / np.linalg.norm(n, axis=1, keepdims=True)


def _instance_box(obj: ObjectSpec, object_to_world: np.ndarray, object_vertices: np.ndarray) -> InstanceBox:
    lo, hi = object_vertices.min(0), object_vertices.max(0)
    return InstanceBox(
        instance_id=obj.instance,
        name=obj.name,
        class_name=obj.class_name,
        class_id=CLASS_IDS[obj.class_name],
        center=apply(object_to_world, ((lo + hi) / 2)[None])[0],
        size=hi - lo,
        rotation=object_to_world[:3, :3].copy(),
        pose=object_to_world,
    )
