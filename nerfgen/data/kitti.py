"""What the KITTI readers (odometry, raw) share: calibration text files, the `frames` and
`cameras` options, and assembling images and LiDAR scans into a `Dataset`.

- Pixels: KITTI's projection matrices put pixel centres at integers, nerfgen at +0.5
  (top-left corner at 0), so cx = P[0,2] + 0.5 and cy = P[1,2] + 0.5.
- Rectified cameras: P_i = K_i [I | t_i] projects a point of the rectified camera-0
  frame into camera i, so camera i has camera 0's axes and sits at -t_i, with
  t_i = K_i^-1 P_i[:, 3] (metres). KITTI's camera axes are OpenCV's already.
- `frames` "START:END[:STEP]" selects frame numbers (the image file names) like a Python
  slice: END is excluded and any part may be empty ("100:" is frame 100 on); "N" is frame
  N alone. `cameras` "2,3" selects cameras by number; the default is the colour cameras
  2 and 3 that the capture has, else the grey ones 0 and 1.
- Images are frame-major (frame 0 camera 2, frame 0 camera 3, frame 1 camera 2, ...);
  `metadata["frame_ids"]` and `metadata["camera_ids"]` ([C] int64) say which each is.
  Whole frames are held out: every `holdout_every`-th selected frame (0, k, 2k, ...) is
  "test" with all its cameras, the rest "train".
- LiDAR: each selected frame's scan becomes `Dataset.lidar` and, projected into the
  frame's images, `depths_z` (nearest return per pixel, 0 = none; see nerfgen.data.lidar).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

from nerfgen.data.dataset import Dataset, holdout_split
from nerfgen.data.frames import FrameFiles, FrameIndex, image_size, load_frames, merge_cameras
from nerfgen.data.lidar import lidar_depth_maps, pack_scans, read_velodyne_bin
from nerfgen.errors import NerfgenError

PIXEL_SHIFT = 0.5  # nerfgen pixel coordinate minus KITTI's
COLOUR_CAMERAS, GREY_CAMERAS = (2, 3), (0, 1)


def read_calib(path: Path) -> dict[str, np.ndarray]:
    """`KEY: v1 v2 ...` lines as float64 arrays; lines whose values are not numbers
    (calib_time) are left out."""
    try:
        text = path.read_text()
    except OSError as e:
        raise NerfgenError(path, f"cannot read calibration ({e.strerror or e})") from None
    calib = {}
    for line in text.splitlines():
        key, colon, values = line.partition(":")
        if not colon:
            continue
        try:
            calib[key.strip()] = np.array([float(v) for v in values.split()], dtype=np.float64)
        except ValueError:
            continue
    return calib


def calib_matrix(calib: dict[str, np.ndarray], key: str, shape: tuple[int, int], path: Path) -> np.ndarray:
    if key not in calib:
        raise NerfgenError(path, f"has no {key}")
    values = calib[key]
    if values.size != shape[0] * shape[1] or not np.isfinite(values).all():
        raise NerfgenError(path, f"{key} must be {shape[0] * shape[1]} finite numbers, got {values.tolist()}")
    return values.reshape(shape)


def rigid(rotation: np.ndarray, translation: np.ndarray) -> np.ndarray:  # [3,3], [3] -> [4,4]
    pose = np.eye(4)
    pose[:3, :3], pose[:3, 3] = rotation, translation
    return pose


def rectified_camera(projection: np.ndarray, key: str, path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(K [3,3] in KITTI pixels, camera-from-rectified-camera-0 [4,4]) of P = K [I | t]."""
    K = projection[:, :3]
    if K[0, 0] <= 0 or K[1, 1] <= 0 or abs(K[2, 2] - 1.0) > 1e-9 or np.abs(K[[0, 1, 2, 2], [1, 0, 0, 1]]).max() > 0:
        raise NerfgenError(path, f"{key} is not a rectified projection K [I | t] (left 3x3 {K.tolist()})")
    return K, rigid(np.eye(3), np.linalg.solve(K, projection[:, 3]))


def camera_dict(K: np.ndarray, c2w: np.ndarray, image: Path) -> dict:
    """`Cameras.create` keywords of a rectified (distortion-free) KITTI camera."""
    width, height = image_size(image)
    return dict(
        c2w=torch.from_numpy(c2w).float(),
        fx=K[0, 0],
        fy=K[1, 1],
        cx=K[0, 2] + PIXEL_SHIFT,
        cy=K[1, 2] + PIXEL_SHIFT,
        width=width,
        height=height,
        distortion="none",
        dist_coeffs=[],
    )


def numbered_files(folder: Path, suffix: str) -> dict[int, Path]:
    """Files named by a frame number (000012.png -> 12) in `folder`."""
    return {int(p.stem): p for p in folder.glob(f"*{suffix}") if p.stem.isdigit()}


def select_frames(frame_ids: list[int], spec: str | None, path: Path) -> list[int]:
    """The sorted `frame_ids` that the `frames` option (see module docstring) selects."""
    frame_ids = sorted(frame_ids)
    if spec is None:
        return frame_ids
    parts = spec.split(":")
    try:
        numbers = [int(p) if p.strip() else None for p in parts]
    except ValueError:
        numbers = []
    if len(parts) == 1 and numbers and numbers[0] is not None:
        start, stop, step = numbers[0], numbers[0] + 1, 1
    elif len(parts) in (2, 3) and numbers:
        start, stop, step = (numbers + [None])[:3]
        start, step = 0 if start is None else start, 1 if step is None else step
    else:
        raise NerfgenError(path, f"frames {spec!r} must be START:END[:STEP] or one frame number")
    if start < 0 or (stop is not None and stop < 0) or step < 1:
        raise NerfgenError(path, f"frames {spec!r}: frame numbers must be >= 0 and STEP >= 1")
    chosen = [f for f in frame_ids if f >= start and (stop is None or f < stop) and (f - start) % step == 0]
    if not chosen:
        raise NerfgenError(path, f"frames {spec!r} selects none of the frames {frame_ids[0]}..{frame_ids[-1]}")
    return chosen


def select_cameras(spec: str | None, available: list[int], path: Path) -> list[int]:
    """Camera numbers from the `cameras` option ("2,3"), or the default (module docstring)."""
    if spec is None:
        chosen = [c for c in COLOUR_CAMERAS if c in available] or [c for c in GREY_CAMERAS if c in available]
        if not chosen:
            raise NerfgenError(path, "no camera images (image_0 .. image_3) found")
        return chosen
    try:
        chosen = [int(c) for c in spec.split(",")]
    except ValueError:
        chosen = []
    if not chosen or len(set(chosen)) != len(chosen) or not all(0 <= c <= 3 for c in chosen):
        raise NerfgenError(path, f"cameras {spec!r} must be distinct camera numbers 0..3 separated by commas")
    missing = [c for c in chosen if c not in available]
    if missing:
        raise NerfgenError(path, f"cameras {spec!r}: no images of camera {missing[0]} (available: {available})")
    return chosen


def frame_holdout(n_frames: int, n_cameras: int, every: int) -> dict[str, torch.Tensor]:
    """holdout_split over frames, each frame standing for its n_cameras images."""
    cams = torch.arange(n_cameras, dtype=torch.int64)
    return {name: (idx[:, None] * n_cameras + cams).reshape(-1) for name, idx in holdout_split(n_frames, every).items()}


def kitti_dataset(
    root: Path,
    cams: list[dict],  # Cameras.create keywords per image, frame-major
    images: list[Path],  # [C]
    frame_ids: list[int],  # selected frames
    camera_ids: list[int],
    scans: list[tuple[int, Path, np.ndarray]],  # (frame id, velodyne .bin, world-from-LiDAR [4,4])
    downscale: int,
    background,
    holdout_every: int,
) -> Dataset:
    """The Dataset of KITTI images (frame-major) with their LiDAR scans and depth maps."""
    image_frames = torch.tensor([f for f in frame_ids for _ in camera_ids], dtype=torch.int64)
    index = FrameIndex(
        root=root,
        cameras=merge_cameras(cams, root),
        frames=[FrameFiles(image=p, source=root) for p in images],
        splits=frame_holdout(len(frame_ids), len(camera_ids), holdout_every),
        metadata={
            "frame_ids": image_frames,
            "camera_ids": torch.tensor(camera_ids * len(frame_ids), dtype=torch.int64),
        },
    )
    dataset = load_frames(index, downscale, background)
    if not scans:
        return dataset
    lidar = pack_scans(
        [read_velodyne_bin(path) for _, path, _ in scans],
        torch.from_numpy(np.stack([pose for _, _, pose in scans])),
        [frame for frame, _, _ in scans],
    )
    return replace(dataset, depths_z=lidar_depth_maps(dataset.cameras, image_frames, lidar), lidar=lidar)
