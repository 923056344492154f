"""Exact ground-truth ray casting against a `GTScene` (Embree via embreex).

Rays in, per-ray results out: cameras and (later) LiDAR both go through `cast_rays`.
Embree works in float32; with scenes ~60 m across that leaves errors of ~1e-5 m, so
every hit is refined in float64 against the plane of the triangle Embree found
(exact for the triangle soup that is the ground truth).
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass, fields

import numpy as np
from embreex import rtcore_scene
from embreex.mesh_construction import TriangleMesh

from nerfgen.procedural.build import GTScene
from nerfgen.procedural.textures import albedo

CHUNK = 1 << 19  # rays per chunk: bounds the temporaries (and stays in cache better)
TEXTURE_INSET = 1e-4  # m; see cast_rays


@dataclass(frozen=True)
class RayHits:
    """Per-ray ground truth for N rays.

    hit [N] bool; range [N] float64 distance along the unit direction (0 on miss);
    points [N,3] float64 world hit points (0 on miss); triangle [N] int64 (-1 on miss);
    instance [N] int32 and class_id [N] int32 (0 on miss); normal [N,3] float32 world,
    the hit triangle's geometric normal turned to face the ray (dot(normal, direction)
    < 0; 0 on miss); albedo [N,3] float32 texture colour at the hit (0 on miss).
    """

    hit: np.ndarray
    range: np.ndarray
    points: np.ndarray
    triangle: np.ndarray
    instance: np.ndarray
    class_id: np.ndarray
    normal: np.ndarray
    albedo: np.ndarray


class _EmbreeScene:
    """Embree BVH over the scene, built in coordinates centred on the scene (float32
    is most precise near 0)."""

    def __init__(self, scene: GTScene):
        self.origin = scene.aabb.mean(0)
        self.bvh = rtcore_scene.EmbreeScene()
        TriangleMesh(
            scene=self.bvh,
            vertices=(scene.vertices - self.origin).astype(np.float32),
            indices=scene.faces.astype(np.int32),
        )

    def first_hit(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """Triangle index of the first hit [N] int64, -1 where the ray misses."""
        o = (origins - self.origin).astype(np.float32)
        return self.bvh.run(o, directions.astype(np.float32)).astype(np.int64)

    def occluded(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """[N] bool: does the ray hit anything at all (shadow test)."""
        out = np.empty(len(origins), bool)
        for s in range(0, len(origins), CHUNK):
            o = (origins[s : s + CHUNK] - self.origin).astype(np.float32)
            d = directions[s : s + CHUNK].astype(np.float32)
            out[s : s + CHUNK] = self.bvh.run(o, d, query="OCCLUDED") != -1
        return out


_BVH_CACHE: "weakref.WeakKeyDictionary[GTScene, _EmbreeScene]" = weakref.WeakKeyDictionary()


def embree_scene(scene: GTScene) -> _EmbreeScene:
    """The scene's Embree BVH, built once per `GTScene`."""
    if scene not in _BVH_CACHE:
        _BVH_CACHE[scene] = _EmbreeScene(scene)
    return _BVH_CACHE[scene]


def cast_rays(scene: GTScene, origins: np.ndarray, directions: np.ndarray) -> RayHits:
    """First surface hit of each ray.

    origins [N,3], directions [N,3] unit (any float dtype; computed in float64).
    """
    origins = np.asarray(origins, dtype=np.float64)
    directions = np.asarray(directions, dtype=np.float64)
    chunks = [
        _cast_chunk(scene, origins[s : s + CHUNK], directions[s : s + CHUNK]) for s in range(0, len(origins), CHUNK)
    ]
    if len(chunks) == 1:
        return chunks[0]
    return RayHits(*(np.concatenate([getattr(c, f.name) for c in chunks]) for f in fields(RayHits)))


def _cast_chunk(scene: GTScene, origins: np.ndarray, directions: np.ndarray) -> RayHits:
    n = len(origins)
    triangle = embree_scene(scene).first_hit(origins, directions)
    hit = triangle >= 0
    tri = triangle[hit]
    o, d = origins[hit], directions[hit]
    face_normal = scene.face_normals[tri]
    # float64 refinement: exact distance to the plane n.x = offset of the hit triangle.
    cos = np.einsum("ij,ij->i", face_normal, d)
    t = (scene.face_offsets[tri] - np.einsum("ij,ij->i", face_normal, o)) / cos
    points = o + t[:, None] * d

    range_ = np.zeros(n)
    range_[hit] = t
    all_points = np.zeros((n, 3))
    all_points[hit] = points
    normal = np.zeros((n, 3), np.float32)
    normal[hit] = face_normal * np.where(cos < 0, 1.0, -1.0)[:, None]
    instance = np.zeros(n, np.int32)
    instance[hit] = scene.face_instance[tri]
    class_id = np.zeros(n, np.int32)
    class_id[hit] = scene.face_class[tri]
    colour = np.zeros((n, 3), np.float32)
    # Textures are looked up a hair inside the surface: a face lying exactly on a
    # texture cell boundary (a box face at x = period) then gets one consistent colour
    # instead of float-noise speckle.
    colour[hit] = _albedo(scene, scene.face_part[tri], points - TEXTURE_INSET * face_normal)
    return RayHits(hit, range_, all_points, triangle, instance, class_id, normal, colour)


def _albedo(scene: GTScene, part: np.ndarray, points: np.ndarray) -> np.ndarray:
    """Texture colour [M,3] of world points [M,3] lying on parts `part` [M]."""
    solid = np.array([m.texture == "solid" for m in scene.materials])
    table = np.array([m.colors[0] for m in scene.materials], np.float32)
    out = table[part]  # solid parts are done; the others are overwritten below
    textured = np.flatnonzero(~solid[part])
    # Group the textured points by part: stable sort of small ints is a radix sort.
    order = textured[np.argsort(part[textured].astype(np.uint16), kind="stable")]
    counts = np.bincount(part[order], minlength=len(scene.materials))
    ends = np.cumsum(counts)
    for p in np.flatnonzero(counts):
        idx = order[ends[p] - counts[p] : ends[p]]
        m = scene.world_to_part[p]
        out[idx] = albedo(scene.materials[p], points[idx] @ m[:3, :3].T + m[:3, 3])
    return out
