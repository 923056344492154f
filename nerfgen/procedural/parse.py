"""Scene YAML -> `SceneSpec`, with one-line errors that name the file and the problem.

Files are read by `nerfgen.yaml_file.read_yaml` (safe loading; YAML anchors and aliases
are allowed: the street reuses one wheel definition for every car) and every value is
checked where it is read (`nerfgen.mapping_reader`): types, finiteness, ranges and
unknown keys.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nerfgen.classes import CLASS_IDS, MAX_INSTANCE_ID
from nerfgen.mapping_reader import LIMIT, SMALLEST, MappingReader
from nerfgen.procedural.spec import (
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
from nerfgen.yaml_file import read_yaml

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
# Per texture: the material keys it reads.
_TEXTURE_KEYS: dict[str, tuple[str, ...]] = {
    "solid": ("color",),
    "stripes": ("colors", "period", "duty", "axis"),
    "checker": ("colors", "period"),
    "noise": ("colors", "period", "seed"),
    "grid": ("colors", "period", "period2", "duty", "duty2", "axes"),
}
_SEGMENT_KEYS: dict[str, tuple[str, ...]] = {
    "orbit": ("center", "radius", "elevation_deg"),
    "line": ("eye_from", "eye_to", "target_from", "target_to"),
}
# A repeat makes that many parts: bounded so a typo cannot exhaust memory.
MAX_REPEAT = 10_000


def load_scene_spec(path: str | Path) -> SceneSpec:
    """Reads and validates a scene YAML file."""
    path = Path(path)
    return parse_scene(path, read_yaml(path))


def parse_scene(path: Path, data: Any) -> SceneSpec:
    """Validates already-loaded YAML data (`path` is only used in error messages)."""
    r = MappingReader(path, data, "scene")
    r.check_keys(("name", "background", "lights", "objects", "rig"))
    objects = tuple(_object(path, o, i) for i, o in enumerate(r.items("objects")))
    _check_unique(r, [o.name for o in objects], "object name")
    _check_unique(r, [o.instance for o in objects if o.instance > 0], "instance id")
    return SceneSpec(
        name=r.text("name"),
        background=_rgb(r, "background"),
        lights=_lights(r.child("lights", "lights")),
        objects=objects,
        rig=parse_rig(r.child("rig", "rig")),
    )


def _check_unique(r: MappingReader, values: list, what: str) -> None:
    seen = set()
    for v in values:
        if v in seen:
            r.fail(f"duplicate {what} {v!r}")
        seen.add(v)


def _rgb(r: MappingReader, key: str, default: Any = ...) -> tuple[float, float, float]:
    c = r.numbers(key, 3, default)
    if not all(0.0 <= x <= 1.0 for x in c):
        r.fail(f"'{key}' must be an RGB colour with components in [0, 1], got {list(c)}")
    return c


def _pose(r: MappingReader) -> Pose:
    if not r.has("pose"):
        return Pose()
    p = r.child("pose", f"{r.where}.pose")
    p.check_keys(("translation", "yaw_deg", "rotation_deg"))
    if p.has("yaw_deg") and p.has("rotation_deg"):
        p.fail("give either 'yaw_deg' or 'rotation_deg', not both")
    rotation = (0.0, 0.0, p.number("yaw_deg")) if p.has("yaw_deg") else p.numbers("rotation_deg", 3, (0, 0, 0))
    return Pose(translation=p.numbers("translation", 3, (0, 0, 0)), rotation_deg=rotation)


def _object(path: Path, data: Any, index: int) -> ObjectSpec:
    r = MappingReader(path, data, f"objects[{index}]")
    r.check_keys(("name", "class", "instance", "pose", "parts"))
    name = r.text("name")
    r.where = f"object '{name}'"
    class_name = r.text("class")
    if class_name not in CLASS_IDS or class_name == "none":
        r.fail(f"unknown class '{class_name}' (allowed: {', '.join(list(CLASS_IDS)[1:])})")
    # 0 = stuff without instance; instance masks are 16-bit PNGs
    instance = r.integer("instance", min_value=0, max_value=MAX_INSTANCE_ID)
    parts: list[Part] = []
    # A nested list stands for its items: lets a YAML alias share a group of parts.
    entries = [q for p in r.items("parts") for q in (p if isinstance(p, list) else [p])]
    for j, p in enumerate(entries):
        parts.extend(_parts(MappingReader(path, p, f"object '{name}' parts[{j}]")))
    _check_unique(r, [p.name for p in parts], "part name")
    return ObjectSpec(name=name, class_name=class_name, instance=instance, pose=_pose(r), parts=tuple(parts))


def _parts(r: MappingReader) -> list[Part]:
    """One part, or `repeat.count` copies shifted by `repeat.step` (named name_0, name_1...)."""
    name = r.text("name")
    r.where = f"{r.where.split(' parts[')[0]} part '{name}'"
    primitive = r.text("primitive")
    if primitive not in PRIMITIVES:
        r.fail(f"unknown primitive '{primitive}' (allowed: {', '.join(PRIMITIVES)})")
    r.check_keys(
        ("name", "primitive", "material", "pose", "repeat", *_PRIMITIVE_KEYS[primitive]), f"for primitive '{primitive}'"
    )
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
    rep.check_keys(("count", "step"))
    count = rep.integer("count", min_value=1, max_value=MAX_REPEAT)
    step = rep.numbers("step", 3)
    last = [a + (count - 1) * s for a, s in zip(pose.translation, step)]
    if not all(abs(x) < LIMIT for x in last):
        rep.fail(f"the last copy lands at {last}, beyond +-{LIMIT:g}")
    parts = []
    for k in range(count):
        t = tuple(a + k * s for a, s in zip(pose.translation, step))
        parts.append(
            Part(
                name=f"{name}_{k}",
                primitive=primitive,
                material=material,
                pose=Pose(translation=t, rotation_deg=pose.rotation_deg),
                **sizes,
            )
        )
    return parts


def _material(r: MappingReader) -> Material:
    texture = r.text("texture")
    if texture not in TEXTURES:
        r.fail(f"unknown texture '{texture}' (allowed: {', '.join(TEXTURES)})")
    r.check_keys(("texture", *_TEXTURE_KEYS[texture]), f"for texture '{texture}'")
    if texture == "solid":
        return Material(texture=texture, colors=(_rgb(r, "color"),))
    raw = r.raw("colors")
    if not isinstance(raw, list) or len(raw) != 2:
        r.fail(f"'colors' must be a list of 2 RGB colours for texture '{texture}'")
    colors = tuple(_rgb(MappingReader(r.file, {"colors": c}, r.where), "colors") for c in raw)
    m = Material(texture=texture, colors=colors, period=r.number("period", 1.0, positive=True))
    if texture == "stripes":
        axis = r.text("axis", "x")
        if axis not in _AXES:
            r.fail(f"'axis' must be one of x, y, z, got {axis!r}")
        return Material(texture, colors, m.period, duty=_fraction(r, "duty"), axis=axis)
    if texture == "noise":
        return Material(texture, colors, m.period, seed=r.integer("seed", 0, min_value=0, max_value=2**32 - 1))
    if texture == "grid":
        axes = r.text("axes", "xz")
        if len(axes) != 2 or axes[0] == axes[1] or any(a not in _AXES for a in axes):
            r.fail(f"'axes' must be two different letters of xyz, got {axes!r}")
        return Material(
            texture,
            colors,
            m.period,
            r.number("period2", m.period, positive=True),
            _fraction(r, "duty"),
            _fraction(r, "duty2"),
            axes=axes,
        )
    return m


def _fraction(r: MappingReader, key: str) -> float:
    v = r.number(key, 0.5)
    if not 0.0 < v < 1.0:
        r.fail(f"'{key}' must be in (0, 1), got {v}")
    return v


def _lights(r: MappingReader) -> Lights:
    r.check_keys(("ambient", "directional", "shadows"))
    lights = []
    for i, d in enumerate(r.items("directional")):
        lr = MappingReader(r.file, d, f"lights.directional[{i}]")
        lr.check_keys(("direction", "intensity"))
        direction = lr.numbers("direction", 3)
        norm = sum(x * x for x in direction) ** 0.5
        if norm == 0:
            lr.fail("'direction' must be non-zero")
        lights.append(DirectionalLight(tuple(x / norm for x in direction), lr.number("intensity", min_value=0.0)))
    return Lights(
        ambient=r.number("ambient", min_value=0.0), directional=tuple(lights), shadows=r.flag("shadows", False)
    )


def parse_rig(r: MappingReader) -> Rig:
    """The camera rig of a scene file (both kinds of scene share it)."""
    r.check_keys(("fov_deg", "segments"))
    fov = r.number("fov_deg", positive=True)
    if fov >= 180:
        r.fail(f"'fov_deg' must be below 180, got {fov}")
    segments = []
    for i, s in enumerate(r.items("segments")):
        sr = MappingReader(r.file, s, f"rig.segments[{i}]")
        kind = sr.text("type")
        if kind not in RIG_TYPES:
            sr.fail(f"unknown rig type '{kind}' (allowed: {', '.join(RIG_TYPES)})")
        sr.check_keys(("type", "share", "jitter", *_SEGMENT_KEYS[kind]), f"for rig type '{kind}'")
        common = dict(
            type=kind, share=sr.number("share", positive=True), jitter=sr.number("jitter", 0.0, min_value=0.0)
        )
        if kind == "orbit":
            elevation = sr.numbers("elevation_deg", 2)
            if not -90 < elevation[0] <= elevation[1] < 90:  # a camera straight above looks along "up"
                sr.fail(f"'elevation_deg' must be [low, high] within (-90, 90), got {list(elevation)}")
            segments.append(
                RigSegment(
                    **common,
                    center=sr.numbers("center", 3),
                    radius=sr.number("radius", positive=True),
                    elevation_deg=elevation,
                )
            )
        else:
            segment = RigSegment(
                **common,
                eye_from=sr.numbers("eye_from", 3),
                eye_to=sr.numbers("eye_to", 3),
                target_from=sr.numbers("target_from", 3),
                target_to=sr.numbers("target_to", 3),
            )
            _check_line_looks_sideways(sr, segment)
            segments.append(segment)
    return Rig(fov_deg=fov, segments=tuple(segments))


def _check_line_looks_sideways(r: MappingReader, s: RigSegment) -> None:
    """Cameras of a line look from eye (1 - f) eye_from + f eye_to at the target at the
    same f: refused where some camera would look straight up or down (or at its own eye),
    since its image "up" is then undefined. The horizontal offset target - eye moves
    linearly with f, so its smallest length is a point-to-segment distance."""
    d0 = np.subtract(s.target_from, s.eye_from)[:2]
    d1 = np.subtract(s.target_to, s.eye_to)[:2]
    span = d1 - d0
    f = 0.0 if not span.any() else float(np.clip(-(d0 @ span) / (span @ span), 0.0, 1.0))
    if np.linalg.norm(d0 + f * span) < SMALLEST:
        r.fail(
            f"the camera at fraction {f:.3g} along the line looks straight up or down: "
            "its target must be beside its eye"
        )
