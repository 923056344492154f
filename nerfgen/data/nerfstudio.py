"""nerfstudio `transforms.json` and Blender `transforms_{train,val,test}.json`: read and write.

Both formats store camera-to-world poses with OpenGL camera axes; nerfgen converts them
to OpenCV on load and back on write. Intrinsics may be global (top level) or per frame
(a frame's key wins): `fl_x`, `fl_y`, `cx`, `cy`, `w`, `h`, or `camera_angle_x` /
`camera_angle_y` (fx = 0.5 W / tan(0.5 angle_x)); missing `w`/`h` come from the image
header, missing `cx`/`cy` default to the image centre W/2, H/2 (pixel-corner convention).
`camera_model` is PINHOLE/SIMPLE_PINHOLE, OPENCV (k1, k2, k3, p1, p2) or OPENCV_FISHEYE
(k1..k4); without it, OPENCV when distortion keys are present, else PINHOLE.
Depth (`depth_file_path`, depth_z) is .npy or 16-bit PNG; `depth_unit_scale_factor`
(metres per unit) applies to both when given, else .npy is metres and PNG millimetres.
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import torch

from nerfgen.atomic import atomic_write_bytes
from nerfgen.cameras import DISTORTION_COEFFS, Cameras, check_poses, focal_from_fov, opencv_to_opengl, opengl_to_opencv
from nerfgen.cameras.model import MAX_DISTORTION
from nerfgen.data.dataset import Dataset
from nerfgen.data.frames import FrameFiles, FrameIndex, image_size, merge_cameras, resolve_image
from nerfgen.errors import NerfgenError
from nerfgen.json_file import read_json_object
from nerfgen.mapping_reader import MappingReader

BLENDER_SPLITS = ("train", "val", "test")
SPLIT_KEYS = {"train": "train_filenames", "val": "val_filenames", "test": "test_filenames"}
CAMERA_MODELS = {"PINHOLE": "none", "SIMPLE_PINHOLE": "none", "OPENCV": "opencv", "OPENCV_FISHEYE": "fisheye"}
WRITE_CAMERA_MODELS = {"none": "PINHOLE", "opencv": "OPENCV", "fisheye": "OPENCV_FISHEYE"}
DISTORTION_KEYS = ("k1", "k2", "k3", "k4", "p1", "p2")
# Keys a frame gives itself or takes from the top level (the frame's wins).
CAMERA_KEYS = (
    "fl_x",
    "fl_y",
    "cx",
    "cy",
    "w",
    "h",
    "camera_angle_x",
    "camera_angle_y",
    "camera_model",
    "depth_unit_scale_factor",
    *DISTORTION_KEYS,
)
# Top-level keys consumed by the reader; every other top-level key goes to `metadata`.
CONSUMED_KEYS = {"frames", *CAMERA_KEYS, *SPLIT_KEYS.values()}
MAX_IMAGE_SIZE = 100_000  # pixels, either side
# Per-frame keys written by write_transforms itself (extras may not override them).
FRAME_KEYS = {"file_path", "transform_matrix", "fl_x", "fl_y", "cx", "cy", "w", "h", "camera_model", *DISTORTION_KEYS}


def load_transforms(path: str | Path, downscale: int = 1, background=(1.0, 1.0, 1.0)) -> Dataset:
    """Loads a nerfstudio or Blender dataset (a directory or one .json file).

    `downscale` K: images are box-averaged by K (right/bottom remainder cropped, size
    floor(W / K)) and intrinsics rescaled to match; see nerfgen.data.frames.
    """
    return read_transforms(path).load(downscale, background)


def read_transforms(path: str | Path) -> FrameIndex:
    """Cameras (full resolution) and frame files of a transforms dataset, without decoding images."""
    path = Path(path)
    if path.is_dir():
        if (path / "transforms.json").is_file():
            files = [(None, path / "transforms.json")]
        else:
            files = [(s, path / f"transforms_{s}.json") for s in BLENDER_SPLITS]
            files = [(s, f) for s, f in files if f.is_file()]
            if not files:
                raise NerfgenError(path, "no transforms.json or transforms_{train,val,test}.json found")
    elif path.is_file():
        stem = path.stem
        split = stem[len("transforms_") :] if stem.startswith("transforms_") else None
        files = [(split, path)]
    else:
        raise NerfgenError(path, "does not exist")

    cams: list[dict] = []
    frames: list[FrameFiles] = []
    splits: dict[str, torch.Tensor] = {}
    metadata: dict = {}
    for split, file in files:
        file_cams, file_frames, meta = _parse_file(file)
        n, start = len(file_cams), len(cams)
        if split is not None:  # Blender: one file per split
            splits[split] = torch.arange(start, start + n, dtype=torch.int64)
        else:
            splits.update(_nerfstudio_splits(meta, file, n))
        cams += file_cams
        frames += file_frames
        metadata.update({k: v for k, v in meta.items() if k not in CONSUMED_KEYS})
    first = files[0][1]
    return FrameIndex(
        root=first.parent, cameras=merge_cameras(cams, first), frames=frames, splits=splits, metadata=metadata
    )


def _parse_file(path: Path) -> tuple[list[dict], list[FrameFiles], dict]:
    """Per-frame camera dicts (Cameras.create keywords), frame files, and the top-level object."""
    meta = read_json_object(path)
    frames = meta.get("frames")
    if not isinstance(frames, list) or not frames:
        raise NerfgenError(path, "'frames' is missing or empty" if not frames else "'frames' must be a list")
    root = path.parent
    cams, files = [], []
    for i, frame in enumerate(frames):
        if not isinstance(frame, dict):
            raise NerfgenError(path, f"frame {i} is not a JSON object")
        cam, ff = _parse_frame(meta, frame, i, root, path)
        cams.append(cam)
        files.append(ff)
    return cams, files, meta


def _parse_frame(meta: dict, frame: dict, i: int, root: Path, path: Path) -> tuple[dict, FrameFiles]:
    # Other keys (other tools' extras) are left alone: only the ones read are checked.
    r = MappingReader(path, {**{k: meta[k] for k in CAMERA_KEYS if k in meta}, **frame}, f"frame {i}")
    image = resolve_image(root, r.text("file_path"), path, f"image of frame {i}")
    pose = _pose(r)

    w, h = (r.integer(k, None, min_value=1, max_value=MAX_IMAGE_SIZE) for k in ("w", "h"))
    if w is None or h is None:
        w, h = image_size(image)
    fx, fy = r.number("fl_x", None, positive=True), r.number("fl_y", None, positive=True)
    if fx is None:
        if not r.has("camera_angle_x"):
            r.fail("missing key 'fl_x' (or 'camera_angle_x')")
        fx = focal_from_fov(r.number("camera_angle_x", positive=True, limit=math.pi), w)
    if fy is None:
        angle_y = r.number("camera_angle_y", None, positive=True, limit=math.pi)
        fy = fx if angle_y is None else focal_from_fov(angle_y, h)

    model_name = r.text("camera_model", None)
    if model_name is None:
        model_name = "OPENCV" if any(r.has(k) for k in DISTORTION_KEYS) else "PINHOLE"
    if model_name not in CAMERA_MODELS:
        r.fail(f"unknown camera_model {model_name!r} (supported: {', '.join(CAMERA_MODELS)})")
    distortion = CAMERA_MODELS[model_name]
    # every coefficient given is checked, also those the model does not use
    given = {k: r.number(k, limit=MAX_DISTORTION) for k in DISTORTION_KEYS if r.has(k)}
    coeffs = [given.get(k, 0.0) for k in DISTORTION_COEFFS[distortion]]

    cam = dict(
        c2w=opengl_to_opencv(pose).float(),
        fx=fx,
        fy=fy,
        cx=r.number("cx", w / 2),
        cy=r.number("cy", h / 2),
        width=w,
        height=h,
        distortion=distortion,
        dist_coeffs=coeffs,
    )
    files = FrameFiles(
        image=image, source=path, depth_unit_scale=r.number("depth_unit_scale_factor", None, positive=True)
    )
    for key, attr in (("mask_path", "mask"), ("depth_file_path", "depth")):
        if key in frame:
            file = root / str(frame[key])
            if not file.is_file():
                raise NerfgenError(file, f"{key} of frame {i} not found (listed in {path})")
            setattr(files, attr, file)
    return cam, files


def _pose(r: MappingReader) -> torch.Tensor:
    """The frame's OpenGL camera-to-world `transform_matrix` [4,4] float64, checked."""
    try:
        pose = torch.tensor(r.raw("transform_matrix"), dtype=torch.float64)
    except (TypeError, ValueError, RuntimeError):
        r.fail("'transform_matrix' must be a 4x4 list of numbers")
    if pose.shape != (4, 4):
        r.fail(f"'transform_matrix' must be 4x4, got shape {list(pose.shape)}")
    try:
        check_poses(pose, r.file)
    except NerfgenError as e:
        r.fail(e.problem)
    return pose


def _nerfstudio_splits(meta: dict, path: Path, n: int) -> dict[str, torch.Tensor]:
    """Splits from `{train,val,test}_filenames`; everything is "train" without them."""
    if not any(key in meta for key in SPLIT_KEYS.values()):
        return {"train": torch.arange(n, dtype=torch.int64)}
    by_name: dict[str, int] = {}
    for i, frame in enumerate(meta["frames"]):
        by_name[_normalise(frame["file_path"])] = i
        by_name.setdefault(_normalise(str(Path(frame["file_path"]).with_suffix(""))), i)
    splits = {}
    for split, key in SPLIT_KEYS.items():
        if key not in meta:
            continue
        names = meta[key]
        if not isinstance(names, list):
            raise NerfgenError(path, f"{key!r} must be a list of file names")
        idx = []
        for name in names:
            if _normalise(str(name)) not in by_name:
                raise NerfgenError(path, f"{key!r} lists {name!r}, which is not a frame's file_path")
            idx.append(by_name[_normalise(str(name))])
        splits[split] = torch.tensor(idx, dtype=torch.int64)
    return splits


def _normalise(name: str) -> str:
    return Path(name).as_posix().removeprefix("./")


def _f32(x: float) -> float:
    """The shortest decimal that reads back as the same float32 (so writes are exact and stable)."""
    return float(str(np.float32(float(x)))) + 0.0  # + 0.0 turns -0.0 into 0.0


def write_transforms(
    out_dir: str | Path,
    cameras: Cameras,
    image_files: list[str],
    frame_extras: list[dict] | None = None,
    extras: dict | None = None,
) -> Path:
    """Writes `out_dir/transforms.json` (nerfstudio format) atomically and returns its path.

    Every frame carries its full intrinsics (fl_x, fl_y, cx, cy, w, h, camera_model and
    the model's distortion keys) and its OpenGL camera-to-world `transform_matrix`;
    `frame_extras[i]` adds keys to frame i (e.g. depth_file_path, mask_path) and
    `extras` adds top-level keys. Output bytes are deterministic: sorted keys, float32
    values as their shortest round-trip decimal, 2-space indent.
    """
    out = Path(out_dir) / "transforms.json"
    n = len(cameras)
    if len(image_files) != n:
        raise NerfgenError(out, f"{len(image_files)} image files for {n} cameras")
    if frame_extras is not None and len(frame_extras) != n:
        raise NerfgenError(out, f"{len(frame_extras)} frame_extras for {n} cameras")
    extras = dict(extras or {})
    for key in ("frames", "camera_model"):
        if key in extras:
            raise NerfgenError(out, f"extras may not contain the key {key!r}")

    c2w_gl = opencv_to_opengl(cameras.c2w.detach().cpu().float())
    coeff_names = DISTORTION_COEFFS[cameras.distortion]
    frames = []
    for i in range(n):
        frame = {
            "file_path": str(image_files[i]),
            "transform_matrix": [[_f32(v) for v in row] for row in c2w_gl[i].tolist()],
            "fl_x": _f32(cameras.fx[i]),
            "fl_y": _f32(cameras.fy[i]),
            "cx": _f32(cameras.cx[i]),
            "cy": _f32(cameras.cy[i]),
            "w": int(cameras.width[i]),
            "h": int(cameras.height[i]),
            "camera_model": WRITE_CAMERA_MODELS[cameras.distortion],
            **{name: _f32(v) for name, v in zip(coeff_names, cameras.dist_coeffs[i].tolist())},
        }
        for key, value in (frame_extras[i] if frame_extras is not None else {}).items():
            if key in FRAME_KEYS:
                raise NerfgenError(out, f"frame_extras[{i}] may not override {key!r}")
            frame[key] = value
        frames.append(frame)
    # nerfstudio reads camera_model at the top level; all frames share one model.
    doc = {"camera_model": WRITE_CAMERA_MODELS[cameras.distortion], **extras, "frames": frames}
    try:
        text = json.dumps(doc, indent=2, sort_keys=True, allow_nan=False, default=_to_json)
    except (TypeError, ValueError) as e:
        raise NerfgenError(out, f"extras are not JSON-serialisable ({e})") from None
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise NerfgenError(out.parent, f"cannot create directory ({e.strerror or e})") from None
    atomic_write_bytes(out, (text + "\n").encode("utf-8"))
    return out


def _to_json(value):
    """Tensors, arrays, numpy scalars and paths inside extras."""
    if isinstance(value, (torch.Tensor, np.ndarray, np.generic)):
        return value.tolist()
    if isinstance(value, Path):
        return value.as_posix()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")
