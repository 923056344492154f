"""Shared inputs of the writer tests (no tests here): a tiny ground-truth scene, two cars,
two 64x48 frames rendered exactly, label records built independently of nerfgen.labels."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np
import torch

from nerfgen.cameras import Cameras, project, unproject
from nerfgen.labels.types import BOX_CORNER_SIGNS, FrameLabels, InstanceLabel
from nerfgen.procedural import build_scene, render_gt
from nerfgen.procedural.parse import parse_scene
from nerfgen.render.frame import FrameMaps, LidarScan

W, H, F = 64, 48, 50.0
CAR_SIZE = (4.0, 1.8, 1.5)  # length (x), width (y), height (z)
# (instance, x, y, yaw_deg): car 1 in front partly hides car 2 in frame 0
CARS = ((1, 8.0, 0.8, 0.0), (2, 14.0, -1.2, 90.0))
PAD = 40  # extra pixels on each side of the alone renders, to measure truncation


def _car(instance: int, x: float, y: float, yaw: float) -> dict:
    # object origin on the ground under the box centre (as nerfgen's car): box frame != object frame
    return {
        "name": f"car{instance}",
        "class": "car",
        "instance": instance,
        "pose": {"translation": [x, y, 0.0], "yaw_deg": yaw},
        "parts": [
            {
                "name": "body",
                "primitive": "box",
                "size": list(CAR_SIZE),
                "pose": {"translation": [0.0, 0.0, CAR_SIZE[2] / 2]},
                "material": {"texture": "solid", "color": [0.7, 0.2, 0.1]},
            }
        ],
    }


def scene_data(cars=CARS) -> dict:
    """The scene as a YAML-ready dict (nerfgen.procedural scene file format)."""
    ground = {
        "name": "ground",
        "class": "road",
        "instance": 0,
        "parts": [
            {
                "name": "g",
                "primitive": "quad",
                "size": [80.0, 80.0],
                "material": {"texture": "solid", "color": [0.4, 0.4, 0.4]},
            }
        ],
    }
    return {
        "name": "writers",
        "background": [0.6, 0.7, 0.9],
        "lights": {"ambient": 0.5, "shadows": False, "directional": [{"direction": [0, 0, -1], "intensity": 0.5}]},
        "objects": [ground, *(_car(*c) for c in cars)],
        "rig": {
            "fov_deg": 60,
            "segments": [{"type": "orbit", "share": 1, "center": [0, 0, 0], "radius": 5, "elevation_deg": [10, 50]}],
        },
    }


def _scene(cars):
    return build_scene(parse_scene(Path("writers.yaml"), scene_data(cars)))


def _c2w(position, x_axis, y_axis) -> np.ndarray:
    m = np.eye(4)
    m[:3, 0], m[:3, 1], m[:3, 2] = x_axis, y_axis, np.cross(x_axis, y_axis)
    m[:3, 3] = position
    return m


# frame 0 looks along world +x (cars drive away / sideways), frame 1 along world +y
# (car 1 drives left to right). Both level: camera y = world -z.
POSES = (
    _c2w([0.0, 0.0, 2.0], [0.0, -1.0, 0.0], [0.0, 0.0, -1.0]),
    _c2w([8.0, -10.0, 2.0], [1.0, 0.0, 0.0], [0.0, 0.0, -1.0]),
)


def cameras(width: int = W, height: int = H, pad: int = 0) -> Cameras:
    return Cameras.create(np.stack(POSES), F, F, width / 2 + pad, height / 2 + pad, width + 2 * pad, height + 2 * pad)


@dataclass
class Frame:
    maps: FrameMaps
    labels: FrameLabels
    lidar: LidarScan | None
    alone_masks: dict[int, np.ndarray]


def _maps(frames, k: int) -> FrameMaps:
    return FrameMaps(
        rgb=frames.rgb[k],
        depth_z=frames.depth_z[k],
        range=frames.range[k],
        opacity=(frames.depth_z[k] > 0).astype(np.float32),
        normals_world=frames.normals[k],
        instance=frames.instance[k],
        class_id=frames.class_id[k],
    )


def _edge_box(mask: np.ndarray) -> np.ndarray | None:
    rows, cols = np.nonzero(mask)
    if len(rows) == 0:
        return None
    return np.array([cols.min(), rows.min(), cols.max() + 1, rows.max() + 1], dtype=np.float64)


def _instance(box, cams: Cameras, k: int, instance_map: np.ndarray, alone_padded: np.ndarray) -> InstanceLabel:
    box_to_world = np.eye(4)
    box_to_world[:3, :3], box_to_world[:3, 3] = box.rotation, box.center
    w2c = np.linalg.inv(POSES[k])
    corners_world = box.center + (BOX_CORNER_SIGNS * box.size / 2) @ box.rotation.T
    corners_cam = corners_world @ w2c[:3, :3].T + w2c[:3, 3]
    uv, _ = project(cams, k, torch.from_numpy(corners_world))
    uv = uv.numpy()
    amodal = np.array([uv[:, 0].min(), uv[:, 1].min(), uv[:, 0].max(), uv[:, 1].max()])
    amodal = np.clip(amodal, 0, [W, H, W, H])
    visible = instance_map == box.instance_id
    alone = alone_padded == box.instance_id
    px_alone_all = int(alone.sum())
    px_alone = int(alone[PAD : PAD + H, PAD : PAD + W].sum())
    px_visible = int(visible.sum())
    return InstanceLabel(
        instance_id=box.instance_id,
        class_name=box.class_name,
        class_id=box.class_id,
        size=box.size.copy(),
        box_to_world=box_to_world,
        obj_to_world=box.pose.copy(),
        obj_to_cam=w2c @ box.pose,
        corners_world=corners_world,
        corners_cam=corners_cam,
        bbox_amodal=amodal if px_alone > 0 else None,
        bbox_visible=_edge_box(visible),
        px_visible=px_visible,
        px_alone=px_alone,
        occlusion=1.0 - px_visible / px_alone if px_alone else 0.0,
        truncation=1.0 - px_alone / px_alone_all if px_alone_all else 0.0,
    )


def _lidar(frames, k: int, cams: Cameras) -> LidarScan:
    """Returns of every pixel on a car, seen from a LiDAR 0.3 m above the camera, yawed by 10 degrees."""
    yaw = np.deg2rad(10.0)
    forward = POSES[k][:3, 2]
    left = -POSES[k][:3, 0]
    rot = np.array([[np.cos(yaw), -np.sin(yaw), 0], [np.sin(yaw), np.cos(yaw), 0], [0, 0, 1]])
    sensor_to_world = np.eye(4)
    sensor_to_world[:3, :3] = rot @ np.stack([forward, left, np.cross(forward, left)], axis=1)
    sensor_to_world[:3, 3] = POSES[k][:3, 3] + [0.0, 0.0, 0.3]
    rows, cols = np.nonzero(frames.instance[k] > 0)
    uv = torch.from_numpy(np.stack([cols + 0.5, rows + 0.5], 1).astype(np.float64))
    world = unproject(cams, k, uv, torch.from_numpy(frames.depth_z[k][rows, cols].astype(np.float64))).numpy()
    points = (world - sensor_to_world[:3, 3]) @ sensor_to_world[:3, :3]
    n = len(points)
    return LidarScan(
        sensor_to_world=sensor_to_world,
        points_sensor=points.astype(np.float32),
        intensity=np.linspace(0, 1, n, dtype=np.float32),
        ring=np.zeros(n, np.int32),
        instance=frames.instance[k][rows, cols].astype(np.int32),
        class_id=frames.class_id[k][rows, cols].astype(np.int32),
        n_beams_fired=n,
    )


@lru_cache(maxsize=1)
def scene_and_frames():
    """(GTScene, [Frame, Frame]): frame 0 without LiDAR, frame 1 with."""
    scene = _scene(CARS)
    cams = cameras()
    frames = render_gt(scene, cams, [0, 1])
    alone_renders = {c[0]: render_gt(_scene([c]), cameras(pad=PAD), [0, 1]).instance for c in CARS}
    out = []
    for k in range(2):
        instances = [
            _instance(box, cams, k, frames.instance[k], alone_renders[box.instance_id][k]) for box in scene.instances
        ]
        labels = FrameLabels(
            index=k,
            c2w=POSES[k].copy(),
            fx=F,
            fy=F,
            cx=W / 2,
            cy=H / 2,
            width=W,
            height=H,
            distortion="none",
            dist_coeffs=np.zeros(0),
            instances=instances,
        )
        alone = {i: alone_renders[i][k][PAD : PAD + H, PAD : PAD + W] == i for i in alone_renders}
        out.append(Frame(_maps(frames, k), labels, _lidar(frames, k, cams) if k == 1 else None, alone))
    return scene, out


def write_all(writer_cls, root: Path, frames: list[Frame], info=None, **options) -> Path:
    """Feeds every frame to a fresh writer and finishes it; returns the dataset root."""
    from nerfgen.writers.info import DatasetInfo

    writer = writer_cls(root, info or DatasetInfo(seed=0), **options)
    for f in frames:
        writer.write_frame(f.maps, f.labels, f.lidar, f.alone_masks)
    return writer.finish()


def tree_bytes(root: Path) -> dict[str, bytes]:
    """Relative path -> contents of every file under root."""
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}
