"""Scene YAML -> `SceneSpec`, with one-line errors that name the file and the problem.

Only `yaml.safe_load` is used: loading a scene never executes code. YAML anchors and
aliases are allowed (the street reuses one wheel definition for every car).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from nerfgen.errors import NerfgenError
from nerfgen.gt.classes import CLASS_IDS
from nerfgen.gt.spec import (
    PRIMITIVES,
    RIG_TYPES,
    TEXTURES,
    DirectionalLight,
    Lights,
    Material,
    ObjectSpec,
    Part,
    Pose,
    Rig,
    RigSegment,
    SceneSpec,
)

# Per primitive: the size keys it requires.
_PRIMITIVE_KEYS: dict[str, tuple[str, ...]] = {
    "box": ("size",),
    "quad": ("size",),
    "cylinder": ("radius", "height"),
    "sphere": ("radius",),
    "capsule": ("radius", "height"),
    "torus": ("radius", "radius2"),
    "cone": ("radius", "height"),
}
_SIZE_LEN = {"box": 3, "quad": 2}
_AXES = "xyz"


class _Reader:
    """Reads typed fields out of a YAML mapping; `where` says which entry in errors."""

    def __init__(self, file: Path, data: Any, where: str):
        self.file = file
        self.where = where
        if not isinstance(data, dict):
            self.fail(f"expected a mapping, got {type(data).__name__}")
        self.data = data

    def fail(self, problem: str):
        raise NerfgenError(self.file, f"{self.where}: {problem}")

    def has(self, key: str) -> bool:
        return key in self.data

    def raw(self, key: str, default: Any = ...) -> Any:
        if key not in self.data:
            if default is ...:
                self.fail(f"missing key '{key}'")
            return default
        return self.data[key]

    def child(self, key: str, where: str) -> "_Reader":
        return _Reader(self.file, self.raw(key), where)

    def text(self, key: str, default: Any = ...) -> str:
        v = self.raw(key, default)
        if not isinstance(v, str):
            self.fail(f"'{key}' must be a string, got {v!r}")
        return v

    def integer(self, key: str, default: Any = ...) -> int:
        v = self.raw(key, default)
        if isinstance(v, bool) or not isinstance(v, int):
            self.fail(f"'{key}' must be an integer, got {v!r}")
        return v

    def flag(self, key: str, default: Any = ...) -> bool:
        v = self.raw(key, default)
        if not isinstance(v, bool):
            self.fail(f"'{key}' must be true or false, got {v!r}")
        return v

    def number(self, key: str, default: Any = ..., positive: bool = False, min_value: float | None = None) -> float:
        v = self.raw(key, default)
        if isinstance(v, bool) or not isinstance(v, (int, float)):
            self.fail(f"'{key}' must be a number, got {v!r}")
        if positive and not v > 0:
            self.fail(f"'{key}' must be positive, got {v!r}")
        if min_value is not None and v < min_value:
            self.fail(f"'{key}' must be >= {min_value}, got {v!r}")
        return float(v)

    def numbers(self, key: str, n: int, default: Any = ..., positive: bool = False) -> tuple[float, ...]:
        v = self.raw(key, default)
        ok = isinstance(v, (list, tuple)) and len(v) == n
        ok = ok and all(isinstance(x, (int, float)) and not isinstance(x, bool) for x in v)
        if not ok:
            self.fail(f"'{key}' must be a list of {n} numbers, got {v!r}")
        if positive and not all(x > 0 for x in v):
            self.fail(f"'{key}' must be positive, got {v!r}")
        return tuple(float(x) for x in v)

    def items(self, key: str) -> list:
        v = self.raw(key)
        if not isinstance(v, list) or not v:
            self.fail(f"'{key}' must be a non-empty list")
        return v


def load_scene_spec(path: str | Path) -> SceneSpec:
    """Reads and validates a scene YAML file."""
    path = Path(path)
    try:
        text = path.read_text()
    except OSError as e:
        raise NerfgenError(path, f"cannot read scene file ({e.strerror or e})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as e:
        mark = getattr(e, "problem_mark", None)
        line = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(e, "problem", None) or str(e).splitlines()[0]
        raise NerfgenError(path, f"malformed YAML{line}: {problem}") from None
    return parse_scene(path, data)


def parse_scene(path: Path, data: Any) -> SceneSpec:
    """Validates already-loaded YAML data (`path` is only used in error messages)."""
    r = _Reader(path, data, "scene")
    objects = tuple(_object(path, o, i) for i, o in enumerate(r.items("objects")))
    _check_unique(r, [o.name for o in objects], "object name")
    _check_unique(r, [o.instance for o in objects if o.instance > 0], "instance id")
    return SceneSpec(
        name=r.text("name"),
        background=_rgb(r, "background"),
        lights=_lights(r.child("lights", "lights")),
        objects=objects,
        rig=_rig(r.child("rig", "rig")),
    )


def _check_unique(r: _Reader, values: list, what: str) -> None:
    seen = set()
    for v in values:
        if v in seen:
            r.fail(f"duplicate {what} {v!r}")
        seen.add(v)


def _rgb(r: _Reader, key: str, default: Any = ...) -> tuple[float, float, float]:
    c = r.numbers(key, 3, default)
    if not all(0.0 <= x <= 1.0 for x in c):
        r.fail(f"'{key}' must be an RGB colour with components in [0, 1], got {list(c)}")
    return c


def _pose(r: _Reader) -> Pose:
    if not r.has("pose"):
        return Pose()
    p = r.child("pose", f"{r.where}.pose")
    if p.has("yaw_deg") and p.has("rotation_deg"):
        p.fail("give either 'yaw_deg' or 'rotation_deg', not both")
    rotation = (0.0, 0.0, p.number("yaw_deg")) if p.has("yaw_deg") else p.numbers("rotation_deg", 3, (0, 0, 0))
    return Pose(translation=p.numbers("translation", 3, (0, 0, 0)), rotation_deg=rotation)


def _object(path: Path, data: Any, index: int) -> ObjectSpec:
    r = _Reader(path, data, f"objects[{index}]")
    name = r.text("name")
    r.where = f"object '{name}'"
    class_name = r.text("class")
    if class_name not in CLASS_IDS or class_name == "none":
        r.fail(f"unknown class '{class_name}' (allowed: {', '.join(list(CLASS_IDS)[1:])})")
    instance = r.integer("instance")
    if instance < 0:
        r.fail(f"'instance' must be >= 0 (0 = stuff without instance), got {instance}")
    parts: list[Part] = []
    # A nested list stands for its items: lets a YAML alias share a group of parts.
    entries = [q for p in r.items("parts") for q in (p if isinstance(p, list) else [p])]
    for j, p in enumerate(entries):
        parts.extend(_parts(_Reader(path, p, f"object '{name}' parts[{j}]")))
    _check_unique(r, [p.name for p in parts], "part name")
    return ObjectSpec(name=name, class_name=class_name, instance=instance, pose=_pose(r), parts=tuple(parts))


def _parts(r: _Reader) -> list[Part]:
    """One part, or `repeat.count` copies shifted by `repeat.step` (named name_0, name_1...)."""
    name = r.text("name")
    r.where = f"{r.where.split(' parts[')[0]} part '{name}'"
    primitive = r.text("primitive")
    if primitive not in PRIMITIVES:
        r.fail(f"unknown primitive '{primitive}' (allowed: {', '.join(PRIMITIVES)})")
    sizes: dict[str, Any] = {}
    for key in _PRIMITIVE_KEYS[primitive]:
        if key == "size":
            sizes["size"] = r.numbers("size", _SIZE_LEN[primitive], positive=True)
        else:
            sizes[key] = r.number(key, positive=True)
    if primitive == "torus" and sizes["radius2"] >= sizes["radius"]:
        r.fail("torus 'radius2' (minor) must be smaller than 'radius' (major)")
    material = _material(r.child("material", f"{r.where} material"))
    pose = _pose(r)
    if not r.has("repeat"):
        return [Part(name=name, primitive=primitive, pose=pose, material=material, **sizes)]
    rep = r.child("repeat", f"{r.where} repeat")
    count = rep.integer("count")
    if count < 1:
        rep.fail(f"'count' must be >= 1, got {count}")
    step = rep.numbers("step", 3)
    parts = []
    for k in range(count):
        t = tuple(a + k * s for a, s in zip(pose.translation, step))
        parts.append(
            Part(name=f"{name}_{k}", primitive=primitive, material=material,
                 pose=Pose(translation=t, rotation_deg=pose.rotation_deg), **sizes)
        )
    return parts


def _material(r: _Reader) -> Material:
    texture = r.text("texture")
    if texture not in TEXTURES:
        r.fail(f"unknown texture '{texture}' (allowed: {', '.join(TEXTURES)})")
    if texture == "solid":
        return Material(texture=texture, colors=(_rgb(r, "color"),))
    raw = r.raw("colors")
    if not isinstance(raw, list) or len(raw) != 2:
        r.fail(f"'colors' must be a list of 2 RGB colours for texture '{texture}'")
    colors = tuple(_rgb(_Reader(r.file, {"colors": c}, r.where), "colors") for c in raw)
    m = Material(texture=texture, colors=colors, period=r.number("period", 1.0, positive=True))
    if texture == "stripes":
        axis = r.text("axis", "x")
        if axis not in _AXES:
            r.fail(f"'axis' must be one of x, y, z, got {axis!r}")
        return Material(texture, colors, m.period, duty=_fraction(r, "duty"), axis=axis)
    if texture == "noise":
        return Material(texture, colors, m.period, seed=r.integer("seed", 0))
    if texture == "grid":
        axes = r.text("axes", "xz")
        if len(axes) != 2 or axes[0] == axes[1] or any(a not in _AXES for a in axes):
            r.fail(f"'axes' must be two different letters of xyz, got {axes!r}")
        return Material(texture, colors, m.period, r.number("period2", m.period, positive=True),
                        _fraction(r, "duty"), _fraction(r, "duty2"), axes=axes)
    return m


def _fraction(r: _Reader, key: str) -> float:
    v = r.number(key, 0.5)
    if not 0.0 < v < 1.0:
        r.fail(f"'{key}' must be in (0, 1), got {v}")
    return v


def _lights(r: _Reader) -> Lights:
    lights = []
    for i, d in enumerate(r.items("directional")):
        lr = _Reader(r.file, d, f"lights.directional[{i}]")
        direction = lr.numbers("direction", 3)
        norm = sum(x * x for x in direction) ** 0.5
        if norm == 0:
            lr.fail("'direction' must be non-zero")
        lights.append(DirectionalLight(tuple(x / norm for x in direction), lr.number("intensity", min_value=0.0)))
    return Lights(ambient=r.number("ambient", min_value=0.0), directional=tuple(lights), shadows=r.flag("shadows", False))


def _rig(r: _Reader) -> Rig:
    fov = r.number("fov_deg", positive=True)
    if fov >= 180:
        r.fail(f"'fov_deg' must be below 180, got {fov}")
    segments = []
    for i, s in enumerate(r.items("segments")):
        sr = _Reader(r.file, s, f"rig.segments[{i}]")
        kind = sr.text("type")
        if kind not in RIG_TYPES:
            sr.fail(f"unknown rig type '{kind}' (allowed: {', '.join(RIG_TYPES)})")
        common = dict(type=kind, share=sr.number("share", positive=True), jitter=sr.number("jitter", 0.0, min_value=0.0))
        if kind == "orbit":
            elevation = sr.numbers("elevation_deg", 2)
            if not -90 <= elevation[0] <= elevation[1] <= 90:
                sr.fail(f"'elevation_deg' must be [low, high] within [-90, 90], got {list(elevation)}")
            segments.append(RigSegment(**common, center=sr.numbers("center", 3),
                                       radius=sr.number("radius", positive=True), elevation_deg=elevation))
        else:
            segments.append(RigSegment(**common, eye_from=sr.numbers("eye_from", 3), eye_to=sr.numbers("eye_to", 3),
                                       target_from=sr.numbers("target_from", 3), target_to=sr.numbers("target_to", 3)))
    return Rig(fov_deg=fov, segments=tuple(segments))
