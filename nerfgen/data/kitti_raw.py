"""KITTI raw: `DATE/DATE_drive_NNNN_sync/{image_0X,velodyne_points,oxts}/data/` with
`DATE/calib_{cam_to_cam,velo_to_cam,imu_to_velo}.txt`.

`path` is a drive folder, or a date folder holding exactly one drive. Per frame NNNNNNNNNN:
`image_0X/data/NNNNNNNNNN.png` (rectified), `velodyne_points/data/NNNNNNNNNN.bin` and
`oxts/data/NNNNNNNNNN.txt` (30 numbers: lat, lon, alt, roll, pitch, yaw, then velocities,
accelerations and accuracies this reader does not use).

Poses follow the KITTI devkit (convertOxtsToPose.m): Mercator with the scale of the
drive's first record (frame 0), s = cos(lat0 pi/180), tx = s r lon pi/180,
ty = s r log(tan((90 + lat) pi/360)), tz = alt, r = 6378137 m, and the IMU's rotation
Rz(yaw) Ry(pitch) Rx(roll) (IMU axes x forward, y left, z up; yaw 0 = east).

World (metres): east, north, up, with the origin at the IMU at frame 0. This is the
devkit's Mercator frame moved to that origin but not rotated: the devkit's poses are
inv(T_0) T_i, whose z is the first IMU's tilted axis; ours keep z exactly up.

Cameras: rectified camera 0 from the IMU is R_rect_00 Tr_velo_to_cam Tr_imu_to_velo
(R|T of calib_velo_to_cam and calib_imu_to_velo), and camera i sits at -t_i from
P_rect_0i (nerfgen.data.kitti), so camera-to-world = world_from_imu inv(R_rect_00 Tr_velo_to_cam
Tr_imu_to_velo) [I | -t_i]; the LiDAR's is world_from_imu inv(Tr_imu_to_velo).
Frames, cameras, splits, LiDAR: nerfgen.data.kitti.
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
    rigid,
    select_cameras,
    select_frames,
)
from nerfgen.errors import NerfgenError

EARTH_RADIUS = 6378137.0  # metres, the devkit's
OXTS_VALUES = 30


def is_kitti_raw(path: Path) -> bool:
    return (path / "oxts").is_dir() or any(path.glob("*_drive_*_sync/oxts"))


def find_drive(path: Path) -> Path:
    if (path / "oxts").is_dir():
        return path
    drives = sorted(p.parent for p in path.glob("*_drive_*_sync/oxts"))
    if len(drives) != 1:
        names = ", ".join(d.name for d in drives) or "none"
        raise NerfgenError(path, f"expected one KITTI raw drive folder, found: {names}; point at one")
    return drives[0]


def read_oxts(path: Path) -> np.ndarray:  # -> [6] lat, lon (degrees), alt (m), roll, pitch, yaw (rad)
    try:
        text = path.read_text()
    except OSError as e:
        raise NerfgenError(path, f"cannot read OXTS record ({e.strerror or e})") from None
    try:
        values = np.array([float(v) for v in text.split()])
    except ValueError:
        raise NerfgenError(path, f"OXTS record must be {OXTS_VALUES} numbers") from None
    if values.size != OXTS_VALUES:
        raise NerfgenError(path, f"OXTS record must be {OXTS_VALUES} numbers, got {values.size}")
    if not np.isfinite(values[:6]).all():
        raise NerfgenError(path, f"OXTS position or orientation is not finite: {values[:6].tolist()}")
    return values[:6]


def oxts_pose(record: np.ndarray, scale: float) -> np.ndarray:  # [6] -> [4,4] Mercator-from-IMU
    lat, lon, alt, roll, pitch, yaw = record
    t = [
        scale * EARTH_RADIUS * np.radians(lon),
        scale * EARTH_RADIUS * np.log(np.tan(np.radians(90.0 + lat) / 2.0)),
        alt,
    ]
    cr, sr, cp, sp, cy, sy = np.cos(roll), np.sin(roll), np.cos(pitch), np.sin(pitch), np.cos(yaw), np.sin(yaw)
    rx = np.array([[1.0, 0.0, 0.0], [0.0, cr, -sr], [0.0, sr, cr]])
    ry = np.array([[cp, 0.0, sp], [0.0, 1.0, 0.0], [-sp, 0.0, cp]])
    rz = np.array([[cy, -sy, 0.0], [sy, cy, 0.0], [0.0, 0.0, 1.0]])
    return rigid(rz @ ry @ rx, t)


def read_rigid(path: Path) -> np.ndarray:  # -> [4,4] from "R: 9 values" and "T: 3 values"
    calib = read_calib(path)
    return rigid(calib_matrix(calib, "R", (3, 3), path), calib_matrix(calib, "T", (3, 1), path)[:, 0])


def load_kitti_raw(
    path: str | Path,
    downscale: int = 1,
    background=(1.0, 1.0, 1.0),
    frames: str | None = None,
    cameras: str | None = None,
    holdout_every: int = 8,
) -> Dataset:
    """Loads one KITTI raw drive; see the module docstring."""
    drive = find_drive(Path(path))
    available = {c: numbered_files(drive / f"image_0{c}" / "data", ".png") for c in range(4)}
    camera_ids = select_cameras(cameras, [c for c, files in available.items() if files], drive)
    frame_ids = select_frames(sorted(set().union(*(available[c] for c in camera_ids))), frames, drive)

    cam_to_cam = drive.parent / "calib_cam_to_cam.txt"
    calib = read_calib(cam_to_cam)
    rect0_from_cam0 = rigid(calib_matrix(calib, "R_rect_00", (3, 3), cam_to_cam), np.zeros(3))
    velo_from_imu = read_rigid(drive.parent / "calib_imu_to_velo.txt")
    rect0_from_imu = rect0_from_cam0 @ read_rigid(drive.parent / "calib_velo_to_cam.txt") @ velo_from_imu
    rect = {
        c: rectified_camera(calib_matrix(calib, f"P_rect_0{c}", (3, 4), cam_to_cam), f"P_rect_0{c}", cam_to_cam)
        for c in camera_ids
    }

    oxts = numbered_files(drive / "oxts" / "data", ".txt")
    if not oxts:
        raise NerfgenError(drive / "oxts" / "data", "no OXTS records found")
    first = read_oxts(oxts[min(oxts)])
    scale = np.cos(np.radians(first[0]))
    origin = oxts_pose(first, scale)[:3, 3]
    world_from_imu = {}
    for frame in frame_ids:
        if frame not in oxts:
            raise NerfgenError(drive / "oxts" / "data" / f"{frame:010d}.txt", f"OXTS record of frame {frame} not found")
        world_from_imu[frame] = oxts_pose(read_oxts(oxts[frame]), scale)
        world_from_imu[frame][:3, 3] -= origin

    cams, images = [], []
    for frame in frame_ids:
        for c in camera_ids:
            image = available[c].get(frame)
            if image is None:
                raise NerfgenError(
                    drive / f"image_0{c}" / "data" / f"{frame:010d}.png",
                    f"image of camera {c} at frame {frame} not found",
                )
            K, cam_from_rect0 = rect[c]
            c2w = world_from_imu[frame] @ np.linalg.inv(cam_from_rect0 @ rect0_from_imu)
            cams.append(camera_dict(K, c2w, image))
            images.append(image)

    scan_files = numbered_files(drive / "velodyne_points" / "data", ".bin")
    imu_from_velo = np.linalg.inv(velo_from_imu)
    scans = [(f, scan_files[f], world_from_imu[f] @ imu_from_velo) for f in frame_ids if f in scan_files]
    return kitti_dataset(drive, cams, images, frame_ids, camera_ids, scans, downscale, background, holdout_every)
