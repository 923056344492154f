"""What placement asks of the background: where rays hit it and which points it fills.

Two implementations of one protocol, so placement is written once:
- `MeshProbe`: a ground-truth scene (exact, Embree ray casting);
- `FieldProbe`: a trained background field placed in the world (with its holes), through
  the composition renderer and the field's density.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import torch

from nerfgen.procedural.build import GTScene
from nerfgen.procedural.raycast import cast_rays, embree_scene
from nerfgen.scene.fields import SceneField
from nerfgen.scene.placement import inside_holes
from nerfgen.scene.render import ComposeConfig, render_composed_rays

_UP = np.array([0.0, 0.0, 1.0])


class BackgroundProbe(Protocol):
    def bounds(self) -> np.ndarray:  # [2,3] world box around everything there is
        ...

    def first_hit(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        """origins [N,3], unit directions [N,3] -> distance [N] to the first surface, inf on a miss."""
        ...

    def occupied(self, points: np.ndarray) -> np.ndarray:
        """points [N,3] world -> [N] bool, inside the background's matter."""
        ...


class MeshProbe:
    """Exact probe of a ground-truth scene (for the background: its composed twin, holes cut)."""

    def __init__(self, scene: GTScene):
        self.scene = scene

    def bounds(self) -> np.ndarray:
        return self.scene.aabb

    def first_hit(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        hits = cast_rays(self.scene, origins, directions)
        return np.where(hits.hit, hits.range, np.inf)

    def occupied(self, points: np.ndarray) -> np.ndarray:
        """Inside test for outward-wound meshes: a ray from inside meets a face from behind
        first. Up and down both: inside overlapping parts (a car's cabin sunk into its
        body) one of them can meet an inner part's front face first. Below an open quad
        (the terrain) counts as inside, which is what the ground is."""
        points = np.asarray(points, np.float64)
        inside = np.zeros(len(points), bool)
        bvh = embree_scene(self.scene)
        for direction in (_UP, -_UP):
            dirs = np.broadcast_to(direction, points.shape)
            triangle = bvh.first_hit(points, dirs)
            hit = triangle >= 0
            inside[hit] |= self.scene.face_normals[triangle[hit]] @ direction > 0
        return inside


class FieldProbe:
    """Probe of a trained background field: first hits where the composited opacity reaches
    `config.surface_opacity` (as its depth maps), matter where the density turns one
    `spacing` of travel at least `opacity` opaque."""

    def __init__(
        self,
        field: SceneField,
        spacing: float,
        opacity: float,
        config: ComposeConfig = ComposeConfig(),
        ceiling: float | None = None,
    ):
        self.field = field
        self.config = config
        self.density_threshold = -np.log1p(-opacity) / spacing  # alpha = 1 - exp(-sigma * spacing)
        self.ceiling = ceiling  # world z the bounds stop at: what is above is not probed from above

    def bounds(self) -> np.ndarray:
        f = self.field
        if f.bounds is None:
            return np.zeros((2, 3))
        corners = torch.cartesian_prod(*f.bounds.T) * f.scale  # [8,3] field-frame corners (scaled)
        world = (corners @ f.to_world[:3, :3].T + f.to_world[:3, 3]).double().numpy()
        box = np.stack([world.min(0), world.max(0)])
        if self.ceiling is not None:
            box[1, 2] = min(box[1, 2], self.ceiling)
        return box

    def first_hit(self, origins: np.ndarray, directions: np.ndarray) -> np.ndarray:
        sky = torch.zeros(3)
        with torch.no_grad():
            rays = render_composed_rays(
                [self.field], torch.from_numpy(origins).float(), torch.from_numpy(directions).float(), sky, self.config
            )
        distance = rays.range.double().numpy()
        return np.where(distance > 0, distance, np.inf)  # range 0 = no surface

    def occupied(self, points: np.ndarray) -> np.ndarray:
        f = self.field
        x, _ = f.to_field(torch.from_numpy(points).float(), torch.zeros(len(points), 3))
        with torch.no_grad():
            density = (f.field.density(x) / f.scale).double().numpy()
        matter = density >= self.density_threshold
        if f.holes:
            matter &= ~inside_holes(np.asarray(points, np.float64), f.holes)
        return matter
