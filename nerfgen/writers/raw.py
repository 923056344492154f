"""The raw dataset layout: what `nerfgen render` writes and `nerfgen export` reads.

    RAW/meta.json                      tool, version, scene, seed, command, classes,
                                       instances, frame_count, outputs
    RAW/labels/000000.json             FrameLabels (camera + instances), always
    RAW/rgb/000000.png                 uint8 RGB                            (output "rgb")
    RAW/depth_z/000000.npy             float32 [H,W] m along the optical axis, 0 = none  ("depth")
    RAW/range/000000.npy               float32 [H,W] m along the ray, 0 = none           ("depth")
    RAW/normals/000000.npy             float32 [H,W,3] world-frame unit normals, 0 = none ("normals")
    RAW/instance/000000.png            uint16 instance id, 0 = none                     ("masks")
    RAW/class/000000.png               uint8 class id (meta "classes"), 0 = none        ("masks")
    RAW/opacity/000000.npy             float32 [H,W] in [0,1]                           ("masks")
    RAW/correspondences/000000.npz     u, v float32 [H,W] in the next frame, valid bool ("correspondences")
    RAW/alone/000000.npz               per instance in view, "<instance id>": bool [H,W] amodal mask
                                       (the object rendered alone; BOP's mask/)          ("masks" + "boxes")
    RAW/lidar/000000.npz               LidarScan fields (points in the LiDAR frame), when a sweep is given
    RAW/pointcloud/000000.ply          the same sweep as binary PLY in world coordinates: x, y, z float32,
                                       intensity float32, ring, instance, class int32 (for viewers)
    RAW/manifest.json                  tool version, seed, command, sha256 per file (nerfgen.writers.manifest)

meta.json's "lidar" describes the LiDAR (name, beam elevations, azimuth resolution, range
window, sensor_to_ego) or is null.

Instance labels (boxes, poses, occlusion, truncation) are in labels/*.json when output
"boxes" is on, else their "instances" list is empty. Every encoder is deterministic
(PNG without timestamps, npz with fixed zip dates, floats as shortest repr), so the
same frames give the same bytes. `read_raw_frame` returns zeros for a map whose output
was not written: check `read_raw_meta(root)["outputs"]`.
"""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from dataclasses import fields
from pathlib import Path
from typing import Callable, Iterable, Sequence

import numpy as np
from PIL import Image

from nerfgen.atomic import atomic_write_bytes
from nerfgen.classes import CLASS_NAMES
from nerfgen.errors import NerfgenError
from nerfgen.labels.frames import RenderedFrame
from nerfgen.labels.serialize import labels_from_json, labels_to_json
from nerfgen.labels.types import FrameLabels
from nerfgen.output_dir import output_dir
from nerfgen.progress import progress_bar
from nerfgen.render.frame import FrameMaps, LidarScan, SceneInstance
from nerfgen.sensors.lidar_specs import LidarSpec
from nerfgen.writers.encode import json_bytes, npy_bytes, png_bytes, rgb_u8
from nerfgen.writers.manifest import MANIFEST_NAME, manifest_bytes
from nerfgen.writers.pointcloud import scan_world_ply_bytes

OUTPUTS: tuple[str, ...] = ("rgb", "depth", "normals", "masks", "boxes", "correspondences")
META_NAME = "meta.json"
_ZIP_DATE = (1980, 1, 1, 0, 0, 0)  # fixed member timestamps: same arrays, same npz bytes

FrameSource = Callable[[int], Iterable[RenderedFrame]]
"""frames(first) yields the frames first, first + 1, ..., frame_count - 1 in order, e.g.
`lambda first: render_frames(renderer, cameras, first=first)` or `lambda first: frames[first:]`."""


def frame_name(index: int) -> str:
    return f"{index:06d}"


def raw_meta(
    instances: Sequence[SceneInstance],
    frame_count: int,
    outputs: Sequence[str] = OUTPUTS,
    scene: str | None = None,
    seed: int | None = None,
    command: Sequence[str] = (),
    lidar: LidarSpec | None = None,
) -> dict:
    """The meta.json document of a raw dataset."""
    import nerfgen

    unknown = sorted(set(outputs) - set(OUTPUTS))
    if unknown:
        raise NerfgenError(None, f"unknown outputs {unknown} (expected some of {list(OUTPUTS)})")
    return {
        "tool": "nerfgen",
        "version": nerfgen.__version__,
        "scene": scene,
        "seed": seed,
        "command": list(command),
        "classes": {str(i): name for i, name in enumerate(CLASS_NAMES)},
        "instances": [
            {
                "instance_id": int(obj.instance_id),
                "class_name": obj.class_name,
                "class_id": int(obj.class_id),
                "size": np.asarray(obj.size, dtype=np.float64).tolist(),
                "obj_to_world": np.asarray(obj.pose, dtype=np.float64).tolist(),
            }
            for obj in instances
        ],
        "frame_count": int(frame_count),
        "outputs": [o for o in OUTPUTS if o in outputs],
        "lidar": None
        if lidar is None
        else {
            "name": lidar.name,
            "elevation_deg": list(lidar.elevation_deg),
            "azimuth_resolution_deg": lidar.azimuth_resolution_deg,
            "min_range": lidar.min_range,
            "max_range": lidar.max_range,
            "sensor_to_ego": np.asarray(lidar.sensor_to_ego, dtype=np.float64).tolist(),
        },
    }


def write_raw_dataset(
    out: str | Path,
    frames: FrameSource,
    meta: dict,
    progress: bool = True,
    resume: bool = False,
    overwrite: bool = False,
) -> Path:
    """Writes `frames` and `meta` (from `raw_meta`) to `out` atomically: the directory
    appears only when every frame is written, under nerfgen.output_dir's policy (an existing
    non-empty `out` only with `overwrite`, and only one nerfgen wrote). With `resume`, an
    interrupted run (also with `resume`) of the same meta and scene file continues (module doc)."""
    with output_dir(out, "render", raw_inputs(meta), overwrite, resume, raw_stamp(meta)) as work:
        write_raw_frames(work, frames, meta, progress)
    return Path(out)


def raw_inputs(meta: dict) -> tuple[str, ...]:
    """The files a raw dataset is rendered from (its scene file), which its output must not touch."""
    return (meta["scene"],) if meta.get("scene") else ()


def raw_stamp(meta: dict) -> bytes:
    """What a resumed render must share with the interrupted one: the meta (scene, seed,
    command, outputs, instances, LiDAR) and the bytes of the scene file it names, when it exists."""
    scene = meta.get("scene")
    scene_sha256 = hashlib.sha256(Path(scene).read_bytes()).hexdigest() if scene and Path(scene).is_file() else None
    return json_bytes({"meta": meta, "scene_sha256": scene_sha256})


def write_raw_frames(root: Path, frames: FrameSource, meta: dict, progress: bool = True) -> None:
    """Writes the frames missing in `root` (all, or those after the complete ones of an
    interrupted run), then meta.json and manifest.json."""
    first = complete_frames(root, meta)
    with progress_bar(progress) as bar:
        task = bar.add_task(f"render {root.name}", total=meta["frame_count"], completed=first)
        count = first
        for frame in frames(first):
            write_raw_frame(
                root, frame.maps, frame.labels, meta["outputs"], frame.correspondences, frame.lidar, frame.alone_masks
            )
            count += 1
            bar.advance(task)
    if count != meta["frame_count"]:
        raise NerfgenError(root, f"meta announces {meta['frame_count']} frames, {count} were rendered")
    atomic_write_bytes(root / META_NAME, json_bytes(meta))
    atomic_write_bytes(root / MANIFEST_NAME, manifest_bytes(root, meta.get("seed"), meta["command"]))


def complete_frames(root: Path, meta: dict) -> int:
    """How many frames from 0 on are completely written in `root`: their labels file parses
    and every map the outputs promise is there and not empty (a file emptied or cut short
    by a fault outside nerfgen, whose own writes are atomic, is rendered again)."""
    first = 0
    while first < meta["frame_count"] and _frame_complete(root, first, meta):
        first += 1
    return first


def _frame_complete(root: Path, index: int, meta: dict) -> bool:
    name = frame_name(index)
    expected = [
        f"{folder}/{name}.{ext}"
        for output, files in _FRAME_FILES.items()
        if output in meta["outputs"]
        for folder, ext in files
    ]
    if meta.get("lidar") is not None:
        expected += [f"lidar/{name}.npz", f"pointcloud/{name}.ply"]
    return all(_intact(root / f) for f in [*expected, f"labels/{name}.json"])


_PNG_END = b"IEND\xaeB`\x82"  # the last chunk of every PNG file


def _intact(path: Path) -> bool:
    """Whether a frame file is there whole: nerfgen writes atomically, so an empty or cut
    file comes from a fault outside it (a full disk, a copy interrupted), and is redone."""
    try:
        data = path.read_bytes()
        if path.suffix == ".png":
            return data.endswith(_PNG_END)
        if path.suffix == ".npy":
            array = np.load(io.BytesIO(data), allow_pickle=False)
            return array.size > 0
        if path.suffix == ".npz":
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                return archive.testzip() is None
        if path.suffix == ".json":
            json.loads(data)
            return True
        return b"end_header\n" in data[:4096]  # .ply: the sweep's points follow the header
    except (OSError, ValueError, zipfile.BadZipFile, EOFError):
        return False


# Per output, the (folder, extension) of the files every frame has (correspondences and
# amodal masks are left out: the last frame and frames without instances have none).
_FRAME_FILES: dict[str, tuple[tuple[str, str], ...]] = {
    "rgb": (("rgb", "png"),),
    "depth": (("depth_z", "npy"), ("range", "npy")),
    "normals": (("normals", "npy"),),
    "masks": (("instance", "png"), ("class", "png"), ("opacity", "npy")),
}


def write_raw_frame(
    root: str | Path,
    maps: FrameMaps,
    labels: FrameLabels,
    outputs: Sequence[str] = OUTPUTS,
    correspondences: tuple[np.ndarray, np.ndarray] | None = None,  # uv [H,W,2], valid [H,W]
    lidar: LidarScan | None = None,
    alone_masks: dict[int, np.ndarray] | None = None,  # instance id -> [H,W] bool amodal mask
) -> None:
    """Writes one frame's files (those of `outputs`, plus lidar when given), each atomically,
    the labels last (a frame whose labels exist is complete)."""
    root, name = Path(root), frame_name(labels.index)
    files = {}
    if "rgb" in outputs:
        files[f"rgb/{name}.png"] = png_bytes(rgb_u8(maps.rgb))
    if "depth" in outputs:
        files[f"depth_z/{name}.npy"] = npy_bytes(maps.depth_z.astype(np.float32))
        files[f"range/{name}.npy"] = npy_bytes(maps.range.astype(np.float32))
    if "normals" in outputs:
        files[f"normals/{name}.npy"] = npy_bytes(maps.normals_world.astype(np.float32))
    if "masks" in outputs:
        files[f"instance/{name}.png"] = png_bytes(_checked_ids(maps.instance, np.uint16, "instance"))
        files[f"class/{name}.png"] = png_bytes(_checked_ids(maps.class_id, np.uint8, "class"))
        files[f"opacity/{name}.npy"] = npy_bytes(maps.opacity.astype(np.float32))
    if "correspondences" in outputs and correspondences is not None:
        uv, valid = correspondences
        files[f"correspondences/{name}.npz"] = npz_bytes(
            {"u": uv[..., 0].astype(np.float32), "v": uv[..., 1].astype(np.float32), "valid": valid.astype(bool)}
        )
    if "masks" in outputs and "boxes" in outputs and alone_masks is not None:
        files[f"alone/{name}.npz"] = npz_bytes({str(i): alone_masks[i].astype(bool) for i in sorted(alone_masks)})
    if lidar is not None:
        files[f"lidar/{name}.npz"] = npz_bytes({f.name: np.asarray(getattr(lidar, f.name)) for f in fields(LidarScan)})
        files[f"pointcloud/{name}.ply"] = scan_world_ply_bytes(lidar)
    files[f"labels/{name}.json"] = json_bytes(labels_to_json(labels), indent=None)
    for relpath, data in files.items():
        path = root / relpath
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise NerfgenError(path.parent, f"cannot create directory ({e.strerror or e})") from None
        atomic_write_bytes(path, data)


def read_raw_meta(root: str | Path) -> dict:
    path = Path(root) / META_NAME
    doc = _read_json(path)
    missing = [k for k in ("frame_count", "outputs", "instances", "classes") if k not in doc]
    if missing:
        raise NerfgenError(path, f"not a raw nerfgen dataset: missing {missing}")
    return doc


def read_raw_lidar_spec(root: str | Path) -> LidarSpec | None:
    """The LiDAR that meta.json describes (as `raw_meta` wrote it), None when it has none."""
    path = Path(root) / META_NAME
    doc = read_raw_meta(root).get("lidar")
    if doc is None:
        return None
    try:
        return LidarSpec(
            doc["name"],
            tuple(float(e) for e in doc["elevation_deg"]),
            float(doc["azimuth_resolution_deg"]),
            float(doc["min_range"]),
            float(doc["max_range"]),
            np.asarray(doc["sensor_to_ego"], dtype=np.float64).reshape(4, 4),
        )
    except (KeyError, TypeError, ValueError) as e:
        raise NerfgenError(path, f"malformed 'lidar' ({type(e).__name__}: {e})") from None


def read_raw_frame(root: str | Path, index: int) -> tuple[FrameMaps, FrameLabels]:
    """Frame `index` as written; maps of outputs not written are zeros."""
    root, name = Path(root), frame_name(index)
    outputs = read_raw_meta(root)["outputs"]
    labels_path = root / "labels" / f"{name}.json"
    try:
        labels = labels_from_json(_read_json(labels_path))
    except (KeyError, TypeError, ValueError) as e:
        raise NerfgenError(labels_path, f"malformed frame labels ({e})") from None
    shape = (labels.height, labels.width)

    def layer(output: str, relpath: str, read, zeros_shape=shape, dtype=np.float32) -> np.ndarray:
        if output not in outputs:
            return np.zeros(zeros_shape, dtype)
        path = root / relpath
        try:
            values = read(path)
        except (OSError, ValueError) as e:
            raise NerfgenError(path, f"cannot read ({e})") from None
        if values.shape[:2] != shape:
            raise NerfgenError(path, f"has size {values.shape[:2]}, labels say {shape}")
        return values

    maps = FrameMaps(
        rgb=layer("rgb", f"rgb/{name}.png", _read_png, (*shape, 3), np.uint8).astype(np.float32) / 255.0,
        depth_z=layer("depth", f"depth_z/{name}.npy", np.load),
        range=layer("depth", f"range/{name}.npy", np.load),
        opacity=layer("masks", f"opacity/{name}.npy", np.load),
        normals_world=layer("normals", f"normals/{name}.npy", np.load, (*shape, 3)),
        instance=layer("masks", f"instance/{name}.png", _read_png, dtype=np.int32).astype(np.int32),
        class_id=layer("masks", f"class/{name}.png", _read_png, dtype=np.int32).astype(np.int32),
    )
    return maps, labels


def read_raw_correspondences(root: str | Path, index: int) -> tuple[np.ndarray, np.ndarray] | None:
    """(uv [H,W,2] float32 in frame index+1, valid [H,W] bool), None if not written."""
    path = Path(root) / "correspondences" / f"{frame_name(index)}.npz"
    if not path.is_file():
        return None
    arrays = _read_npz(path)
    return np.stack([arrays["u"], arrays["v"]], -1), arrays["valid"]


def read_raw_alone_masks(root: str | Path, index: int) -> dict[int, np.ndarray] | None:
    """Instance id -> [H,W] bool amodal mask of frame `index`, None if not written."""
    path = Path(root) / "alone" / f"{frame_name(index)}.npz"
    if not path.is_file():
        return None
    arrays = _read_npz(path)
    if not all(key.isdigit() for key in arrays):
        raise NerfgenError(path, f"keys must be instance ids, got {sorted(arrays)}")
    return {int(key): mask.astype(bool) for key, mask in arrays.items()}


def read_raw_lidar(root: str | Path, index: int) -> LidarScan | None:
    path = Path(root) / "lidar" / f"{frame_name(index)}.npz"
    if not path.is_file():
        return None
    arrays = _read_npz(path)
    missing = [f.name for f in fields(LidarScan) if f.name not in arrays]
    if missing:
        raise NerfgenError(path, f"missing LiDAR fields {missing}")
    values = {f.name: arrays[f.name] for f in fields(LidarScan)}
    values["n_beams_fired"] = int(values["n_beams_fired"])
    return LidarScan(**values)


def npz_bytes(arrays: dict[str, np.ndarray]) -> bytes:
    """An .npz archive (readable by np.load) whose bytes depend only on the arrays."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for key, value in arrays.items():
            info = zipfile.ZipInfo(f"{key}.npy", date_time=_ZIP_DATE)
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, npy_bytes(value))
    return buf.getvalue()


def _checked_ids(ids: np.ndarray, dtype, what: str) -> np.ndarray:
    if ids.size and (ids.min() < 0 or ids.max() > np.iinfo(dtype).max):
        raise NerfgenError(None, f"{what} ids must be in [0, {np.iinfo(dtype).max}] for a PNG, got {ids.max()}")
    return ids.astype(dtype)


def _read_png(path: Path) -> np.ndarray:
    with Image.open(path) as image:
        return np.asarray(image)


def _read_npz(path: Path) -> dict[str, np.ndarray]:
    try:
        with np.load(path, allow_pickle=False) as archive:
            return {k: archive[k] for k in archive.files}
    except (OSError, ValueError, zipfile.BadZipFile) as e:
        raise NerfgenError(path, f"cannot read ({e})") from None


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text())
    except OSError as e:
        raise NerfgenError(path, f"cannot read ({e.strerror or e})") from None
    except json.JSONDecodeError as e:
        raise NerfgenError(path, f"invalid JSON ({e})") from None
