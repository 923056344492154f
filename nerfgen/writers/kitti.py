"""KITTI object-detection layout (KITTI devkit_object readme; mmdetection3d / OpenPCDet read it).

    training/image_2/000000.png   RGB
    training/label_2/000000.txt   one line of 15 fields per object
    training/calib/000000.txt     P0..P3, R0_rect, Tr_velo_to_cam, Tr_imu_to_velo
    training/velodyne/000000.bin  float32 x, y, z, intensity in the LiDAR frame (frames with a LidarScan)
    ImageSets/{train,val,trainval,test}.txt   frame ids per split (all frames live in training/)
    manifest.json

Conventions (the devkit's, as its readme and computeBox3D.m define them):
- Frames. KITTI projects a LiDAR point X by P2 R0_rect Tr_velo_to_cam X and a label
  point Y (rectified camera frame) by P2 Y; its rectified camera is level (y down along
  gravity), which a yaw-only box needs. Our reference camera is the rendering camera
  (OpenCV: x right, y down, z forward); the rectified camera is that camera levelled:
  same centre, z = its viewing direction made horizontal, y = world down (-z), x = y x z.
  So R0_rect = rect-from-camera (the camera's pitch and roll), Tr_velo_to_cam =
  camera-from-LiDAR, and P0 = P1 = P2 = P3 = K [R0_rect^T | 0] (one camera, no stereo
  baseline). A level camera has R0_rect = I and P2 = K [I | 0]; a pitched one (an orbit
  looking down at an object) keeps exact boxes, at the price of a P2 whose left 3x3 is
  K R0_rect^T rather than K: read intrinsics from P2 only when R0_rect = I, or take them
  from K = P2[:, :3] R0_rect. A camera looking straight down is levelled towards its
  image top (as nerfgen.sensors.frames.ground_ego_poses levels the ego frame).
- Pixel coordinates: KITTI (like OpenCV) puts pixel centres at integers, nerfgen at
  +0.5, so every KITTI pixel coordinate is ours - 0.5 (cx, cy in P and the 2D box).
- Object frame: x along the length (heading), y down (height), z along the width. With
  ry the rotation about the rectified camera's y axis, the heading is (cos ry, 0, -sin ry)
  there: ry = 0 faces the camera's +x (driving left to right), ry = +pi/2 faces the
  camera (-z), ry = -pi/2 drives away from it. Our object frame (x length, y width,
  z up) maps to KITTI's as (x, y, z) -> (x, -z, y).
- location = bottom centre of the box in the rectified camera: our box centre + (0, h/2, 0),
  so KITTI's reconstruction (centre = location - (0, h/2, 0)) reproduces our centre
  exactly. KITTI has only a yaw about the rectified y (= world down): the box is exact
  for an upright object (its up axis = world z), whatever the camera's pitch and roll;
  for a tilted object ry is its heading projected onto the horizontal plane.
- alpha = ry - atan2(x, z) (observation angle: equals ry for an object on the optical
  axis), wrapped to [-pi, pi).
- 2D box: our `bbox_visible` (tight box of the visible mask pixels) - 0.5, clipped to
  [0, W-1] x [0, H-1] as KITTI's boxes are. KITTI's own boxes come from 3D labels plus
  annotated left/right boundaries and can span occluded parts; we write the visible
  extent and encode occlusion in `occluded`. Objects with no visible pixel are not listed.
- occluded: from occlusion = 1 - px_visible / px_alone: < 0.01 -> 0 (fully visible),
  < 0.5 -> 1 (partly), otherwise 2 (largely); 3 (unknown) never occurs since we know it.
- truncated: our truncation (fraction of the object's image outside the frame).
- type: KITTI_TYPES below; every other class is 'Misc' (a labelled object KITTI does
  not evaluate; 'DontCare' marks unlabelled regions, which we do not have).
- Tr_velo_to_cam: camera-from-LiDAR of the frame's scan; without a scan, a nominal
  level LiDAR at the camera centre with KITTI's axes (x forward = the rectified z, y left, z up).
  Tr_imu_to_velo = [I | 0] (no IMU).
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np

from nerfgen.labels.types import FrameLabels, InstanceLabel
from nerfgen.render.frame import FrameMaps, LidarScan
from nerfgen.sensors.frames import FORWARD_CAMERA_TO_EGO, ground_ego_poses
from nerfgen.writers.encode import png_bytes, rgb_u8
from nerfgen.writers.info import DatasetInfo
from nerfgen.writers.manifest import MANIFEST_NAME, manifest_bytes
from nerfgen.writers.pinhole import PIXEL_SHIFT, check_pinhole, integer_centre_K
from nerfgen.writers.sink import FileSink

KITTI_TYPES = {
    "car": "Car",
    "van": "Van",
    "truck": "Truck",
    "pedestrian": "Pedestrian",
    "person": "Pedestrian",
    "person_sitting": "Person_sitting",
    "cyclist": "Cyclist",
    "tram": "Tram",
}
OTHER_TYPE = "Misc"
# Upper bounds of occlusion fraction for KITTI occluded levels 0 and 1 (see module doc).
FULLY_VISIBLE_BELOW = 0.01
PARTLY_OCCLUDED_BELOW = 0.5
# rectified-camera-from-LiDAR when a level LiDAR (ego axes: x forward, y left, z up) sits at
# the camera centre: rect x = -lidar y, rect y = -lidar z, rect z = lidar x.
NOMINAL_VELO_TO_RECT = np.linalg.inv(FORWARD_CAMERA_TO_EGO)[:3]


def kitti_type(class_name: str) -> str:
    return KITTI_TYPES.get(class_name.lower(), OTHER_TYPE)


def occlusion_level(occlusion: float) -> int:
    if occlusion < FULLY_VISIBLE_BELOW:
        return 0
    return 1 if occlusion < PARTLY_OCCLUDED_BELOW else 2


def wrap_angle(a: float) -> float:
    """To [-pi, pi)."""
    return (a + math.pi) % (2.0 * math.pi) - math.pi


def rect_from_camera(c2w: np.ndarray) -> np.ndarray:
    """R0_rect [3,3]: the camera's axes -> the levelled camera's (module doc), whose axes are
    those of the level ego frame under the camera (nerfgen.sensors.frames.ground_ego_poses)."""
    c2w = np.asarray(c2w, dtype=np.float64)
    level_to_world = ground_ego_poses(c2w[None])[0] @ FORWARD_CAMERA_TO_EGO
    return level_to_world[:3, :3].T @ c2w[:3, :3]


def kitti_box(instance: InstanceLabel, c2w: np.ndarray) -> tuple[float, float, float, float, float, float, float]:
    """(h, w, l, x, y, z, ry) of KITTI's 3D box: dimensions in metres, location the
    bottom centre in the rectified camera frame, ry the yaw about its y (see module doc)."""
    length, width, height = (float(v) for v in instance.size)
    box_to_cam = np.linalg.inv(c2w) @ instance.box_to_world
    box_to_rect = rect_from_camera(c2w) @ box_to_cam[:3]
    centre = box_to_rect[:, 3]
    heading = box_to_rect[:, 0]  # the object's x (length) axis in the rectified camera
    ry = wrap_angle(math.atan2(-heading[2], heading[0]))
    x, y, z = centre[0], centre[1] + height / 2.0, centre[2]
    return height, width, length, float(x), float(y), float(z), ry


def kitti_label_line(instance: InstanceLabel, labels: FrameLabels) -> str:
    """The 15-field label_2 line of one visible instance."""
    h, w, length, x, y, z, ry = kitti_box(instance, labels.c2w)
    alpha = wrap_angle(ry - math.atan2(x, z))
    x0, y0, x1, y1 = np.asarray(instance.bbox_visible, dtype=np.float64) - PIXEL_SHIFT
    x0, x1 = np.clip([x0, x1], 0.0, labels.width - 1.0)
    y0, y1 = np.clip([y0, y1], 0.0, labels.height - 1.0)
    fields = [
        kitti_type(instance.class_name),
        f"{instance.truncation:.2f}",
        str(occlusion_level(instance.occlusion)),
        f"{alpha:.6f}",
        *(f"{v:.2f}" for v in (x0, y0, x1, y1)),
        *(f"{v:.6f}" for v in (h, w, length, x, y, z, ry)),
    ]
    return " ".join(fields)


def kitti_projection(labels: FrameLabels) -> np.ndarray:
    """P2 [3,4] = K [R0_rect^T | 0]: rectified camera -> pixels, with KITTI's integer pixel
    centres (cx, cy shifted by -0.5)."""
    camera_from_rect = rect_from_camera(labels.c2w).T
    return integer_centre_K(labels) @ np.concatenate([camera_from_rect, np.zeros((3, 1))], axis=1)


def kitti_calib_text(labels: FrameLabels, lidar: LidarScan | None) -> str:
    P = kitti_projection(labels)
    rect = rect_from_camera(labels.c2w)
    if lidar is None:
        velo_to_cam = rect.T @ NOMINAL_VELO_TO_RECT
    else:
        velo_to_cam = (np.linalg.inv(labels.c2w) @ lidar.sensor_to_world)[:3]
    rows = [*((f"P{k}", P) for k in range(4)), ("R0_rect", rect), ("Tr_velo_to_cam", velo_to_cam)]
    rows.append(("Tr_imu_to_velo", np.eye(3, 4)))
    return "".join(f"{name}: " + " ".join(f"{v:.12e}" for v in np.ravel(m)) + "\n" for name, m in rows)


def velodyne_bytes(lidar: LidarScan) -> bytes:
    """KITTI .bin: N x (x, y, z, intensity) little-endian float32."""
    points = np.column_stack([lidar.points_sensor, lidar.intensity]).astype("<f4")
    return points.tobytes()


class KittiWriter:
    """Writes frames in the KITTI object layout (module doc) under `out_root`."""

    def __init__(self, out_root: str | Path, info: DatasetInfo, resume: bool = False):
        self.sink = FileSink(out_root, resume)
        self.info = info
        self.written: list[int] = []

    def write_frame(
        self,
        maps: FrameMaps,
        labels: FrameLabels,
        lidar: LidarScan | None = None,
        alone_masks: dict[int, np.ndarray] | None = None,  # unused: KITTI has no masks
    ) -> None:
        check_pinhole(labels, "KITTI")
        name = f"{labels.index:06d}"
        visible = sorted((i for i in labels.instances if i.bbox_visible is not None), key=lambda i: i.instance_id)
        self.sink.frame_file(f"training/image_2/{name}.png", lambda: png_bytes(rgb_u8(maps.rgb)))
        lines = "".join(kitti_label_line(inst, labels) + "\n" for inst in visible)
        self.sink.frame_file(f"training/label_2/{name}.txt", lambda: lines.encode())
        self.sink.frame_file(f"training/calib/{name}.txt", lambda: kitti_calib_text(labels, lidar).encode())
        if lidar is not None:
            self.sink.frame_file(f"training/velodyne/{name}.bin", lambda: velodyne_bytes(lidar))
        self.written.append(labels.index)

    def finish(self) -> Path:
        splits = self.info.resolved_splits(self.written)
        train, val, test = splits.get("train", []), splits.get("val", []), splits.get("test", [])
        for name, ids in (("train", train), ("val", val), ("trainval", sorted({*train, *val})), ("test", test)):
            self.sink.dataset_file(f"ImageSets/{name}.txt", "".join(f"{i:06d}\n" for i in ids).encode())
        self.sink.dataset_file(MANIFEST_NAME, manifest_bytes(self.sink.root, self.info.seed, list(self.info.command)))
        return self.sink.root
