"""Label records: what `nerfgen.labels` derives from a renderer's frames and writers format.

Renderers fill `nerfgen.render.frame.FrameMaps` per frame; `nerfgen.labels` derives
`FrameLabels` from maps + cameras + instance boxes; writers (KITTI, COCO, BOP,
nerfstudio, PLY) only format these records.
Arrays are numpy; world frame z-up, metres; cameras OpenCV (x right, y down, z forward);
pixel (i, j) has its centre at (i+0.5, j+0.5).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Corner order of every 8-corner box in nerfgen: corner k has object-frame coordinates
# (±size_x/2, ±size_y/2, ±size_z/2) with signs from bits of k: bit 0 -> x, bit 1 -> y,
# bit 2 -> z (0 = minus, 1 = plus). So corners 0-3 are the bottom face (z = -size_z/2).
BOX_CORNER_SIGNS = np.array([[(k >> a) & 1 for a in range(3)] for k in range(8)], dtype=np.float64) * 2.0 - 1.0


@dataclass
class InstanceLabel:
    """One object instance seen from one camera. Boxes and poses are inputs (exact)."""

    instance_id: int
    class_name: str
    class_id: int
    size: np.ndarray  # [3] box extents along the object's x (length), y (width), z (height)
    box_to_world: np.ndarray  # [4,4] box centre + axes in world (rotation = object's)
    obj_to_world: np.ndarray  # [4,4] object pose (its origin need not be the box centre)
    obj_to_cam: np.ndarray  # [4,4] 6-DoF object pose in the camera frame (OpenCV)
    corners_world: np.ndarray  # [8,3] in BOX_CORNER_SIGNS order
    corners_cam: np.ndarray  # [8,3] same corners in the camera frame
    bbox_amodal: np.ndarray | None  # [4] x0,y0,x1,y1 px: projected 3D box clipped to the image; None if not in view
    bbox_visible: (
        np.ndarray | None
    )  # [4] x0,y0,x1,y1 px: tight box of the visible mask pixels (pixel edges); None if none
    px_visible: int  # pixels of this instance in the frame's instance map
    px_alone: int  # pixels of this instance when rendered without any other object
    occlusion: float  # 1 - px_visible / px_alone (0 = fully visible, 1 = fully hidden); 0 when px_alone == 0
    truncation: float  # fraction of the object's (alone) image outside the frame, in [0, 1]


@dataclass
class FrameLabels:
    """Everything known about one frame besides its pixels."""

    index: int
    c2w: np.ndarray  # [4,4] OpenCV camera-to-world
    fx: float
    fy: float
    cx: float
    cy: float
    width: int
    height: int
    distortion: str  # "none" | "opencv" | "fisheye"
    dist_coeffs: np.ndarray  # [K]
    instances: list[InstanceLabel]
