"""Typed description of a procedural ground-truth scene (what a scene YAML file holds).

Parsing and validation live in `nerfgen.procedural.parse`; geometry is made in
`nerfgen.procedural.build`. Units are metres and degrees; the world is z-up.
"""

from __future__ import annotations

from dataclasses import dataclass

RGB = tuple[float, float, float]
Vec3 = tuple[float, float, float]

PRIMITIVES: tuple[str, ...] = ("box", "cylinder", "sphere", "capsule", "torus", "cone", "quad")
TEXTURES: tuple[str, ...] = ("solid", "stripes", "checker", "noise", "grid")
RIG_TYPES: tuple[str, ...] = ("orbit", "line")


@dataclass(frozen=True)
class Pose:
    """Rigid transform child-to-parent: x_parent = R(roll, pitch, yaw) @ x_child + translation.

    R = Rz(yaw) @ Ry(pitch) @ Rx(roll) (extrinsic x-y-z rotations, degrees).
    """

    translation: Vec3 = (0.0, 0.0, 0.0)
    rotation_deg: Vec3 = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Material:
    """Lambertian albedo as a function of the part-local 3D position (so it is the
    same from every view).

    - solid: colors[0].
    - stripes: colors[1] where frac(p[axis] / period) < duty, else colors[0].
    - checker: colors alternate on a 3D grid of cubes with edge `period`.
    - noise: smooth value noise of cell size `period` (2 octaves) blending colors[0..1].
    - grid: windows; colors[1] inside a centred rectangle of fraction duty x duty2 of each
      period x period2 cell on the plane spanned by `axes`, colors[0] elsewhere.
    """

    texture: str
    colors: tuple[RGB, ...]
    period: float = 1.0
    period2: float = 1.0
    duty: float = 0.5
    duty2: float = 0.5
    axis: str = "x"
    axes: str = "xz"
    seed: int = 0


@dataclass(frozen=True)
class Part:
    """One primitive of an object, placed by `pose` in the object frame.

    Sizes by primitive: box `size` [x,y,z] centred; quad `size` [x,y] in the z=0 plane
    facing +z; cylinder `radius`, `height` along z, centred; sphere `radius`; capsule
    `radius`, `height` (distance between the cap centres) along z, centred; torus
    `radius` (major), `radius2` (minor) around z; cone `radius`, `height` with its base
    at z=0 and tip at z=height.
    """

    name: str
    primitive: str
    pose: Pose
    material: Material
    size: tuple[float, ...] = ()
    radius: float = 0.0
    radius2: float = 0.0
    height: float = 0.0


@dataclass(frozen=True)
class ObjectSpec:
    """A labelled object: one class, one instance id (0 for "stuff"), several parts."""

    name: str
    class_name: str
    instance: int
    pose: Pose
    parts: tuple[Part, ...]


@dataclass(frozen=True)
class DirectionalLight:
    """`direction` is the (unit) direction the light travels, world frame."""

    direction: Vec3
    intensity: float


@dataclass(frozen=True)
class Lights:
    ambient: float
    directional: tuple[DirectionalLight, ...]
    shadows: bool


@dataclass(frozen=True)
class RigSegment:
    """A group of cameras, `share` of the views.

    - orbit: eyes on a sphere of `radius` around `center`, elevations within
      `elevation_deg`, looking at `center`.
    - line: eyes evenly spaced from `eye_from` to `eye_to`, each looking at the matching
      point from `target_from` to `target_to`.
    Every eye and target is jittered by up to `jitter` metres (seeded).
    """

    type: str
    share: float
    jitter: float = 0.0
    center: Vec3 = (0.0, 0.0, 0.0)
    radius: float = 1.0
    elevation_deg: tuple[float, float] = (10.0, 60.0)
    eye_from: Vec3 = (0.0, 0.0, 0.0)
    eye_to: Vec3 = (0.0, 0.0, 0.0)
    target_from: Vec3 = (1.0, 0.0, 0.0)
    target_to: Vec3 = (1.0, 0.0, 0.0)


@dataclass(frozen=True)
class Rig:
    """The scene's default camera rig: pinhole cameras with horizontal field of view
    `fov_deg` and principal point at the image centre."""

    fov_deg: float
    segments: tuple[RigSegment, ...]


@dataclass(frozen=True)
class SceneSpec:
    """A whole scene file. `background` is the colour of rays that hit nothing (sky)."""

    name: str
    background: RGB
    lights: Lights
    objects: tuple[ObjectSpec, ...]
    rig: Rig
