"""Labels derived from rendered frames: boxes, poses, masks, occlusion, correspondences.

renderer = GTRenderer(load_scene("scenes/car.yaml"))      # any nerfgen.render.frame.FrameRenderer
maps = renderer.render(cameras, 0)                        # FrameMaps
labels = frame_labels(renderer, cameras, 0, maps)          # FrameLabels (boxes, poses, ...)
uv_b, valid = correspondences(cameras, 0, 1, depth_a, depth_b)
for frame in render_frames(renderer, cameras): ...         # RenderedFrame per camera
"""

from nerfgen.labels.correspondences import (
    DEPTH_TOLERANCE,
    correspondences,
    correspondences_from_weights,
    flow,
    sample_ray_distances,
)
from nerfgen.labels.frames import RenderedFrame, cameras_of, render_frames
from nerfgen.labels.instances import crop_camera, frame_labels, frame_labels_and_alone_masks
from nerfgen.labels.serialize import instance_from_json, instance_to_json, labels_from_json, labels_to_json
from nerfgen.labels.types import BOX_CORNER_SIGNS, FrameLabels, InstanceLabel

__all__ = [
    "BOX_CORNER_SIGNS",
    "DEPTH_TOLERANCE",
    "FrameLabels",
    "InstanceLabel",
    "RenderedFrame",
    "cameras_of",
    "correspondences",
    "correspondences_from_weights",
    "crop_camera",
    "flow",
    "frame_labels",
    "frame_labels_and_alone_masks",
    "instance_from_json",
    "instance_to_json",
    "labels_from_json",
    "labels_to_json",
    "render_frames",
    "sample_ray_distances",
]
