"""Vehicle frames: the ego frame and the sensors mounted on it.

Ego frame: x forward, y left, z up (ISO 8855 / ROS REP 103), origin wherever the
trajectory puts it (e.g. on the ground under the vehicle). LiDARs use the same axes.
Cameras use OpenCV axes (x right, y down, z forward), so a camera looking along ego +x
has camera-to-ego rotation FORWARD_CAMERA_TO_EGO.
"""

from __future__ import annotations

import numpy as np

from nerfgen.cameras.transforms import rotation_rpy

# Columns: camera x (right) = ego -y, camera y (down) = ego -z, camera z (forward) = ego +x.
FORWARD_CAMERA_TO_EGO = np.array(
    [[0.0, 0.0, 1.0, 0.0], [-1.0, 0.0, 0.0, 0.0], [0.0, -1.0, 0.0, 0.0], [0.0, 0.0, 0.0, 1.0]]
)


def mount(
    translation=(0.0, 0.0, 0.0), roll_deg: float = 0.0, pitch_deg: float = 0.0, yaw_deg: float = 0.0
) -> np.ndarray:
    """Sensor-to-ego [4,4] float64 of a sensor with ego-like axes (a LiDAR) at `translation`
    (metres, ego frame), rotated by R = Rz(yaw) Ry(pitch) Rx(roll) as in scene files:
    yaw > 0 turns it left, pitch > 0 tilts its x axis down."""
    m = np.eye(4)
    m[:3, :3] = rotation_rpy(roll_deg, pitch_deg, yaw_deg)
    m[:3, 3] = translation
    return m


def camera_mount(
    translation=(0.0, 0.0, 0.0), roll_deg: float = 0.0, pitch_deg: float = 0.0, yaw_deg: float = 0.0
) -> np.ndarray:
    """Camera-to-ego [4,4] (OpenCV camera axes) of a camera looking along the x axis of
    `mount(translation, roll_deg, pitch_deg, yaw_deg)`: yaw 0 looks forward, 90 left."""
    return mount(translation, roll_deg, pitch_deg, yaw_deg) @ FORWARD_CAMERA_TO_EGO


def ego_poses(c2w: np.ndarray) -> np.ndarray:
    """Ego-to-world [N,4,4] of OpenCV camera poses c2w [N,4,4] (e.g. `trajectories.drive`):
    the ego frame at the camera centre with x along the optical axis and z up in the image."""
    return np.asarray(c2w, dtype=np.float64) @ np.linalg.inv(FORWARD_CAMERA_TO_EGO)


def ground_ego_poses(c2w: np.ndarray) -> np.ndarray:
    """Ego-to-world [N,4,4] of a level vehicle under each OpenCV camera pose c2w [N,4,4]:
    origin on the ground plane z = 0 straight below the camera centre, z = world up, x the
    optical axis projected onto the ground (for a camera looking straight down, the
    image's up direction). Sensors mounted with `mount` (e.g. a LiDAR 1.73 m up, KITTI)
    then sit level on it, wherever the camera looks: `ego_poses` instead tilts with the camera."""
    c2w = np.asarray(c2w, dtype=np.float64)
    heading = c2w[:, :3, 2].copy()  # optical axis
    heading[:, 2] = 0.0
    straight_down = np.linalg.norm(heading, axis=1) < 1e-9
    heading[straight_down] = -c2w[straight_down, :3, 1]  # camera -y: up in the image
    heading[:, 2] = 0.0
    x = heading / np.linalg.norm(heading, axis=1, keepdims=True)
    z = np.broadcast_to([0.0, 0.0, 1.0], x.shape)
    out = np.tile(np.eye(4), (len(c2w), 1, 1))
    out[:, :3, 0], out[:, :3, 1], out[:, :3, 2] = x, np.cross(z, x), z
    out[:, :2, 3] = c2w[:, :2, 3]
    return out


def mounted_on_ground_ego(c2w: np.ndarray, sensor_to_ego: np.ndarray) -> np.ndarray:
    """Sensor-to-world [N,4,4] of a sensor mounted at sensor_to_ego [4,4] (e.g. a LiDAR,
    `mount`) on the level vehicle under each OpenCV camera pose c2w [N,4,4] (`ground_ego_poses`)."""
    return ground_ego_poses(c2w) @ np.asarray(sensor_to_ego, dtype=np.float64)


def rotate(vectors: np.ndarray, rotation: np.ndarray) -> np.ndarray:
    """rotation [3,3] applied to vectors [N,3]. einsum rather than `@`: numpy's threaded
    BLAS matmul of [N,3] x [3,3] runs ~50x slower when the cores are busy (measured here)."""
    return np.einsum("ij,kj->ik", vectors, rotation)
