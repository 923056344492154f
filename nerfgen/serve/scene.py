"""A scene file loaded for serving: the renderer `nerfgen render` builds for it, its actors,
and renderers of the scene with the actors where their trajectories put them.

The state at a timestamp is a function of the actors' trajectories and the timestamp
alone, and renders of one state are deterministic: with every actor at its scene-file
pose the server renders with the very renderer `nerfgen render` uses, so its pixels are
the same bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Generic, Sequence, TypeVar

import numpy as np

from nerfgen.errors import NerfgenError
from nerfgen.procedural import GTRenderer, build_scene
from nerfgen.procedural.spec import SceneSpec
from nerfgen.render.frame import FrameRenderer, SceneInstance
from nerfgen.scene import (
    NeuralSceneRenderer,
    composed_gt_scene,
    default_rig,
    load_composed_scene,
)
from nerfgen.scene.parse import load_any_scene_spec
from nerfgen.serve.actors import Actor, Trajectory, actor_of
from nerfgen.serve.moving import displacement, moved_composed_scene, moved_gt_scene

START_TIME = 0  # microseconds: scene files are static, timestamps only index trajectories

SceneT = TypeVar("SceneT")


@dataclass(frozen=True)
class SceneKind(Generic[SceneT]):
    """How to render and move one kind of scene (ground truth, or composed fields)."""

    base: SceneT
    """The scene as its file places everything."""
    renderer: Callable[[SceneT], FrameRenderer]
    """A renderer of a scene of this kind."""
    moved: Callable[[SceneT, dict[int, np.ndarray]], SceneT]
    """The scene with instance i displaced by deltas[i] (nerfgen.serve.moving)."""
    instances: Callable[[SceneT], Sequence[SceneInstance]]
    """Its placed objects (the actors)."""


class ServedScene:
    """A scene's actors and its renderer at any timestamp. Not thread-safe: the server
    calls it from its one render worker thread only."""

    def __init__(self, path: Path, kind: SceneKind, rig_fov_deg: float | None):
        self.path = path
        self.kind = kind
        self.rig_fov_deg = rig_fov_deg
        self.base_renderer = kind.renderer(kind.base)
        self.actors: dict[str, Actor] = {}
        for box in kind.instances(kind.base):
            actor = actor_of(box, START_TIME)
            self.actors[actor.uuid] = actor
        self.uuids = {a.instance_id: a.uuid for a in self.actors.values()}
        self._moved_key: tuple | None = None
        self._moved_renderer: FrameRenderer | None = None

    def update(self, trajectories: dict[str, Trajectory]) -> None:
        """Replaces the trajectories of the actors named by uuid (others keep theirs)."""
        for uuid, trajectory in trajectories.items():
            self.actors[uuid].trajectory = trajectory

    def renderer_at(self, timestamp: int) -> FrameRenderer:
        """The renderer of the scene with every actor at its pose at `timestamp`. The last
        moved state's renderer is kept, so renders of one state share its build (a
        ground-truth scene's BVH)."""
        deltas = {}
        for actor in self.actors.values():
            pose = actor.trajectory.pose_at(timestamp)
            if not np.array_equal(pose, actor.initial_pose):
                deltas[actor.instance_id] = displacement(actor.initial_pose, pose)
        if not deltas:
            return self.base_renderer
        key = tuple(sorted((i, d.tobytes()) for i, d in deltas.items()))
        if key != self._moved_key:
            self._moved_renderer = self.kind.renderer(self.kind.moved(self.kind.base, deltas))
            self._moved_key = key
        return self._moved_renderer


def load_served_scene(path: Path, exact: bool = False, supersample: int = 3) -> ServedScene:
    """Loads a scene file as `nerfgen render` does: a ground-truth scene is ray cast; a
    composed one renders its fields, or with `exact` its ground-truth twin."""

    if supersample < 1:
        raise NerfgenError(None, f"--supersample must be >= 1, got {supersample}")
    spec = load_any_scene_spec(path)

    def gt_kind(scene) -> SceneKind:
        return SceneKind(scene, lambda s: GTRenderer(s, supersample), moved_gt_scene, lambda s: s.instances)

    if isinstance(spec, SceneSpec):
        if exact:
            raise NerfgenError(path, "--exact applies to composed scenes; ground-truth scenes are always exact")
        scene = build_scene(spec)
        return ServedScene(path, gt_kind(scene), scene.spec.rig.fov_deg)
    rig = default_rig(spec)
    fov = None if rig is None else rig.fov_deg
    if exact:
        return ServedScene(path, gt_kind(composed_gt_scene(spec)), fov)
    kind = SceneKind(
        load_composed_scene(spec),
        lambda s: NeuralSceneRenderer(s, supersample=supersample),
        moved_composed_scene,
        lambda s: s.boxes,
    )
    return ServedScene(path, kind, fov)
