"""Oriented boxes seen from above (bird's-eye view) plus a height interval: the geometry
placement needs to keep objects apart and to probe the space they would fill.

A `FootprintBox` is an upright box: a rectangle in the xy plane turned by `yaw`
(radians, counter-clockwise from +x) and the interval [z_min, z_max].
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from nerfgen.render.frame import SceneInstance

_UNIT_SQUARE = np.array([[-1.0, -1.0], [1.0, -1.0], [1.0, 1.0], [-1.0, 1.0]])  # counter-clockwise


@dataclass(frozen=True)
class FootprintBox:
    center_xy: np.ndarray  # [2] world
    half_xy: np.ndarray  # [2] half extents along the box's own x (length) and y (width)
    yaw: float  # radians
    z_min: float
    z_max: float

    @property
    def axes(self) -> np.ndarray:  # [2,2] rows: the box's x and y axes in world xy
        c, s = np.cos(self.yaw), np.sin(self.yaw)
        return np.array([[c, s], [-s, c]])

    def corners_xy(self) -> np.ndarray:  # [4,2] counter-clockwise
        return self.center_xy + (_UNIT_SQUARE * self.half_xy) @ self.axes

    def grown(self, margin: float) -> FootprintBox:
        """The box widened by `margin` metres on every side (horizontally only)."""
        return FootprintBox(self.center_xy, self.half_xy + margin, self.yaw, self.z_min, self.z_max)

    def local_to_world_xy(self, local: np.ndarray) -> np.ndarray:  # [N,2] box frame -> [N,2] world
        return self.center_xy + local @ self.axes


def footprint_of(box: SceneInstance) -> FootprintBox:
    """The upright footprint of an instance box whose rotation is a yaw (z stays up)."""
    rotation = np.asarray(box.rotation, np.float64)
    half = np.asarray(box.size, np.float64) / 2
    center = np.asarray(box.center, np.float64)
    return FootprintBox(
        center[:2],
        half[:2],
        float(np.arctan2(rotation[1, 0], rotation[0, 0])),
        center[2] - half[2],
        center[2] + half[2],
    )


def boxes_overlap(a: FootprintBox, b: FootprintBox) -> bool:
    """True when the boxes share volume (touching counts as apart): their height intervals
    overlap and no edge normal of either rectangle separates them (separating axis theorem)."""
    if a.z_max <= b.z_min or b.z_max <= a.z_min:
        return False
    ca, cb = a.corners_xy(), b.corners_xy()
    for axis in np.concatenate([a.axes, b.axes]):  # [4,2]: the only candidate axes for two rectangles
        pa, pb = ca @ axis, cb @ axis
        if pa.max() <= pb.min() or pb.max() <= pa.min():
            return False
    return True


def box_lattice(box: FootprintBox, spacing: float, inset: float) -> np.ndarray:  # -> [N,3] world
    """Points on a regular lattice filling the box shrunk by `inset` on every side (at
    least one point per axis, at the centre), no more than `spacing` apart."""
    half = np.append(box.half_xy, (box.z_max - box.z_min) / 2) - inset
    axes = []
    for h in half:
        n = max(int(np.ceil(2 * h / spacing)) + 1, 1) if h > 0 else 1
        axes.append(np.linspace(-h, h, n) if n > 1 else np.zeros(1))
    local = np.stack(np.meshgrid(*axes, indexing="ij"), -1).reshape(-1, 3)
    z = (box.z_min + box.z_max) / 2 + local[:, 2]
    return np.concatenate([box.local_to_world_xy(local[:, :2]), z[:, None]], 1)


def footprint_samples(box: FootprintBox, per_axis: int, inset: float) -> np.ndarray:  # -> [per_axis^2, 2] world xy
    """A per_axis x per_axis grid over the rectangle shrunk by `inset` (where the object stands)."""
    s = np.linspace(-1.0, 1.0, per_axis) if per_axis > 1 else np.zeros(1)
    local = np.stack(np.meshgrid(s, s, indexing="ij"), -1).reshape(-1, 2) * np.maximum(box.half_xy - inset, 0.0)
    return box.local_to_world_xy(local)
