"""Primitive part -> triangle mesh in the part's own frame.

The tessellated mesh IS the ground truth (labels, depth and normals all come from ray
casting it), so curved primitives use enough segments (64 around) to look smooth at
the image sizes we render.
"""

from __future__ import annotations

import numpy as np
import trimesh

from nerfgen.procedural.spec import Part

SECTIONS = 64  # segments around curved primitives
SPHERE_SUBDIVISIONS = 4  # icosphere: 5120 triangles


def part_mesh(part: Part) -> trimesh.Trimesh:
    """Returns the part's mesh in its local frame (outward-wound triangles)."""
    p = part.primitive
    if p == "box":
        return trimesh.creation.box(extents=part.size)
    if p == "quad":
        hx, hy = part.size[0] / 2, part.size[1] / 2
        vertices = np.array([[-hx, -hy, 0], [hx, -hy, 0], [hx, hy, 0], [-hx, hy, 0]], dtype=np.float64)
        return trimesh.Trimesh(vertices, np.array([[0, 1, 2], [0, 2, 3]]), process=False)
    if p == "cylinder":
        return trimesh.creation.cylinder(radius=part.radius, height=part.height, sections=SECTIONS)
    if p == "sphere":
        return trimesh.creation.icosphere(subdivisions=SPHERE_SUBDIVISIONS, radius=part.radius)
    if p == "capsule":
        return trimesh.creation.capsule(height=part.height, radius=part.radius, count=[SECTIONS, SECTIONS // 2])
    if p == "torus":
        return trimesh.creation.torus(part.radius, part.radius2, major_sections=SECTIONS, minor_sections=SECTIONS // 2)
    if p == "cone":
        return trimesh.creation.cone(radius=part.radius, height=part.height, sections=SECTIONS)
    raise ValueError(f"unknown primitive {p!r}")  # parse.py rejects these first
