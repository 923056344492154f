"""KITTI odometry: `sequences/SEQ/{image_0..3, velodyne, calib.txt}` and `poses/SEQ.txt`.

`path` is the folder holding `sequences/` and `poses/` (pass `sequence` when it has
several) or a `sequences/SEQ` folder itself. Images are `image_N/NNNNNN.png`; poses/SEQ.txt
has one row-major 3x4 camera-0-to-reference pose per frame of the sequence, the reference
being camera 0 at frame 0; only frames with images are loaded. calib.txt holds the
rectified projections P0..P3 (see nerfgen.data.kitti) and Tr = camera-0-from-LiDAR.

World (metres): camera 0's frame at frame 0 turned so z is up: world x = its forward (z),
y = its left (-x), z = its up (-y). KITTI's cameras are mounted level, so world z is
vertical up to the car's pitch and roll at frame 0 (about a degree). A camera's
camera-to-world is WORLD_FROM_CAM0 @ pose @ [I | -t_i]; the LiDAR's is
WORLD_FROM_CAM0 @ pose @ Tr. Frames, cameras, splits, LiDAR: nerfgen.data.kitti.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from nerfgen.data.dataset import Dataset
from nerfgen.data.kitti import (
    calib_matrix,
    camera_dict,
    kitti_dataset,
    numbered_files,
    read_calib,
    rectified_camera,
    select_cameras,
    select_frames,
)
from nerfgen.errors import NerfgenError

# world-from-camera-0-at-frame-0: columns are the camera's x (right), y (down), z (forward) in the world.
WORLD_FROM_CAM0 = np.array([[0.0, 0.0, 1.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]])


def is_kitti_odometry(path: Path) -> bool:
    return ((path / "sequences").is_dir() and (path / "poses").is_dir()) or (
        (path / "calib.txt").is_file() and path.parent.name == "sequences"
    )


def find_sequence(path: Path, sequence: str | None) -> tuple[Path, Path]:
    """(sequences/SEQ folder, poses/SEQ.txt) for `path` (root or sequence folder)."""
    if (path / "calib.txt").is_file():
        if sequence is not None and sequence != path.name:
            raise NerfgenError(path, f"is sequence {path.name}, not {sequence}")
        seq_dir = path
    elif not (path / "sequences").is_dir():
        raise NerfgenError(path, "not a KITTI odometry folder (no sequences/ or calib.txt)")
    else:
        found = sorted(p.name for p in (path / "sequences").iterdir() if (p / "calib.txt").is_file())
        if sequence is None and len(found) == 1:
            sequence = found[0]
        if sequence not in found:
            what = "several sequences: choose one" if sequence is None else f"no sequence {sequence!r}"
            raise NerfgenError(path / "sequences", f"{what} (available: {', '.join(found) or 'none'})")
        seq_dir = path / "sequences" / sequence
    poses = seq_dir.parent.parent / "poses" / f"{seq_dir.name}.txt"
    if not poses.is_file():
        raise NerfgenError(poses, f"poses of sequence {seq_dir.name} not found")
    return seq_dir, poses


def read_poses(path: Path) -> np.ndarray:  # -> [N,4,4]
    """Camera-0 poses, one row-major 3x4 matrix per line."""
    try:
        lines = path.read_text().split("\n")
    except OSError as e:
        raise NerfgenError(path, f"cannot read poses ({e.strerror or e})") from None
    poses = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            values = np.array([float(v) for v in line.split()])
        except ValueError:
            values = np.array([])
        if values.size != 12 or not np.isfinite(values).all():
            raise NerfgenError(path, f"line {number} is not 12 finite numbers (a 3x4 pose)")
        poses.append(np.vstack([values.reshape(3, 4), [0.0, 0.0, 0.0, 1.0]]))
    return np.stack(poses) if poses else np.zeros((0, 4, 4))


def load_kitti_odometry(
    path: str | Path,
    downscale: int = 1,
    background=(1.0, 1.0, 1.0),
    frames: str | None = None,
    cameras: str | None = None,
    sequence: str | None = None,
    holdout_every: int = 8,
) -> Dataset:
    """Loads one KITTI odometry sequence; see the module docstring."""
    seq_dir, poses_file = find_sequence(Path(path), sequence)
    available = {c: numbered_files(seq_dir / f"image_{c}", ".png") for c in range(4)}
    camera_ids = select_cameras(cameras, [c for c, files in available.items() if files], seq_dir)
    frame_ids = select_frames(sorted(set().union(*(available[c] for c in camera_ids))), frames, seq_dir)
    poses = read_poses(poses_file)
    if frame_ids[-1] >= len(poses):
        raise NerfgenError(poses_file, f"has {len(poses)} poses but {seq_dir.name} has images of frame {frame_ids[-1]}")
    calib_file = seq_dir / "calib.txt"
    calib = read_calib(calib_file)
    rect = {
        c: rectified_camera(calib_matrix(calib, f"P{c}", (3, 4), calib_file), f"P{c}", calib_file) for c in camera_ids
    }

    cams, images = [], []
    for frame in frame_ids:
        for c in camera_ids:
            image = available[c].get(frame)
            if image is None:
                raise NerfgenError(
                    seq_dir / f"image_{c}" / f"{frame:06d}.png", f"image of camera {c} at frame {frame} not found"
                )
            K, cam_from_cam0 = rect[c]
            cams.append(camera_dict(K, WORLD_FROM_CAM0 @ poses[frame] @ np.linalg.inv(cam_from_cam0), image))
            images.append(image)

    scan_files = numbered_files(seq_dir / "velodyne", ".bin")
    scans = []
    if any(frame in scan_files for frame in frame_ids):
        cam0_from_lidar = np.vstack([calib_matrix(calib, "Tr", (3, 4), calib_file), [0.0, 0.0, 0.0, 1.0]])
        scans = [(f, scan_files[f], WORLD_FROM_CAM0 @ poses[f] @ cam0_from_lidar) for f in frame_ids if f in scan_files]
    return kitti_dataset(seq_dir, cams, images, frame_ids, camera_ids, scans, downscale, background, holdout_every)
