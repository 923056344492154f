"""Typed description of a composed scene file: a background field, holes cut into it,
and objects (radiance fields or ground-truth assets) placed at poses.

    background:                       # optional; a string is shorthand for {asset: ...}
      asset: runs/street              # trained RUN dir (or a ground-truth scene YAML)
      gt: ../scenes/street.yaml       # optional: the ground-truth scene the RUN was captured from
      holes:                          # optional: world boxes whose density is removed
        - {center: [-12, -2.6, 0.8], size: [4.6, 2.1, 1.5], yaw_deg: 0}
    objects:
      - asset: runs/car               # RUN dir, or a ground-truth scene YAML with one instance
        gt: ../scenes/car.yaml        # optional (implied when `asset` is a scene YAML)
        class: car
        instance_id: 1                # >= 1, unique
        position: [3.0, 1.0, 0.0]
        yaw_deg: 30                   # or rotation_deg: [roll, pitch, yaw]
        scale: 1.0                    # optional, uniform
    rig: {...}                        # optional camera rig, as in scenes/*.yaml; default: the background gt's

Paths are relative to the scene file's folder. Poses follow `nerfgen.procedural.spec.Pose`:
x_world = position + scale * R(roll, pitch, yaw) @ x_asset.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from nerfgen.procedural.spec import Pose, Rig

Vec3 = tuple[float, float, float]


@dataclass(frozen=True)
class Hole:
    """An oriented world-space box (yaw/roll/pitch about its centre) where the background is emptied."""

    center: Vec3
    size: Vec3
    rotation_deg: Vec3 = (0.0, 0.0, 0.0)


@dataclass(frozen=True)
class Asset:
    """Where a field comes from: a trained run directory, or a ground-truth scene YAML
    (`is_gt`), plus the ground-truth scene it reproduces, if known (for exact twins)."""

    path: Path
    is_gt: bool
    gt: Path | None
    """Ground-truth scene YAML of the same geometry in the same frame (== path when is_gt)."""


@dataclass(frozen=True)
class Background:
    asset: Asset
    holes: tuple[Hole, ...] = ()


@dataclass(frozen=True)
class PlacedObject:
    """One object instance: `asset` placed by `pose` and uniform `scale`."""

    asset: Asset
    class_name: str
    instance_id: int
    pose: Pose
    scale: float = 1.0


@dataclass(frozen=True)
class ComposedSceneSpec:
    """A whole composed scene file (`path` is where it was read from)."""

    path: Path
    background: Background | None
    objects: tuple[PlacedObject, ...]
    rig: Rig | None
