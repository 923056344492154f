"""Composed scene YAML -> `ComposedSceneSpec`, with one-line errors naming the file.

Files are read and typed fields checked as ground-truth scenes are (`nerfgen.yaml_file`,
`nerfgen.mapping_reader`), and the camera rig is the ground-truth scene parser's, so both
kinds of scene file report errors alike.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nerfgen.classes import CLASS_IDS, MAX_INSTANCE_ID
from nerfgen.mapping_reader import MappingReader
from nerfgen.procedural.parse import parse_rig, parse_scene
from nerfgen.procedural.spec import Pose, SceneSpec
from nerfgen.scene.spec import Asset, Background, ComposedSceneSpec, Hole, PlacedObject
from nerfgen.yaml_file import read_yaml

_GT_SUFFIXES = (".yaml", ".yml")


def is_composed_scene(data: Any) -> bool:
    """True for composed scene data: objects with an `asset`, or a `background` that is not
    an RGB colour (ground-truth scenes give `background: [r, g, b]` and objects with parts)."""
    if not isinstance(data, dict):
        return False
    objects = data.get("objects")
    if isinstance(objects, list) and any(isinstance(o, dict) and "asset" in o for o in objects):
        return True
    return "background" in data and not isinstance(data["background"], list)


def load_composed_scene_spec(path: str | Path) -> ComposedSceneSpec:
    path = Path(path)
    return parse_composed_scene(path, read_yaml(path))


def parse_composed_scene(path: Path, data: Any) -> ComposedSceneSpec:
    """Validates loaded YAML data; relative asset paths are resolved against path's folder."""
    r = MappingReader(path, data, "scene")
    r.check_keys(("background", "objects", "rig"))
    background = _background(r) if r.raw("background", None) is not None else None
    raw_objects = r.raw("objects", [])
    if not isinstance(raw_objects, list):
        r.fail("'objects' must be a list")
    objects = tuple(_object(MappingReader(path, o, f"objects[{i}]")) for i, o in enumerate(raw_objects))
    seen: set[int] = set()
    for o in objects:
        if o.instance_id in seen:
            r.fail(f"duplicate instance_id {o.instance_id}")
        seen.add(o.instance_id)
    rig = parse_rig(r.child("rig", "rig")) if r.has("rig") else None
    return ComposedSceneSpec(path=path, background=background, objects=objects, rig=rig)


def _asset(r: MappingReader, key: str) -> Asset:
    path = r.file.parent / r.text(key)
    is_gt = path.suffix in _GT_SUFFIXES
    if not (path.is_file() if is_gt else path.exists()):
        r.fail(f"'{key}' {path} does not exist ({'scene file' if is_gt else 'trained run directory'})")
    gt = path if is_gt else None
    if r.has("gt"):
        gt = r.file.parent / r.text("gt")
        if gt.suffix not in _GT_SUFFIXES or not gt.is_file():
            r.fail(f"'gt' {gt} is not a ground-truth scene file")
    return Asset(path=path, is_gt=is_gt, gt=gt)


def _background(r: MappingReader) -> Background:
    raw = r.raw("background")
    b = MappingReader(r.file, {"asset": raw} if isinstance(raw, str) else raw, "background")
    b.check_keys(("asset", "gt", "holes"))
    holes = b.raw("holes", [])
    if not isinstance(holes, list):
        b.fail("'holes' must be a list of boxes")
    return Background(
        asset=_asset(b, "asset"),
        holes=tuple(_hole(MappingReader(r.file, h, f"background.holes[{i}]")) for i, h in enumerate(holes)),
    )


def _rotation(r: MappingReader) -> tuple[float, float, float]:
    if r.has("yaw_deg") and r.has("rotation_deg"):
        r.fail("give either 'yaw_deg' or 'rotation_deg', not both")
    return (0.0, 0.0, r.number("yaw_deg")) if r.has("yaw_deg") else r.numbers("rotation_deg", 3, (0, 0, 0))


def _hole(r: MappingReader) -> Hole:
    r.check_keys(("center", "size", "yaw_deg", "rotation_deg"))
    return Hole(center=r.numbers("center", 3), size=r.numbers("size", 3, positive=True), rotation_deg=_rotation(r))


def _object(r: MappingReader) -> PlacedObject:
    r.check_keys(("asset", "gt", "class", "instance_id", "position", "yaw_deg", "rotation_deg", "scale"))
    class_name = r.text("class")
    if class_name not in CLASS_IDS or class_name == "none":
        r.fail(f"unknown class '{class_name}' (allowed: {', '.join(list(CLASS_IDS)[1:])})")
    instance_id = r.integer("instance_id", min_value=1, max_value=MAX_INSTANCE_ID)  # 16-bit instance masks
    return PlacedObject(
        asset=_asset(r, "asset"),
        class_name=class_name,
        instance_id=instance_id,
        pose=Pose(translation=r.numbers("position", 3), rotation_deg=_rotation(r)),
        scale=r.number("scale", 1.0, positive=True),
    )


def load_any_scene_spec(path: str | Path) -> SceneSpec | ComposedSceneSpec:
    """The validated spec of a scene file of either kind: a procedural scene or a composed one."""
    path = Path(path)
    data = read_yaml(path)
    return parse_composed_scene(path, data) if is_composed_scene(data) else parse_scene(path, data)
