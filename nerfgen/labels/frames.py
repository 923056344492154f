"""Render a camera sequence into labelled frames: maps, labels and (optionally)
correspondences to the next frame and a LiDAR sweep per frame. No files: writers
consume what this yields."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterator, Sequence

import numpy as np

from nerfgen.cameras import Cameras
from nerfgen.labels.correspondences import correspondences as dense_correspondences
from nerfgen.labels.instances import frame_labels_and_alone_masks
from nerfgen.labels.types import FrameLabels
from nerfgen.render.frame import FrameMaps, FrameRenderer, LidarScan
from nerfgen.sensors.lidar_specs import LidarSpec


@dataclass
class RenderedFrame:
    maps: FrameMaps
    labels: FrameLabels
    # (uv [H,W,2] float32 in the next frame, valid [H,W] bool); None for the last
    # frame or when not requested.
    correspondences: tuple[np.ndarray, np.ndarray] | None = None
    lidar: LidarScan | None = None  # the frame's sweep, when a LiDAR is given
    # instance id -> [H,W] bool amodal mask (the object rendered alone) of every instance
    # in view; empty without instance labels.
    alone_masks: dict[int, np.ndarray] = field(default_factory=dict)


def render_frames(
    renderer: FrameRenderer,
    cameras: Cameras,
    boxes: bool = True,
    correspondences: bool = False,
    lidar: LidarSpec | None = None,
    lidar_poses: np.ndarray | None = None,  # [N,4,4] sensor-to-world per camera
    first: int = 0,
) -> Iterator[RenderedFrame]:
    """Frames of cameras `first`, first + 1, ... in order (a frame does not depend on
    earlier ones, so a resumed render starts at its first missing frame). `boxes`:
    per-instance labels and amodal masks (3D/2D boxes, poses, occlusion, truncation;
    costs one small render per object in view). `correspondences`: frame i -> i+1 from
    the rendered depth (frame i is yielded once frame i+1 is rendered; without them each
    frame is yielded as soon as it is rendered). `lidar`: one sweep per frame from
    lidar_poses[i] (a sweep is instantaneous, at the frame's time)."""
    if lidar is not None and (lidar_poses is None or len(lidar_poses) != len(cameras)):
        raise ValueError(f"a LiDAR needs one pose per camera ({len(cameras)})")
    previous: RenderedFrame | None = None  # waiting for the next frame's depth (correspondences)
    for index in range(first, len(cameras)):
        maps = renderer.render(cameras, index)
        labels, alone_masks = frame_labels_and_alone_masks(renderer, cameras, index, maps, with_instances=boxes)
        frame = RenderedFrame(maps, labels, alone_masks=alone_masks)
        if lidar is not None:
            frame.lidar = renderer.render_lidar(lidar, lidar_poses[index])
        if not correspondences:
            yield frame
            continue
        if previous is not None:
            previous.correspondences = dense_correspondences(
                cameras, index - 1, index, previous.maps.depth_z, maps.depth_z
            )
            yield previous
        previous = frame
    if previous is not None:
        yield previous


def cameras_of(labels: Sequence[FrameLabels], path: Path | None = None) -> Cameras:
    """The cameras of labelled frames (one distortion model), e.g. to render them again;
    `path` is named in the error when their poses are invalid."""
    return Cameras.create(
        c2w=np.stack([f.c2w for f in labels]),
        fx=[f.fx for f in labels],
        fy=[f.fy for f in labels],
        cx=[f.cx for f in labels],
        cy=[f.cy for f in labels],
        width=[f.width for f in labels],
        height=[f.height for f in labels],
        distortion=labels[0].distortion,
        dist_coeffs=np.stack([np.asarray(f.dist_coeffs, dtype=np.float32) for f in labels]),
        path=path,
    )
