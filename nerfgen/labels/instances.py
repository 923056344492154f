"""Per-frame instance labels: 3D boxes and poses (exact inputs), amodal and visible 2D
boxes, visible and unoccluded pixel counts, occlusion and truncation.

Truncation needs the object's image beyond the frame. The object is rendered alone on
a larger canvas: the same camera (same focal length and distortion) with the image
window moved and resized by whole pixels (principal point shifted), so its pixel
centres coincide with the frame's where they overlap. The window is the object's
projected 3D box, limited to a canvas of 3x the frame size (one frame of margin on
every side); an object reaching beyond that (e.g. passing beside the camera) has its
truncation underestimated. Rendering only the box window keeps small and distant
objects cheap, and objects whose box misses the frame are not rendered at all.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import torch

from nerfgen.cameras import Cameras
from nerfgen.labels.boxes import box_corners, box_to_world, clip_to_image, mask_bbox, projected_extent
from nerfgen.labels.types import FrameLabels, InstanceLabel
from nerfgen.render.frame import FrameMaps, FrameRenderer, SceneInstance

CANVAS_MARGIN = 1.0  # frames of margin on each side of the truncation canvas (3x the frame)


def frame_labels(
    renderer: FrameRenderer, cameras: Cameras, index: int, maps: FrameMaps, with_instances: bool = True
) -> FrameLabels:
    """Labels of camera `index` whose rendered maps are `maps`: the camera, and (with
    `with_instances`) one `InstanceLabel` per scene object, in view or not."""
    return frame_labels_and_alone_masks(renderer, cameras, index, maps, with_instances)[0]


def frame_labels_and_alone_masks(
    renderer: FrameRenderer, cameras: Cameras, index: int, maps: FrameMaps, with_instances: bool = True
) -> tuple[FrameLabels, dict[int, np.ndarray]]:
    """`frame_labels`, and the amodal mask of every instance that covers a pixel of the
    frame when rendered alone: instance id -> [H,W] bool (the alone render in the frame)."""
    c2w = cameras.c2w[index].double().numpy()
    world_to_cam = np.linalg.inv(c2w)
    instances, alone_masks = [], {}
    for obj in renderer.instances() if with_instances else []:
        label, alone = _instance_label(renderer, cameras, index, maps, obj, world_to_cam)
        instances.append(label)
        if label.px_alone > 0:
            alone_masks[label.instance_id] = alone
    labels = FrameLabels(
        index=index,
        c2w=c2w,
        fx=float(cameras.fx[index]),
        fy=float(cameras.fy[index]),
        cx=float(cameras.cx[index]),
        cy=float(cameras.cy[index]),
        width=int(cameras.width[index]),
        height=int(cameras.height[index]),
        distortion=cameras.distortion,
        dist_coeffs=cameras.dist_coeffs[index].double().numpy(),
        instances=instances,
    )
    return labels, alone_masks


def _instance_label(
    renderer: FrameRenderer,
    cameras: Cameras,
    index: int,
    maps: FrameMaps,
    obj: SceneInstance,
    world_to_cam: np.ndarray,  # [4,4]
) -> tuple[InstanceLabel, np.ndarray | None]:
    """The instance's label and its alone mask in the frame ([H,W] bool; None when its box misses the frame)."""
    width, height = int(cameras.width[index]), int(cameras.height[index])
    to_world = box_to_world(obj.center, obj.rotation)
    corners_world = box_corners(obj.size, to_world)
    corners_cam = corners_world @ world_to_cam[:3, :3].T + world_to_cam[:3, 3]
    extent = projected_extent(cameras, index, corners_world, corners_cam[:, 2])
    bbox_amodal = clip_to_image(extent, width, height)
    visible_mask = maps.instance == obj.instance_id
    px_visible = int(visible_mask.sum())
    if bbox_amodal is None:  # nothing of it can be in the frame: skip the alone render
        alone, px_alone, px_canvas = None, 0, 0
    else:
        alone, px_canvas = _alone_render(renderer, cameras, index, obj.instance_id, extent)
        px_alone = int(alone.sum())
    label = InstanceLabel(
        instance_id=obj.instance_id,
        class_name=obj.class_name,
        class_id=obj.class_id,
        size=np.asarray(obj.size, dtype=np.float64).copy(),
        box_to_world=to_world,
        obj_to_world=np.asarray(obj.pose, dtype=np.float64).copy(),
        obj_to_cam=world_to_cam @ obj.pose,
        corners_world=corners_world,
        corners_cam=corners_cam,
        bbox_amodal=bbox_amodal,
        bbox_visible=mask_bbox(visible_mask),
        px_visible=px_visible,
        px_alone=px_alone,
        occlusion=min(1.0, max(0.0, 1.0 - px_visible / px_alone)) if px_alone > 0 else 0.0,
        # An object covering no pixel centre anywhere is "fully out" only if its box is.
        truncation=1.0 - px_alone / px_canvas if px_canvas > 0 else float(bbox_amodal is None),
    )
    return label, alone


def _alone_render(
    renderer: FrameRenderer,
    cameras: Cameras,
    index: int,
    instance_id: int,
    extent: np.ndarray,  # [4] unclipped projected box
) -> tuple[np.ndarray, int]:
    """(the object's mask rendered alone, in the frame: [H,W] bool; its pixel count on the whole canvas)."""
    width, height = int(cameras.width[index]), int(cameras.height[index])
    margin_x, margin_y = math.ceil(CANVAS_MARGIN * width), math.ceil(CANVAS_MARGIN * height)
    # Whole pixels around the extent (one extra: rasterisation at the silhouette), on the canvas.
    x0 = max(-margin_x, math.floor(extent[0]) - 1)
    y0 = max(-margin_y, math.floor(extent[1]) - 1)
    x1 = min(width + margin_x, math.ceil(extent[2]) + 1)
    y1 = min(height + margin_y, math.ceil(extent[3]) + 1)
    window = crop_camera(cameras, index, x0, y0, x1 - x0, y1 - y0)
    alone = renderer.render(window, 0, only_instance=instance_id).instance == instance_id
    in_frame = np.zeros((height, width), dtype=bool)
    rows, cols = slice(max(0, y0), min(height, y1)), slice(max(0, x0), min(width, x1))
    in_frame[rows, cols] = alone[rows.start - y0 : rows.stop - y0, cols.start - x0 : cols.stop - x0]
    return in_frame, int(alone.sum())


def crop_camera(cameras: Cameras, index: int, x0: int, y0: int, width: int, height: int) -> Cameras:
    """Camera `index` looking through the image window [x0, x0+width) x [y0, y0+height)
    (whole pixels, may extend beyond the image): its pixel (i, j) is the original's
    pixel (x0+i, y0+j). One camera (C = 1)."""
    cam = cameras[index]
    return dataclasses.replace(
        cam,
        cx=cam.cx - x0,
        cy=cam.cy - y0,
        width=torch.tensor([width]),
        height=torch.tensor([height]),
    )
