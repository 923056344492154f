"""LiDAR scans that come with a dataset: rays with range targets in the world, and the
sparse `depth_z` maps they give each camera image.

Every return is kept as a ray from its scan's sensor origin (a world direction and the
range along it), so a range loss needs nothing else; all scans share one packed table.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import Tensor

from nerfgen.cameras import Cameras, project
from nerfgen.errors import NerfgenError

VELODYNE_FIELDS = 4  # float32 x, y, z, reflectance per point (KITTI .bin)


@dataclass
class LidarScans:
    """S scans with P returns in all, packed scan after scan."""

    sensor_to_world: Tensor  # [S,4,4] float32
    """World-from-LiDAR pose of each scan (the sensor frame the points were recorded in)."""
    frame_ids: Tensor  # [S] int64
    """The capture's frame number of each scan; images carry theirs in `metadata["frame_ids"]`."""
    offsets: Tensor  # [S+1] int64
    """Scan s owns the returns offsets[s]:offsets[s+1]."""
    directions: Tensor  # [P,3] float32
    """Unit direction of each return's ray in the world frame."""
    ranges: Tensor  # [P] float32
    """Metres from the scan's sensor origin to the return along `directions`."""
    intensity: Tensor  # [P] float32
    """Reflectance as the sensor recorded it (KITTI: 0..1)."""

    def __len__(self) -> int:
        return self.sensor_to_world.shape[0]

    def scan_index(self) -> Tensor:  # [P] int64
        """The scan each return belongs to."""
        return torch.repeat_interleave(torch.arange(len(self)), self.offsets.diff())

    def origins(self) -> Tensor:  # [P,3]
        """The sensor origin each return's ray starts at, in the world."""
        return self.sensor_to_world[self.scan_index(), :3, 3]

    def points_world(self) -> Tensor:  # [P,3]
        return self.origins() + self.directions * self.ranges[:, None]


def read_velodyne_bin(path: Path) -> np.ndarray:  # -> [N,4] float32 x, y, z, reflectance
    """One KITTI velodyne scan (points in the LiDAR frame, metres)."""
    try:
        raw = path.read_bytes()
    except OSError as e:
        raise NerfgenError(path, f"cannot read velodyne scan ({e.strerror or e})") from None
    point_bytes = 4 * VELODYNE_FIELDS
    if len(raw) % point_bytes:
        raise NerfgenError(
            path,
            f"truncated velodyne scan: {len(raw)} bytes is not a whole number of {point_bytes}-byte points "
            "(float32 x y z reflectance)",
        )
    return np.frombuffer(raw, dtype="<f4").reshape(-1, VELODYNE_FIELDS)


def pack_scans(points: list[np.ndarray], sensor_to_world: Tensor, frame_ids: list[int]) -> LidarScans:
    """LidarScans from S >= 1 scans' points [N_s,4] (sensor frame, x y z reflectance) and
    their world-from-sensor poses [S,4,4]. Returns without a finite direction (non-finite, or at
    the sensor origin) are dropped."""
    directions, ranges, intensity, counts = [], [], [], []
    pose = sensor_to_world.double()
    for s, pts in enumerate(points):
        xyz = torch.from_numpy(pts[:, :3].astype(np.float64))  # [N,3]
        range_ = xyz.norm(dim=-1)  # [N]
        keep = torch.isfinite(xyz).all(-1) & (range_ > 1e-6)
        d_sensor = xyz[keep] / range_[keep, None]
        directions.append((d_sensor @ pose[s, :3, :3].T).float())
        ranges.append(range_[keep].float())
        intensity.append(torch.from_numpy(pts[:, 3].copy())[keep])
        counts.append(int(keep.sum()))
    offsets = torch.zeros(len(points) + 1, dtype=torch.int64)
    offsets[1:] = torch.cumsum(torch.tensor(counts, dtype=torch.int64), 0)
    return LidarScans(
        sensor_to_world=sensor_to_world.float(),
        frame_ids=torch.tensor(frame_ids, dtype=torch.int64),
        offsets=offsets,
        directions=torch.cat(directions),
        ranges=torch.cat(ranges),
        intensity=torch.cat(intensity),
    )


def sparse_depth_z(cameras: Cameras, index: int, points_world: Tensor) -> Tensor:  # points [N,3] -> [H,W]
    """depth_z of the nearest point in each pixel of camera `index`, 0 where no point
    falls; only points in front of the camera (depth_z > 0) count. A point at continuous
    image position (u, v) lies in pixel (floor(u), floor(v)) (nerfgen's corner convention)."""
    width, height = int(cameras.width[index]), int(cameras.height[index])
    uv, depth_z = project(cameras, index, points_world.double())
    col, row = torch.floor(uv[:, 0]), torch.floor(uv[:, 1])
    inside = (depth_z > 0) & (col >= 0) & (col < width) & (row >= 0) & (row < height)
    pixel = (row[inside] * width + col[inside]).long()
    nearest = torch.full((height * width,), torch.inf, dtype=torch.float64)
    nearest.scatter_reduce_(0, pixel, depth_z[inside], reduce="amin")
    return torch.where(torch.isinf(nearest), 0.0, nearest).float().reshape(height, width)


def lidar_depth_maps(cameras: Cameras, image_frame_ids: Tensor, scans: LidarScans) -> Tensor:  # -> [C,H,W]
    """Each image's sparse depth_z map from the scan of its frame (all 0 without one)."""
    points = scans.points_world()
    scan_of_frame = {int(f): s for s, f in enumerate(scans.frame_ids.tolist())}
    height, width = int(cameras.height[0]), int(cameras.width[0])
    maps = torch.zeros(len(cameras), height, width)
    for i, frame in enumerate(image_frame_ids.tolist()):
        s = scan_of_frame.get(frame)
        if s is not None:
            maps[i] = sparse_depth_z(cameras, i, points[scans.offsets[s] : scans.offsets[s + 1]])
    return maps
